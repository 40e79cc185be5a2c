// FETCH ENVELOPE (RFC 9051 7.5.2, RFC 3501 7.4.2): raw header text, addresses as (name adl mailbox host).
//
// 8-bit header bytes: valid UTF-8 (RFC 6532) is passed on as text. Bytes that are not UTF-8 (raw
// Latin-1 and the like, which no RFC allows but mail carries) are passed on unchanged, as Dovecot and
// mox do: the header names no charset, so re-encoding would be a guess (Latin-1? windows-1252?
// KOI8-R?) that the client can no longer undo. They go out in a literal, since RFC 9051 4.3 lets a
// literal carry any octet but a quoted string only ASCII or UTF-8 (RFC 6855 3).
import { isGroup, parseAddressList, type Mailbox } from './address.js';
import { headerFields, unfold, type HeaderField } from './header-fields.js';
import type { ImapValue, MimePart } from './types.js';

const WANTED = ['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id'];

/** An envelope of ten NILs, for an encapsulated message the parser did not descend into. */
export const EMPTY_ENVELOPE: ImapValue = [null, null, null, null, null, null, null, null, null, null];

/** The ENVELOPE of a message: the root from parseMessage, or the `message` of a message/rfc822 part. */
export function envelope(buf: Buffer, msg: MimePart, fields: readonly HeaderField[] = headerFields(buf, msg.headerStart, msg.headerEnd)): ImapValue {
  const values = new Map<string, string>();
  for (const f of fields) {
    // One character per byte: the address parser only looks at ASCII, and text() restores the bytes.
    if (WANTED.includes(f.name) && !values.has(f.name)) values.set(f.name, unfold(buf.toString('latin1', f.valueStart, f.end)).trim());
  }
  // Absent: NIL; present but empty: the empty string (RFC 9051 7.5.2).
  const str = (name: string): ImapValue => {
    const v = values.get(name);
    return v === undefined ? null : text(v);
  };
  const from = addresses(values.get('from'));
  // Sender and Reply-To default to From when absent or empty.
  const sender = addresses(values.get('sender')) ?? from;
  const replyTo = addresses(values.get('reply-to')) ?? from;
  return [
    str('date'),
    str('subject'),
    from,
    sender,
    replyTo,
    addresses(values.get('to')),
    addresses(values.get('cc')),
    addresses(values.get('bcc')),
    str('in-reply-to'),
    str('message-id'),
  ];
}

/** Header bytes (one character each) as an IMAP string value: text when ASCII or UTF-8, else raw. */
function text(bytes: string): ImapValue {
  if (!/[^\x00-\x7f]/.test(bytes)) return bytes;
  const b = Buffer.from(bytes, 'latin1');
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : { raw: bytes };
}

function ntext(bytes: string | null): ImapValue {
  return bytes ? text(bytes) : null;
}

/**
 * RFC 9051 7.5.2: the mailbox name is the local part, so the quotes of a quoted local part (RFC 5322
 * 3.4.1 quoted-string) are syntax and go, with their backslash escapes: "quoted local"@x -> quoted local.
 */
function localPart(local: string): string {
  if (!local.includes('"')) return local;
  return local.replace(/"((?:[^"\\]|\\.)*)"?/g, (_, inner: string) => inner.replace(/\\(.)/g, '$1'));
}

function address(m: Mailbox): ImapValue {
  // A NIL host marks group syntax, so a missing domain or local part gets a placeholder (as Dovecot).
  return [ntext(m.name), ntext(m.route), text(localPart(m.local) || 'MISSING_MAILBOX'), text(m.domain || 'MISSING_DOMAIN')];
}

/** An address list as IMAP addresses, or NIL when there are none. */
export function addresses(value: string | undefined): ImapValue {
  if (value === undefined) return null;
  const out: ImapValue[] = [];
  for (const e of parseAddressList(value)) {
    if (isGroup(e)) {
      // RFC 9051 7.5.2: start of group (NIL NIL name NIL), members, end of group (NIL NIL NIL NIL).
      out.push([null, null, text(e.group), null]);
      for (const m of e.members) out.push(address(m));
      out.push([null, null, null, null]);
    } else {
      out.push(address(e));
    }
  }
  return out.length ? out : null;
}
