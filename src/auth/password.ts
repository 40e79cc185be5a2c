// Password normalisation and stored credentials (spec 3.3).
//
// We never store the password. Setting one stores: a slow scrypt verifier (PLAIN, LOGIN,
// web login), salted SCRAM-SHA-1 and SCRAM-SHA-256 keys (RFC 5802 3), and the HMAC-MD5
// inner/outer midstates for CRAM-MD5 (as Dovecot's CRAM-MD5 scheme). The whole object is
// plain JSON so the store can keep it in one column.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { HashPool } from './hash-pool.js';
import { hmacMd5Midstates } from './md5.js';
import { scramKeysFromSaltedPassword, scramSaltedPassword, type ScramHash } from './password-scram.js';

/** Thrown by normalizePassword for a password that PRECIS OpaqueString disallows. */
export class PasswordError extends Error {
  override name = 'PasswordError';
}

// RFC 8264 9.14 Spaces: non-ASCII Zs code points. RFC 8265 4.2.2 maps them to U+0020.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;
// RFC 8264 9.12 Controls (Cc), 9.11 Unassigned (Cn), lone surrogates: disallowed in FreeformClass.
const DISALLOWED = /[\p{Cc}\p{Cn}\p{Cs}]/u;
// RFC 8264 9.13 PrecisIgnorableProperties: Default_Ignorable_Code_Point (except the
// ZWNJ/ZWJ join controls, 9.8, which are contextual; we allow them) and noncharacters.
const IGNORABLE = /(?![\u200C\u200D])\p{Default_Ignorable_Code_Point}|[\uFDD0-\uFDEF]|[\uFFFE\uFFFF]/u;
// RFC 8264 9.10 OldHangulJamo: disallowed.
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u;

/**
 * PRECIS OpaqueString profile (RFC 8265 4.2): map non-ASCII spaces to U+0020, normalise
 * to NFC, and refuse an empty result or disallowed code points. Old Hangul jamo in a
 * password are refused too (RFC 8264 9.10); they would only appear decomposed.
 * Throws PasswordError.
 */
export function normalizePassword(password: string): string {
  const mapped = password.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  if (mapped.length === 0) throw new PasswordError('password is empty');
  if (DISALLOWED.test(mapped)) throw new PasswordError('password contains a control or unassigned character');
  if (IGNORABLE.test(mapped)) throw new PasswordError('password contains an invisible (default ignorable) character');
  if (/[\u{10000}-\u{10FFFF}]/u.test(mapped)) {
    // Plane-end noncharacters U+xFFFE/U+xFFFF in the supplementary planes.
    for (const ch of mapped) {
      const cp = ch.codePointAt(0)!;
      if ((cp & 0xfffe) === 0xfffe) throw new PasswordError('password contains a noncharacter');
    }
  }
  if (OLD_HANGUL_JAMO.test(mapped)) throw new PasswordError('password contains old Hangul jamo');
  return mapped;
}

/** SCRAM salted keys as stored (RFC 5802 3); binary fields base64. */
export interface StoredScram {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

/** Everything kept for one password. Plain JSON; binary fields are base64. */
export interface StoredCredentials {
  /** Format version, for future migrations. */
  version: 1;
  scrypt: { salt: string; N: number; r: number; p: number; hash: string };
  scramSha1: StoredScram;
  scramSha256: StoredScram;
  /** HMAC-MD5 midstates (16 bytes each): MD5 state after key^ipad and key^opad. */
  cramMd5: { inner: string; outer: string };
}

/** scrypt cost: N=2^15, r=8, p=1 uses 32 MiB and ~100 ms. */
export const SCRYPT_PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const SCRYPT_KEY_LENGTH = 32;
/** Spec 3.3 minimums are 8192 (SHA-1) and 4096 (SHA-256); clients pay this on every login. */
export const SCRAM_ITERATIONS: Record<ScramHash, number> = { sha1: 8192, sha256: 8192 };
/** RFC 5802 does not fix the salt length; 16 random bytes as Dovecot and mox. */
export const SCRAM_SALT_LENGTH = 16;

function scryptAsync(password: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Promise<Buffer> {
  // Allow the memory the parameters need (128*N*r) with headroom; Node's default cap is 32 MiB.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT_KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function deriveScram(hash: ScramHash, normalized: string): Promise<StoredScram> {
  const salt = randomBytes(SCRAM_SALT_LENGTH);
  const iterations = SCRAM_ITERATIONS[hash];
  const keys = scramKeysFromSaltedPassword(hash, await scramSaltedPassword(hash, normalized, salt, iterations));
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: keys.storedKey.toString('base64'),
    serverKey: keys.serverKey.toString('base64'),
  };
}

/** Derives all stored credentials for a password. Throws PasswordError for a disallowed password. */
export async function deriveCredentials(password: string): Promise<StoredCredentials> {
  const normalized = normalizePassword(password);
  const pw = Buffer.from(normalized, 'utf8');
  const salt = randomBytes(16);
  const { N, r, p } = SCRYPT_PARAMS;
  const [hash, scramSha1, scramSha256] = await Promise.all([
    scryptAsync(pw, salt, N, r, p),
    deriveScram('sha1', normalized),
    deriveScram('sha256', normalized),
  ]);
  const cram = hmacMd5Midstates(pw);
  return {
    version: 1,
    scrypt: { salt: salt.toString('base64'), N, r, p, hash: hash.toString('base64') },
    scramSha1,
    scramSha256,
    cramMd5: { inner: cram.inner.toString('base64'), outer: cram.outer.toString('base64') },
  };
}

/**
 * Checks a plaintext password against the scrypt verifier, in constant time. With `pool` the
 * scrypt runs on the hash pool's threads (the server: keeps libuv's pool for fs) and may throw
 * HashPoolBusyError; without, on libuv's pool (CLI, tests).
 */
export async function verifyPassword(creds: StoredCredentials, password: string, pool?: HashPool): Promise<boolean> {
  let normalized: string;
  try {
    normalized = normalizePassword(password);
  } catch {
    return false; // could never have been set
  }
  const { salt, N, r, p, hash } = creds.scrypt;
  const expected = Buffer.from(hash, 'base64');
  const pw = Buffer.from(normalized, 'utf8');
  const saltBytes = Buffer.from(salt, 'base64');
  const actual = pool
    ? await pool.scrypt(pw, saltBytes, { N, r, p, keyLength: SCRYPT_KEY_LENGTH })
    : await scryptAsync(pw, saltBytes, N, r, p);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
