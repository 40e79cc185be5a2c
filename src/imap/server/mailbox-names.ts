// Mailbox names on the wire vs in the store. The store keeps UTF-8 with "/" as separator. On the wire
// names are UTF-8 once the client enabled UTF8=ACCEPT or IMAP4rev2 (RFC 9051 5.1, RFC 6855 3), and
// modified UTF-7 otherwise (RFC 3501 5.1.3).
import { decodeMutf7, encodeMutf7, Mutf7Error } from '../proto/mutf7.js';
import { ImapError, no } from './errors.js';

export const DELIMITER = '/';

/** INBOX in any case is INBOX (RFC 9051 5.1). */
export function canonicalName(name: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX/')) return 'INBOX' + name.slice(5);
  return name;
}

export function fromWire(name: string, utf8: boolean): string {
  if (utf8) return canonicalName(name.normalize('NFC'));
  // RFC 6855 3: without UTF8=ACCEPT, 8-bit names are an error; "&" sequences are modified UTF-7.
  if (/[^\x00-\x7f]/.test(name)) {
    // Lenient like Dovecot: take UTF-8 as is, clients that send it mean it.
    return canonicalName(name.normalize('NFC'));
  }
  try {
    return canonicalName(decodeMutf7(name));
  } catch (err) {
    // Syntactically a valid astring: a name no mailbox can have (NO, as Dovecot), not a BAD command.
    if (err instanceof Mutf7Error) throw no(null, `mailbox name is not valid modified UTF-7: ${err.message}`);
    throw err;
  }
}

/** fromWire for LIST patterns: null when the pattern is not valid modified UTF-7 (it matches nothing). */
export function patternFromWire(pattern: string, utf8: boolean): string | null {
  try {
    return fromWire(pattern, utf8);
  } catch (err) {
    if (err instanceof ImapError) return null;
    throw err;
  }
}

export function toWire(name: string, utf8: boolean): string {
  return utf8 ? name : encodeMutf7(name);
}
