// The INTERNAL URLAUTH mechanism (RFC 4467 5, 6): the server alone computes and checks the token,
// with an algorithm of its choice. Ours: a version octet (RFC 4467 10: the token should name its
// algorithm, so that it can change; 01 is this one) and HMAC-SHA256 over the rump URL exactly as
// the client wrote it (no decoding or case folding, 6), keyed with the mailbox access key: 66
// lower-case hex digits (enc-urlauth = 32*HEXDIG, 9). Dovecot does the same with HMAC-SHA1;
// tokens are not meant to move between servers.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const INTERNAL_MECHANISM = 'INTERNAL';
/** How the mechanism is written in a URL we make (as in RFC 4467's examples). */
export const INTERNAL_MECHANISM_WIRE = 'internal';

const TOKEN_VERSION = 0x01;
const KEY_BYTES = 32;
const TOKEN_BYTES = 33;
const TOKEN_HEX = /^[0-9A-Fa-f]{66}$/;

function compute(key: Buffer, rump: string): Buffer {
  return Buffer.concat([Buffer.of(TOKEN_VERSION), createHmac('sha256', key).update(rump, 'utf8').digest()]);
}

export function internalToken(key: Buffer, rump: string): string {
  return compute(key, rump).toString('hex');
}

/**
 * Whether `token` (hex, as in the URL) is the token of `rump` under `key`, compared in constant
 * time. Without a key (no such user, mailbox or key) a random one is used, so a failure takes as
 * long whatever the reason (RFC 4467 6: "plausible" keys against timing attacks).
 */
export function internalTokenMatches(key: Buffer | null, rump: string, token: string): boolean {
  const expected = compute(key ?? randomBytes(KEY_BYTES), rump);
  const wellFormed = TOKEN_HEX.test(token);
  const given = wellFormed ? Buffer.from(token, 'hex') : Buffer.alloc(TOKEN_BYTES);
  return timingSafeEqual(expected, given) && key !== null && wellFormed;
}
