// FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; BINARY RFC 3516; CONDSTORE/QRESYNC RFC 7162 3.1.4,
// 3.2.6; SAVEDATE RFC 8514; PREVIEW RFC 8970).
import { binarySize, decodePartContent, getSection, partial, resolvePart, UnknownTransferEncodingError, withoutNul, type MimePart } from '../../mime/index.js';
import { formatDateTime } from '../proto/date-time.js';
import { OutputBatch, type ResponseBuilder } from '../proto/response-writer.js';
import { renderedItem } from './fetch-rendered.js';
import { formatNumberSet, inRanges } from '../proto/sequence-set.js';
import type { Command, CommandOf, FetchAtt, SectionSpec } from '../proto/types.js';
import { enableCondstore } from './condstore.js';
import { fetchHead } from './uidonly.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { expungeIssued, isExpungeIssued, MessageLoader, ReadAhead, Yielder } from './message-loader.js';

const BATCH = 100;

type FetchCmd = CommandOf<'FETCH'>;

/** BINARY[]<partial> and BINARY.SIZE[] (RFC 3516 4.2: the message as stored): a range read and the
 * stored size serve them, without the whole content or its structure. */
function wholeBinary(a: FetchAtt): boolean {
  if (a.kind !== 'binary' && a.kind !== 'binary.size') return false;
  return a.part.length === 0 && a.section === null && (a.kind === 'binary.size' || a.partial !== null);
}

function needsContent(a: FetchAtt): boolean {
  if (wholeBinary(a)) return false;
  if (a.kind === 'body' || a.kind === 'binary' || a.kind === 'binary.size') return true;
  return a.kind === 'simple' && (a.name === 'RFC822' || a.name === 'RFC822.HEADER' || a.name === 'RFC822.TEXT');
}

/** Items answered from the mailbox view alone (no file, no cache). */
const META = new Set(['FLAGS', 'UID', 'MODSEQ', 'INTERNALDATE', 'SAVEDATE', 'RFC822.SIZE']);

function isMeta(a: FetchAtt): boolean {
  return a.kind === 'simple' && META.has(a.name);
}

function needsCache(a: FetchAtt): boolean {
  if (a.kind === 'preview') return true;
  return a.kind === 'simple' && (a.name === 'ENVELOPE' || a.name === 'BODY' || a.name === 'BODYSTRUCTURE');
}

/** Items that set \Seen (RFC 9051 6.4.5: BODY[...] and BINARY[...] without .PEEK, RFC822, RFC822.TEXT). */
function setsSeen(a: FetchAtt): boolean {
  if (a.kind === 'body' || a.kind === 'binary') return !a.peek;
  return a.kind === 'simple' && (a.name === 'RFC822' || a.name === 'RFC822.TEXT');
}

function sectionLabel(s: SectionSpec): string {
  const parts: string[] = [];
  if (s.part.length) parts.push(s.part.join('.'));
  if (s.text) parts.push(s.text);
  let label = parts.join('.');
  // An atom NIL would read as nil: quoted, as any name that is not an atom.
  if (s.fields) label += ` (${s.fields.map((f) => (/^[\x21-\x7e]+$/.test(f) && !/[(){%*"\\\]]/.test(f) && f.toUpperCase() !== 'NIL' ? f : JSON.stringify(f))).join(' ')})`;
  return label;
}

export async function handleFetch(conn: ImapConnection, cmd: FetchCmd): Promise<void> {
  const view = conn.view!;
  const store = conn.ctx.store;
  let uids = view.resolve(cmd.set, cmd.uid);
  const items = [...cmd.items];
  const has = (n: string): boolean => items.some((a) => a.kind === 'simple' && a.name === n);
  // RFC 7162 3.1: MODSEQ or CHANGEDSINCE turn CONDSTORE on for the session.
  if (cmd.changedSince !== null || has('MODSEQ')) await enableCondstore(conn);
  if (cmd.changedSince !== null) {
    if (!has('MODSEQ')) items.push({ kind: 'simple', name: 'MODSEQ' });
    uids = uids.filter((u) => view.messages.get(u)!.modseq > cmd.changedSince!);
  }
  // RFC 9586 3.3: with UIDONLY the UID leads the UIDFETCH response; the item only when asked for.
  if (cmd.uid && !has('UID') && !conn.uidOnly) items.unshift({ kind: 'simple', name: 'UID' });
  if (cmd.vanished && cmd.changedSince !== null && cmd.set.kind === 'ranges') {
    // RFC 7162 3.2.6: VANISHED (EARLIER) for expunged UIDs in the set.
    const ranges = cmd.set.ranges;
    const max = view.uids.length ? view.uids[view.uids.length - 1]! : 0;
    const gone = (await store.expungedSince(view.mailbox.id, cmd.changedSince)).filter((u) => inRanges(ranges, u, Math.max(max, u)));
    if (gone.length) await conn.untagged(`VANISHED (EARLIER) ${formatNumberSet(gone)}`);
  }

  // \Seen first, in one transaction, so that the FETCH responses show the new flags.
  const seenNow = new Set<number>();
  if (!view.readOnly && items.some(setsSeen)) {
    const unseen = uids.filter((u) => !view.messages.get(u)!.flags.includes('\\Seen'));
    if (unseen.length) {
      const r = await store.storeFlags(conn.identity!.accountId, view.mailbox.id, unseen, 'add', ['\\Seen']);
      for (const up of r.updated) {
        view.applyFlags(up.uid, up.flags, up.modseq);
        seenNow.add(up.uid);
      }
    }
  }

  const loader = new MessageLoader(store, view.mailbox.id);
  const wantContent = items.some(needsContent);
  // Sections, RFC822.* and BINARY parts are cut along the parse tree, which the cache holds: taken
  // from it (stored or kept by the process), not parsed again from the content.
  const wantCache = wantContent || items.some(needsCache);
  const out = new OutputBatch((data) => conn.send(data));
  let gone = false;
  const yielder = new Yielder();
  try {
    if (items.every(isMeta)) {
      // Metadata only (FETCH 1:* (FLAGS) and the like): lines encoded straight into large buffers
      // from the view, nothing allocated per message for the common items.
      const enc = new MetaEncoder(conn, view, items);
      const walk: MetaWalk = { next: 0, k: 0 };
      while (walk.next < uids.length && !conn.closed) {
        // A buffer's worth at a time, in a plain function: V8 optimizes its loop at once, where the
        // same loop in this async function would run unoptimized through a whole first FETCH.
        encodeMetaLines(enc, view, uids, seenNow, walk);
        if (enc.size) {
          out.addBuffer(enc.take());
          await out.flush();
        }
        const y = yielder.tick(META_LINES_PER_TICK);
        if (y) await y;
      }
      return;
    }
    const ahead = wantContent ? new ReadAhead(loader, uids.map((u) => view.messages.get(u))) : null;
    for (let i = 0; i < uids.length && !conn.closed; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      if (wantCache) await loader.prefetch(batch.map((u) => view.messages.get(u)));
      for (let j = 0; j < batch.length; j++) {
        const uid = batch[j]!;
        const m = view.messages.get(uid);
        if (!m || conn.closed) continue;
        ahead?.at(i + j);
        const b = conn.builder().text(`* ${fetchHead(conn.uidOnly, view.msn(uid), uid)} (`);
        try {
          await writeItems(conn, view, b, m, items, loader, wantContent, seenNow.has(uid));
        } catch (err) {
          // Expunged meanwhile by another session: the others are still sent, then NO (RFC 9051 7.5.1).
          if (!isExpungeIssued(err)) throw err;
          gone = true;
          continue;
        } finally {
          ahead?.done(i + j);
        }
        const w = out.addBuffer(b.text(')\r\n').toBuffer());
        if (w) await w;
        const y = yielder.tick();
        if (y) await y;
      }
      loader.release(batch);
    }
  } finally {
    await out.end();
  }
  if (gone) throw expungeIssued();
}

const META_BUF = 128 * 1024;
interface MetaWalk {
  next: number;
  k: number;
  inOrder?: Iterator<ViewMessage> | null;
}

const FETCH_OPEN = Buffer.from(' FETCH (', 'latin1');
const UIDFETCH_OPEN = Buffer.from(' UIDFETCH (', 'latin1');
const UID_SP = Buffer.from('UID ', 'latin1');

/** What one buffer holds, roughly (40-byte lines), as the yielder counts messages. */
const META_LINES_PER_TICK = 3000;

/**
 * Encodes the lines of `uids` from `walk.next` on until the encoder's buffer is about full.
 * `walk.k` follows the position in view.uids: uids ascend, so the sequence number is found by
 * walking along.
 */
function encodeMetaLines(enc: MetaEncoder, view: MailboxView, uids: number[], seenNow: Set<number>, walk: MetaWalk): void {
  const all = view.uids;
  const anySeen = seenNow.size > 0;
  // Every message (1:*): the view's map holds them in UID order (loaded so, appended with rising
  // UIDs), so they are read in turn instead of looked up one by one, 100,000s of random accesses.
  if (walk.inOrder === undefined) walk.inOrder = uids.length === all.length ? view.messages.values() : null;
  let k = walk.k;
  let i = walk.next;
  while (i < uids.length) {
    const uid = uids[i++]!;
    let m: ViewMessage | undefined;
    if (walk.inOrder) {
      m = walk.inOrder.next().value as ViewMessage | undefined;
      if (m?.uid !== uid) {
        walk.inOrder = null;
        m = view.messages.get(uid);
      }
    } else {
      m = view.messages.get(uid);
    }
    if (!m) continue;
    while (k < all.length && all[k]! < uid) k++;
    const msn = all[k] === uid ? k + 1 : view.msn(uid);
    if (enc.line(enc.uidOnly ? uid : msn, m, anySeen && seenNow.has(uid))) break;
  }
  walk.next = i;
  walk.k = k;
}

type MetaOp = 'uid' | 'flags' | 'modseq' | 'INTERNALDATE' | 'SAVEDATE' | 'RFC822.SIZE';

/**
 * Encodes the FETCH lines of a metadata-only FETCH (as writeItems would write them) into a buffer:
 * numbers digit by digit, flag lists as bytes built once per distinct list (messages with the same
 * flags share one list, see mailbox-view.ts).
 */
class MetaEncoder {
  private buf = Buffer.allocUnsafe(META_BUF);
  size = 0;
  private readonly ops: MetaOp[] = [];
  private readonly hasFlags: boolean;
  private readonly hasModseq: boolean;
  private readonly condstore: boolean;
  private readonly flagBytes = new Map<string[], Buffer>();

  private readonly rev2: boolean;
  /** RFC 9586 3.3: lines are `uid UIDFETCH (...)`. */
  readonly uidOnly: boolean;

  constructor(
    private readonly conn: ImapConnection,
    private readonly view: MailboxView,
    items: FetchAtt[],
  ) {
    this.rev2 = conn.rev2;
    this.uidOnly = conn.uidOnly;
    for (const a of items) {
      if (a.kind !== 'simple') continue;
      if (a.name === 'FLAGS') {
        if (!this.ops.includes('flags')) this.ops.push('flags');
      } else if (a.name === 'MODSEQ') {
        if (!this.ops.includes('modseq')) this.ops.push('modseq');
      } else if (a.name === 'UID') this.ops.push('uid');
      else if (META.has(a.name)) this.ops.push(a.name as MetaOp);
    }
    this.hasFlags = this.ops.includes('flags');
    this.hasModseq = this.ops.includes('modseq');
    this.condstore = conn.condstore;
  }

  private flags(f: string[]): Buffer {
    let b = this.flagBytes.get(f);
    if (!b) {
      b = Buffer.from(`FLAGS ${this.conn.flagList(f)}`, 'utf8');
      if (this.flagBytes.size < 4096) this.flagBytes.set(f, b);
    }
    return b;
  }

  private ascii(s: string): void {
    this.size += this.buf.write(s, this.size, 'latin1');
  }

  /** A short constant: byte by byte, cheaper than a native call per line. */
  private constant(b: Uint8Array): void {
    const buf = this.buf;
    let o = this.size;
    for (let j = 0; j < b.length; j++) buf[o++] = b[j]!;
    this.size = o;
  }

  private bytes(b: Buffer): void {
    if (b.length <= 32) return this.constant(b);
    b.copy(this.buf, this.size);
    this.size += b.length;
  }

  private num(n: number): void {
    if (n < 10) {
      this.buf[this.size++] = 48 + n;
      return;
    }
    if (n > 0xffffffffffff) return this.ascii(String(n));
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.size + digits;
    this.size = p;
    for (let x = n; ; ) {
      const q = Math.floor(x / 10);
      this.buf[--p] = 48 + (x - q * 10);
      if (q === 0) break;
      x = q;
    }
  }

  private sep(first: boolean): void {
    if (!first) this.buf[this.size++] = 0x20;
  }

  /** Adds one line; true when the buffer should be taken (about full). */
  line(num: number, m: ViewMessage, seenNow: boolean): boolean {
    const fl = this.hasFlags || seenNow ? this.flags(this.view.shownFlags(m, this.rev2)) : null;
    // Room for the fixed parts; flag lists and dates are bounded by what flags() and formatDateTime give.
    const room = 256 + (fl ? fl.length : 0);
    if (this.size + room > this.buf.length) this.grow(room);
    this.buf[this.size++] = 0x2a; // "* "
    this.buf[this.size++] = 0x20;
    this.num(num);
    this.constant(this.uidOnly ? UIDFETCH_OPEN : FETCH_OPEN);
    let first = true;
    for (const op of this.ops) {
      this.sep(first);
      first = false;
      switch (op) {
        case 'uid':
          this.constant(UID_SP);
          this.num(m.uid);
          break;
        case 'flags':
          this.bytes(fl!);
          break;
        case 'modseq':
          this.ascii('MODSEQ (');
          this.num(m.modseq);
          this.buf[this.size++] = 0x29;
          break;
        default:
          this.ascii(metaItem(m, op)!);
      }
    }
    // RFC 9051 6.4.5: when \Seen was set, FLAGS is included; RFC 7162 3.1.4: MODSEQ with CONDSTORE.
    if (seenNow && !this.hasFlags) {
      this.sep(first);
      first = false;
      this.bytes(fl!);
    }
    if (this.condstore && !this.hasModseq && (seenNow || this.hasFlags)) {
      this.sep(first);
      first = false;
      this.ascii('MODSEQ (');
      this.num(m.modseq);
      this.buf[this.size++] = 0x29;
    }
    this.buf[this.size++] = 0x29; // ")\r\n"
    this.buf[this.size++] = 0x0d;
    this.buf[this.size++] = 0x0a;
    return this.size > META_BUF - 4096;
  }

  private grow(need: number): void {
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.size + need + 1024));
    this.buf.copy(b, 0, 0, this.size);
    this.buf = b;
  }

  /** The lines so far; the encoder starts a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.size);
    this.buf = Buffer.allocUnsafe(META_BUF);
    this.size = 0;
    return out;
  }
}

/** UID, INTERNALDATE, SAVEDATE, RFC822.SIZE. */
function metaItem(m: ViewMessage, name: string): string | null {
  switch (name) {
    case 'UID':
      return `UID ${m.uid}`;
    case 'INTERNALDATE':
      return `INTERNALDATE "${formatDateTime(m.internalDate)}"`;
    case 'SAVEDATE':
      return `SAVEDATE "${formatDateTime(m.saveDate)}"`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${m.size}`;
  }
  return null;
}

async function writeItems(
  conn: ImapConnection,
  view: MailboxView,
  b: ResponseBuilder,
  m: ViewMessage,
  items: FetchAtt[],
  loader: MessageLoader,
  wantContent: boolean,
  seenNow: boolean,
): Promise<void> {
  const content = wantContent ? await loader.content(m) : undefined;
  // What BODY[...] and RFC822* serve: the stored bytes, with any NUL (which no plain literal may
  // carry, RFC 9051 4.3) as 0x80, octet for octet, so that RFC822.SIZE and BODYSTRUCTURE, which
  // describe the stored bytes, describe these too (mime/nul-free.ts).
  let served: { buf: Buffer; part: MimePart } | null = null;
  const servedForm = async (): Promise<{ buf: Buffer; part: MimePart }> => {
    served ??= { buf: withoutNul(content!), part: (await loader.cache(m, content)).part };
    return served;
  };
  let first = true;
  const sep = (): ResponseBuilder => {
    if (!first) b.text(' ');
    first = false;
    return b;
  };
  let flagsDone = false;
  let modseqDone = false;
  for (const a of items) {
    if (a.kind === 'simple') {
      switch (a.name) {
        case 'FLAGS':
          if (flagsDone) break;
          flagsDone = true;
          sep().text(`FLAGS ${conn.flagList(view.shownFlags(m, conn.rev2))}`);
          break;
        case 'UID':
        case 'INTERNALDATE':
        case 'SAVEDATE':
        case 'RFC822.SIZE':
          sep().text(metaItem(m, a.name)!);
          break;
        case 'MODSEQ':
          if (modseqDone) break;
          modseqDone = true;
          sep().text(`MODSEQ (${m.modseq})`);
          break;
        case 'ENVELOPE':
          sep().text('ENVELOPE ').bytes(renderedItem(await loader.cache(m, content), 'envelope', b.acceptsUtf8));
          break;
        case 'BODY':
          sep().text('BODY ').bytes(renderedItem(await loader.cache(m, content), 'body', b.acceptsUtf8));
          break;
        case 'BODYSTRUCTURE':
          sep().text('BODYSTRUCTURE ').bytes(renderedItem(await loader.cache(m, content), 'bodystructure', b.acceptsUtf8));
          break;
        case 'RFC822':
          sep().text('RFC822 ').literal((await servedForm()).buf);
          break;
        case 'RFC822.HEADER':
        case 'RFC822.TEXT': {
          const s = await servedForm();
          const data = getSection(s.buf, s.part, { part: [], text: a.name === 'RFC822.HEADER' ? 'HEADER' : 'TEXT' });
          sep().text(`${a.name} `).literal(data);
          break;
        }
      }
    } else if (a.kind === 'body') {
      const s = await servedForm();
      let data = getSection(s.buf, s.part, a.section);
      let label = `BODY[${sectionLabel(a.section)}]`;
      if (a.partial) {
        data = partial(data, a.partial.start, a.partial.count);
        label += `<${a.partial.start}>`;
      }
      sep().text(label + ' ').literal(data);
    } else if ((a.kind === 'binary' || a.kind === 'binary.size') && wholeBinary(a)) {
      if (a.kind === 'binary.size') sep().text(`BINARY.SIZE[] ${m.size}`);
      else if (a.partial) {
        const data = await loader.range(m, a.partial.start, a.partial.count ?? Math.max(0, m.size - a.partial.start));
        sep().text(`BINARY[]<${a.partial.start}> `).literal(data, data.includes(0));
      }
    } else if ((a.kind === 'binary' || a.kind === 'binary.size') && a.section) {
      // A header, a MIME header or a text (as Dovecot takes them, parse-fetch.ts): nothing to decode,
      // the stored octets, in literal8 when they hold NUL.
      let data = getSection(content!, (await loader.cache(m, content)).part, a.section);
      const label = sectionLabel(a.section);
      if (a.kind === 'binary.size') sep().text(`BINARY.SIZE[${label}] ${data.length}`);
      else {
        let head = `BINARY[${label}]`;
        if (a.partial) {
          data = partial(data, a.partial.start, a.partial.count);
          head += `<${a.partial.start}>`;
        }
        sep().text(head + ' ').literal(data, data.includes(0));
      }
    } else if (a.kind === 'binary' || a.kind === 'binary.size') {
      const c = await loader.cache(m, content);
      const part = a.part.length ? resolvePart(c.part, a.part) : c.part;
      if (!part) throw no('NONEXISTENT', `no part ${a.part.join('.')}`);
      try {
        if (a.kind === 'binary.size') {
          // RFC 3516 4.2: BINARY[] is the whole message as stored, so is its size.
          const size = a.part.length ? binarySize(content!, part) : content!.length;
          sep().text(`BINARY.SIZE[${a.part.join('.')}] ${size}`);
        } else {
          // RFC 3516 4.2: the whole message for BINARY[] is sent as is.
          let data = a.part.length ? decodePartContent(content!, part) : content!;
          let label = `BINARY[${a.part.join('.')}]`;
          if (a.partial) {
            data = partial(data, a.partial.start, a.partial.count);
            label += `<${a.partial.start}>`;
          }
          sep().text(label + ' ').literal(data, data.includes(0));
        }
      } catch (err) {
        if (err instanceof UnknownTransferEncodingError) throw no('UNKNOWN-CTE', 'unknown content-transfer-encoding');
        throw err;
      }
    } else if (a.kind === 'preview') {
      const p = (await loader.cache(m, content)).preview;
      sep().text('PREVIEW ').nstring(p || null);
    }
  }
  // RFC 9051 6.4.5: when \Seen was set, FLAGS is included; RFC 7162 3.1.4: MODSEQ with CONDSTORE.
  if (seenNow && !flagsDone) sep().text(`FLAGS ${conn.flagList(view.shownFlags(m, conn.rev2))}`);
  if (conn.condstore && !modseqDone && (seenNow || flagsDone)) sep().text(`MODSEQ (${m.modseq})`);
}
