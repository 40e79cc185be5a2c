// Random bytes for identifiers made per message or per command (transaction ids, Message-IDs,
// spool names), taken from a pool refilled in large blocks: a synchronous randomBytes() call costs
// a crypto job of its own, several microseconds, however few bytes it returns. Still the kernel's
// CSPRNG (through OpenSSL); only the batching differs. For identifiers, not secrets: the pool holds
// values not yet handed out in memory, so keys and tokens call node:crypto directly.

import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `n` fresh random bytes (n <= 256), as a string in `encoding`. */
export function randomToken(n: number, encoding: 'hex' | 'base64url'): string {
  if (n > 256) throw new RangeError('randomToken: at most 256 bytes');
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString(encoding, offset, offset + n);
  offset += n;
  return s;
}
