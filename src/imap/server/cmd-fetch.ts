// FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; BINARY RFC 3516; CONDSTORE/QRESYNC RFC 7162 3.1.4,
// 3.2.6; SAVEDATE RFC 8514; PREVIEW RFC 8970).
import { binarySize, decodePartContent, getSection, partial, resolvePart, UnknownTransferEncodingError } from '../../mime/index.js';
import { formatDateTime } from '../proto/date-time.js';
import type { ResponseBuilder } from '../proto/response-writer.js';
import { formatNumberSet, inRanges } from '../proto/sequence-set.js';
import type { Command, CommandOf, FetchAtt, SectionSpec } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';
import type { ViewMessage } from './mailbox-view.js';
import { expungeIssued, isExpungeIssued, MessageLoader } from './message-loader.js';

const BATCH = 100;

type FetchCmd = CommandOf<'FETCH'>;

function needsContent(a: FetchAtt): boolean {
  if (a.kind === 'body' || a.kind === 'binary' || a.kind === 'binary.size') return true;
  return a.kind === 'simple' && (a.name === 'RFC822' || a.name === 'RFC822.HEADER' || a.name === 'RFC822.TEXT');
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
  if (s.fields) label += ` (${s.fields.map((f) => (/^[\x21-\x7e]+$/.test(f) && !/[(){%*"\\\]]/.test(f) ? f : JSON.stringify(f))).join(' ')})`;
  return label;
}

export async function handleFetch(conn: ImapConnection, cmd: FetchCmd): Promise<void> {
  const view = conn.view!;
  const store = conn.ctx.store;
  let uids = view.resolve(cmd.set, cmd.uid);
  const items = [...cmd.items];
  const has = (n: string): boolean => items.some((a) => a.kind === 'simple' && a.name === n);
  // RFC 7162 3.1: MODSEQ or CHANGEDSINCE turn CONDSTORE on for the session.
  if (cmd.changedSince !== null || has('MODSEQ')) conn.condstore = true;
  if (cmd.changedSince !== null) {
    if (!has('MODSEQ')) items.push({ kind: 'simple', name: 'MODSEQ' });
    uids = uids.filter((u) => view.messages.get(u)!.modseq > cmd.changedSince!);
  }
  if (cmd.uid && !has('UID')) items.unshift({ kind: 'simple', name: 'UID' });
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
  const wantCache = items.some(needsCache);
  const wantContent = items.some(needsContent);
  let gone = false;
  for (let i = 0; i < uids.length && !conn.closed; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    if (wantCache) await loader.prefetch(batch);
    for (const uid of batch) {
      const m = view.messages.get(uid);
      if (!m || conn.closed) continue;
      const b = conn.builder().text(`* ${view.msn(uid)} FETCH (`);
      try {
        await writeItems(conn, b, m, items, loader, wantContent, seenNow.has(uid));
      } catch (err) {
        // Expunged meanwhile by another session: the others are still sent, then NO (RFC 9051 7.5.1).
        if (!isExpungeIssued(err)) throw err;
        gone = true;
        continue;
      }
      await conn.send(b.text(')\r\n').toBuffer());
    }
    loader.release(batch);
  }
  if (gone) throw expungeIssued();
}

async function writeItems(
  conn: ImapConnection,
  b: ResponseBuilder,
  m: ViewMessage,
  items: FetchAtt[],
  loader: MessageLoader,
  wantContent: boolean,
  seenNow: boolean,
): Promise<void> {
  const content = wantContent ? await loader.content(m) : undefined;
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
          sep().text(`FLAGS ${conn.flagList(m.flags)}`);
          break;
        case 'UID':
          sep().text(`UID ${m.uid}`);
          break;
        case 'MODSEQ':
          if (modseqDone) break;
          modseqDone = true;
          sep().text(`MODSEQ (${m.modseq})`);
          break;
        case 'INTERNALDATE':
          sep().text(`INTERNALDATE "${formatDateTime(m.internalDate)}"`);
          break;
        case 'SAVEDATE':
          sep().text(`SAVEDATE "${formatDateTime(m.saveDate)}"`);
          break;
        case 'RFC822.SIZE':
          sep().text(`RFC822.SIZE ${m.size}`);
          break;
        case 'ENVELOPE':
          sep().text('ENVELOPE ').value((await loader.cache(m, content)).envelope);
          break;
        case 'BODY':
          sep().text('BODY ').value((await loader.cache(m, content)).body);
          break;
        case 'BODYSTRUCTURE':
          sep().text('BODYSTRUCTURE ').value((await loader.cache(m, content)).bodystructure);
          break;
        case 'RFC822':
          sep().text('RFC822 ').literal(content!);
          break;
        case 'RFC822.HEADER':
        case 'RFC822.TEXT': {
          const c = await loader.cache(m, content);
          const data = getSection(content!, c.part, { part: [], text: a.name === 'RFC822.HEADER' ? 'HEADER' : 'TEXT' });
          sep().text(`${a.name} `).literal(data);
          break;
        }
      }
    } else if (a.kind === 'body') {
      const c = await loader.cache(m, content);
      let data = getSection(content!, c.part, a.section);
      let label = `BODY[${sectionLabel(a.section)}]`;
      if (a.partial) {
        data = partial(data, a.partial.start, a.partial.count);
        label += `<${a.partial.start}>`;
      }
      sep().text(label + ' ').literal(data);
    } else if (a.kind === 'binary' || a.kind === 'binary.size') {
      const c = await loader.cache(m, content);
      const part = a.part.length ? resolvePart(c.part, a.part) : c.part;
      if (!part) throw no('NONEXISTENT', `no part ${a.part.join('.')}`);
      try {
        if (a.kind === 'binary.size') {
          sep().text(`BINARY.SIZE[${a.part.join('.')}] ${binarySize(content!, part)}`);
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
  if (seenNow && !flagsDone) sep().text(`FLAGS ${conn.flagList(m.flags)}`);
  if (conn.condstore && !modseqDone && (seenNow || flagsDone)) sep().text(`MODSEQ (${m.modseq})`);
}
