// FETCH ENVELOPE (RFC 9051 7.5.2, RFC 3501 7.4.2): raw header text, addresses as (name adl mailbox host).
import { isGroup, parseAddressList, type Mailbox } from './address.js';
import { fieldValue, headerFields } from './header-fields.js';
import type { ImapValue, MimePart } from './types.js';

const WANTED = ['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id'];

/** An envelope of ten NILs, for an encapsulated message the parser did not descend into. */
export const EMPTY_ENVELOPE: ImapValue = [null, null, null, null, null, null, null, null, null, null];

/** The ENVELOPE of a message: the root from parseMessage, or the `message` of a message/rfc822 part. */
export function envelope(buf: Buffer, msg: MimePart): ImapValue {
  const values = new Map<string, string>();
  for (const f of headerFields(buf, msg.headerStart, msg.headerEnd)) {
    if (WANTED.includes(f.name) && !values.has(f.name)) values.set(f.name, fieldValue(buf, f));
  }
  // Absent: NIL; present but empty: the empty string (RFC 9051 7.5.2).
  const str = (name: string): ImapValue => values.get(name) ?? null;
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

function address(m: Mailbox): ImapValue {
  // A NIL host marks group syntax, so a missing domain or local part gets a placeholder (as Dovecot).
  return [m.name || null, m.route || null, m.local || 'MISSING_MAILBOX', m.domain || 'MISSING_DOMAIN'];
}

/** An address list as IMAP addresses, or NIL when there are none. */
export function addresses(value: string | undefined): ImapValue {
  if (value === undefined) return null;
  const out: ImapValue[] = [];
  for (const e of parseAddressList(value)) {
    if (isGroup(e)) {
      // RFC 9051 7.5.2: start of group (NIL NIL name NIL), members, end of group (NIL NIL NIL NIL).
      out.push([null, null, e.group, null]);
      for (const m of e.members) out.push(address(m));
      out.push([null, null, null, null]);
    } else {
      out.push(address(e));
    }
  }
  return out.length ? out : null;
}
