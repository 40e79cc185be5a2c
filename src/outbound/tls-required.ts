// RFC 8689 3 and 4.2.2: the TLS-Required header field. A sender that writes "TLS-Required: No"
// asks that the recipient domain's policies (MTA-STS, DANE) be ignored for this message: it goes
// with opportunistic TLS, STARTTLS still used when offered, even where a policy would defer it.
// REQUIRETLS wins: with the MAIL parameter the field is ignored (and relayed as it is). The field
// is the sender's and stays in the message untouched.

import { fieldValue, findHeaderEnd, headerFields } from '../mime/index.js';
import { TLS_REQUIRED_SCAN_BYTES } from './limits.js';

/** True when the message's header section has exactly one TLS-Required field and it says No
 * (ABNF literals are case-insensitive, RFC 5234 2.3). Several of them (RFC 8689 3 forbids
 * that), another value, or none: false, and the policies apply. */
export function tlsRequiredNo(message: Buffer): boolean {
  const end = Math.min(message.length, TLS_REQUIRED_SCAN_BYTES);
  const { headerEnd, bodyStart } = findHeaderEnd(message, 0, end);
  // No end of the header section within the scan: not known, so not relaxed.
  if (bodyStart === end && end < message.length) return false;
  const fields = headerFields(message, 0, headerEnd).filter((f) => f.name === 'tls-required');
  return fields.length === 1 && fieldValue(message, fields[0]!).toLowerCase() === 'no';
}
