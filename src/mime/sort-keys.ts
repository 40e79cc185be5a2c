// What SORT (RFC 5256 3, RFC 5957) and THREAD (RFC 5256 4) compare, computed once per message when
// its MIME cache is built and stored with it (MessageCache.sort), so that a SORT or THREAD over a big
// mailbox reads a small record per message instead of parsing every message. Pure.
// Strings are already case-mapped (i;unicode-casemap, which is i;ascii-casemap, the comparator RFC
// 5256 names, for ASCII), so comparing two keys is a plain string comparison. Short property names: this is stored for every message.
import { isGroup, parseAddressList, type AddressEntry } from './address.js';
import { unicodeCasemap, baseSubject } from './base-subject.js';
import { decodeEncodedWords } from './encoded-word.js';
import { unfold, type HeaderField } from './header-fields.js';
import { MAX_REFERENCES } from './limits.js';
import { parseMessageDate } from './message-date.js';

export interface SortKeys {
  /** Sent date (RFC 5256 2.2), ms since the epoch UTC; absent when the Date field is missing or
   * invalid (the INTERNALDATE is used then, known only to the mailbox). */
  d?: number;
  /** Base subject (RFC 5256 2.1), case-mapped; absent when empty. */
  s?: string;
  /** 1 when the subject was a reply or forward (RFC 5256 2.1, used by THREAD=REFERENCES step 5). */
  r?: 1;
  /** addr-mailbox of the first From, To and Cc address (RFC 5256 3), case-mapped. */
  f?: string;
  t?: string;
  c?: string;
  /** RFC 5957 2: display name of the first From / To address, else its addr-spec, case-mapped. */
  df?: string;
  dt?: string;
  /** Message-ID without its angle brackets (RFC 5256 4); absent when missing or invalid. */
  m?: string;
  /** The parent chain: the Message-IDs of References, else the first of In-Reply-To (RFC 5256 4). */
  p?: string[];
}

/** RFC 5322 3.6.4 msg-id values in order, without angle brackets; comments and junk between skipped. */
export function messageIds(value: string): string[] {
  const out: string[] = [];
  const v = value.includes('(') ? value.replace(/\([^()]*\)/g, ' ') : value;
  const re = /<([^<>]*)>/g;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    // Folding whitespace inside the brackets is not part of the id (RFC 5322 3.6.4 obs-id-left).
    const id = m[1]!.replace(/[\s]+/g, '');
    const at = id.lastIndexOf('@');
    if (at > 0 && at < id.length - 1) out.push(id);
  }
  return out;
}

function firstMailbox(list: AddressEntry[]): { local: string; addr: string; name: string | null } | null {
  const e = list[0];
  if (!e) return null;
  // A group's first address (RFC 9051 7.5.2) is its start marker, whose mailbox is the group name.
  if (isGroup(e)) return { local: e.group, addr: e.group, name: null };
  const local = e.local.includes('"') ? e.local.replace(/"((?:[^"\\]|\\.)*)"?/g, (_, q: string) => q.replace(/\\(.)/g, '$1')) : e.local;
  return { local, addr: e.domain === null ? local : `${local}@${e.domain}`, name: e.name };
}

/** The sort keys of a message from its top-level header fields. Never throws. */
export function sortKeys(buf: Buffer, fields: readonly HeaderField[]): SortKeys {
  const first = new Map<string, string>();
  for (const f of fields) {
    // 8-bit bytes that are not UTF-8 become U+FFFD: no charset is named, so none is guessed (as
    // Dovecot; envelope.ts passes such bytes on unchanged for the same reason).
    if (!first.has(f.name) && WANTED.has(f.name)) first.set(f.name, unfold(buf.toString('utf8', f.valueStart, f.end)).trim());
  }
  const k: SortKeys = {};
  const date = first.get('date');
  if (date !== undefined) {
    const d = parseMessageDate(date);
    if (d !== null) k.d = d;
  }
  const subject = first.get('subject');
  if (subject !== undefined) {
    const b = baseSubject(subject);
    if (b.base) k.s = unicodeCasemap(b.base);
    if (b.replyOrForward) k.r = 1;
  }
  for (const [field, key, display] of [['from', 'f', 'df'], ['to', 't', 'dt'], ['cc', 'c', null]] as const) {
    const v = first.get(field);
    if (v === undefined) continue;
    let a: ReturnType<typeof firstMailbox> = null;
    try {
      a = firstMailbox(parseAddressList(v));
    } catch {
      a = null;
    }
    if (!a) continue;
    if (a.local) k[key] = unicodeCasemap(a.local);
    if (display) {
      const name = a.name ? decodeEncodedWords(a.name).replace(/\s+/g, ' ').trim() : '';
      const shown = name || a.addr;
      if (shown) k[display] = unicodeCasemap(shown);
    }
  }
  const id = first.get('message-id');
  if (id !== undefined) {
    const ids = messageIds(id);
    if (ids.length) k.m = ids[0]!;
  }
  const refs = first.get('references');
  let parents = refs !== undefined ? messageIds(refs) : [];
  if (!parents.length) {
    const irt = first.get('in-reply-to');
    const ids = irt !== undefined ? messageIds(irt) : [];
    if (ids.length) parents = [ids[0]!];
  }
  if (parents.length) k.p = parents.length > MAX_REFERENCES ? parents.slice(-MAX_REFERENCES) : parents;
  return k;
}

const WANTED = new Set(['date', 'subject', 'from', 'to', 'cc', 'message-id', 'references', 'in-reply-to']);
