// The INTERNAL URLAUTH mechanism (RFC 4467 7): the server alone computes and checks the token, with
// any algorithm. Ours: HMAC-SHA256 over the rump URL exactly as the client wrote it (the URL up to
// and including the access identifier, RFC 4467 2), keyed with the mailbox access key, as 64
// lower-case hex digits (enc-urlauth = 32*HEXDIG, RFC 4467 9). Dovecot uses HMAC-SHA1 the same
// way; tokens are not meant to move between servers.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const INTERNAL_MECHANISM = 'INTERNAL';
/** How the mechanism is written in a URL we make (as in RFC 4467's examples). */
export const INTERNAL_MECHANISM_WIRE = 'internal';

const TOKEN_BYTES = 32;
const TOKEN_HEX = /^[0-9A-Fa-f]{64}$/;

export function internalToken(key: Buffer, rump: string): string {
  return createHmac('sha256', key).update(rump, 'utf8').digest('hex');
}

/**
 * Whether `token` (hex, as in the URL) is the token of `rump` under `key`, compared in constant
 * time. Without a key (no such user, mailbox or key) a random one is used, so a failure takes as
 * long whatever the reason (RFC 4467 6.3: "plausible" keys against timing attacks).
 */
export function internalTokenMatches(key: Buffer | null, rump: string, token: string): boolean {
  const expected = createHmac('sha256', key ?? randomBytes(TOKEN_BYTES)).update(rump, 'utf8').digest();
  const given = TOKEN_HEX.test(token) ? Buffer.from(token, 'hex') : Buffer.alloc(TOKEN_BYTES);
  const same = timingSafeEqual(expected, given);
  return same && key !== null && TOKEN_HEX.test(token);
}
