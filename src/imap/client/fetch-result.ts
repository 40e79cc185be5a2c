// FETCH response data (RFC 9051 7.5.2) as a typed message.

import { parseBodyStructure, type BodyStructure } from './body-structure.js';
import { parseEnvelope, type Envelope } from './envelope.js';
import { bigNumberOf, ImapParseError, isAtom, listOf, numberOf, valueText, type Value } from './response.js';

export interface FetchedMessage {
  /** Message sequence number. */
  seq: number;
  uid?: number;
  flags?: string[];
  envelope?: Envelope;
  bodyStructure?: BodyStructure;
  internalDate?: Date;
  /** RFC822.SIZE */
  size?: number;
  /** RFC 7162 3.1.4.1 MODSEQ. */
  modseq?: bigint;
  /**
   * BODY[section]<origin> data by section key ({@link sectionKey}): `''` whole message,
   * `'HEADER'`, `'TEXT'`, `'1.2'`, `'HEADER.FIELDS (SUBJECT)'`. RFC822, RFC822.HEADER and
   * RFC822.TEXT are stored as `''`, `'HEADER'`, `'TEXT'`. NIL is null.
   */
  body?: Record<string, Buffer | null>;
  /** For partial fetches: the origin the server reported, by section key. */
  origin?: Record<string, number>;
  /** RFC 3516 BINARY[section] (decoded content) by section key. */
  binary?: Record<string, Buffer | null>;
  /** RFC 3516 BINARY.SIZE[section] by section key. */
  binarySize?: Record<string, number>;
  /** RFC 8970 PREVIEW. */
  preview?: string | null;
  /** RFC 8474 EMAILID / THREADID. */
  emailId?: string;
  threadId?: string | null;
  /** Items this parser does not know, by upper-cased name, as raw values. */
  other?: Record<string, Value>;
}

/** Normalised section text: upper case, single spaces (`header.fields (Subject)` -> `HEADER.FIELDS (SUBJECT)`). */
export function sectionKey(section: string): string {
  return section.trim().replace(/\s+/g, ' ').replace(/\(\s+/g, '(').replace(/\s+\)/g, ')').toUpperCase();
}

const ITEM = /^(BODY|BINARY\.SIZE|BINARY)\[([^\]]*)\](?:<(\d+)>)?$/i;

/** Parses `* n FETCH (items)`; `into` accumulates when a server splits one message over several responses. */
export function parseFetch(seq: number, values: Value[], into?: FetchedMessage): FetchedMessage {
  const msg: FetchedMessage = into ?? { seq };
  const items = listOf(values[0]);
  for (let i = 0; i + 1 < items.length; i += 2) {
    const nameValue = items[i];
    if (!isAtom(nameValue)) throw new ImapParseError('FETCH item name is not an atom');
    const name = nameValue.atom.toUpperCase();
    const v = items[i + 1];
    switch (name) {
      case 'UID':
        msg.uid = numberOf(v);
        break;
      case 'FLAGS':
        msg.flags = listOf(v).map((f) => valueText(f) ?? '');
        break;
      case 'ENVELOPE':
        msg.envelope = parseEnvelope(v);
        break;
      case 'BODYSTRUCTURE':
      case 'BODY':
        msg.bodyStructure = parseBodyStructure(v);
        break;
      case 'INTERNALDATE':
        msg.internalDate = parseInternalDate(valueText(v) ?? '');
        break;
      case 'RFC822.SIZE':
        msg.size = numberOf(v);
        break;
      case 'MODSEQ':
        msg.modseq = bigNumberOf(listOf(v)[0]);
        break;
      case 'RFC822':
        (msg.body ??= {})[''] = bytes(v);
        break;
      case 'RFC822.HEADER':
        (msg.body ??= {})['HEADER'] = bytes(v);
        break;
      case 'RFC822.TEXT':
        (msg.body ??= {})['TEXT'] = bytes(v);
        break;
      case 'PREVIEW':
        msg.preview = v === null ? null : (valueText(v) ?? null);
        break;
      case 'EMAILID':
        msg.emailId = valueText(listOf(v)[0]);
        break;
      case 'THREADID':
        msg.threadId = v === null ? null : (valueText(listOf(v)[0]) ?? null);
        break;
      default: {
        const m = ITEM.exec(name);
        if (!m) {
          (msg.other ??= {})[name] = v;
          break;
        }
        const key = sectionKey(m[2]);
        if (m[1] === 'BODY') {
          (msg.body ??= {})[key] = bytes(v);
          if (m[3] !== undefined) (msg.origin ??= {})[key] = Number(m[3]);
        } else if (m[1] === 'BINARY') {
          (msg.binary ??= {})[key] = bytes(v);
          if (m[3] !== undefined) (msg.origin ??= {})[key] = Number(m[3]);
        } else {
          (msg.binarySize ??= {})[key] = numberOf(v);
        }
      }
    }
  }
  return msg;
}

function bytes(v: Value): Buffer | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  if (isAtom(v)) return Buffer.from(v.atom, 'utf8'); // lenient: an atom where a string belongs
  throw new ImapParseError('expected a string for body data');
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 9051 9 date-time: `"17-Jul-1996 02:44:25 -0700"` (day may be space-padded). */
export function parseInternalDate(s: string): Date {
  const m = /^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  const month = m ? MONTHS.indexOf(m[2].toLowerCase()) : -1;
  if (!m || month < 0) throw new ImapParseError(`bad date-time "${s}"`);
  const offsetMin = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return new Date(utc - offsetMin * 60_000);
}

/** RFC 9051 9 date-time for APPEND. */
export function formatInternalDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const day = String(d.getDate()).padStart(2, ' ');
  const mon = MONTHS[d.getMonth()];
  return `${day}-${mon[0].toUpperCase()}${mon.slice(1)}-${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}
