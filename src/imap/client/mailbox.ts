// Mailbox-level results: SELECT/EXAMINE, LIST, STATUS (RFC 9051 6.3, 7.2-7.3; RFC 5258, 6154, 7162).

import { decodeMutf7 } from '../proto/mutf7.js';
import { bigNumberOf, isAtom, listOf, nstring, numberOf, valueText, type DataResponse, type Value } from './response.js';

export interface SelectedMailbox {
  name: string;
  readOnly: boolean;
  exists: number;
  /** RFC 3501 RECENT (IMAP4rev1 servers only). */
  recent?: number;
  uidValidity?: number;
  uidNext?: number;
  flags: string[];
  permanentFlags: string[];
  /** RFC 7162 HIGHESTMODSEQ; absent with NOMODSEQ or without CONDSTORE. */
  highestModseq?: bigint;
  /** RFC 7162 3.1.2.2 NOMODSEQ: the mailbox does not keep mod-sequences. */
  noModseq?: boolean;
  /** RFC 3501 UNSEEN: the first unseen message's sequence number (IMAP4rev1). */
  firstUnseen?: number;
}

export interface MailboxStatus {
  messages?: number;
  recent?: number;
  uidNext?: number;
  uidValidity?: number;
  unseen?: number;
  deleted?: number;
  /** RFC 9051 STATUS SIZE: total octets. */
  size?: number;
  highestModseq?: bigint;
}

export type StatusItem = 'MESSAGES' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'DELETED' | 'SIZE' | 'HIGHESTMODSEQ' | 'RECENT';

export interface ListEntry {
  /** Decoded name (modified UTF-7 undone unless UTF-8 names are in use). */
  name: string;
  /** The hierarchy delimiter, or null for a flat namespace. */
  delimiter: string | null;
  /** Attributes as sent, e.g. `\HasNoChildren`, `\Sent` (compare case-insensitively). */
  attributes: string[];
  /** RFC 6154 special use (`\Sent`, `\Trash`, ...), when one of the attributes is one. */
  specialUse?: string;
  /** RFC 5819 LIST-STATUS, when requested. */
  status?: MailboxStatus;
  /** RFC 5258 extended data, e.g. CHILDINFO, OLDNAME, by upper-cased tag. */
  extended?: Record<string, Value>;
}

const SPECIAL_USE = new Set(['\\all', '\\archive', '\\drafts', '\\flagged', '\\junk', '\\sent', '\\trash', '\\important']);

export function mailboxName(v: Value | undefined, utf8: boolean): string {
  const raw = valueText(v) ?? '';
  if (utf8) return raw;
  try {
    return decodeMutf7(raw);
  } catch {
    return raw; // not valid modified UTF-7: show it as sent
  }
}

/** `* LIST (attrs) delim name [(ext)]` */
export function parseList(r: DataResponse, utf8: boolean): ListEntry {
  const [attrs, delim, name, ext] = r.values;
  const attributes = listOf(attrs).map((a) => valueText(a) ?? '');
  const entry: ListEntry = { name: mailboxName(name, utf8), delimiter: nstring(delim), attributes };
  const special = attributes.find((a) => SPECIAL_USE.has(a.toLowerCase()));
  if (special) entry.specialUse = special;
  if (Array.isArray(ext)) {
    entry.extended = {};
    for (let i = 0; i + 1 < ext.length; i += 2) entry.extended[(valueText(ext[i]) ?? '').toUpperCase()] = ext[i + 1];
  }
  return entry;
}

/** `* STATUS name (item value ...)` */
export function parseStatus(r: DataResponse, utf8: boolean): { name: string; status: MailboxStatus } {
  const [name, items] = r.values;
  const l = listOf(items);
  const status: MailboxStatus = {};
  for (let i = 0; i + 1 < l.length; i += 2) {
    const key = isAtom(l[i]) ? (l[i] as { atom: string }).atom.toUpperCase() : '';
    const v = l[i + 1];
    switch (key) {
      case 'MESSAGES':
        status.messages = numberOf(v);
        break;
      case 'RECENT':
        status.recent = numberOf(v);
        break;
      case 'UIDNEXT':
        status.uidNext = numberOf(v);
        break;
      case 'UIDVALIDITY':
        status.uidValidity = numberOf(v);
        break;
      case 'UNSEEN':
        status.unseen = numberOf(v);
        break;
      case 'DELETED':
        status.deleted = numberOf(v);
        break;
      case 'SIZE':
        status.size = numberOf(v);
        break;
      case 'HIGHESTMODSEQ':
        status.highestModseq = bigNumberOf(v);
        break;
    }
  }
  return { name: mailboxName(name, utf8), status };
}
