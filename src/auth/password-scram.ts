// SCRAM key derivation (RFC 5802 3), shared by the stored credentials (auth/password.ts)
// and the SCRAM client and server (sasl/). Lives in auth/ so that sasl/ depends on auth/
// and never the other way round.

import { createHash, createHmac, pbkdf2, pbkdf2Sync } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'sha1' | 'sha256';

/** Output length of each hash in bytes. */
export const SCRAM_HASH_LENGTH: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

/** RFC 5802 3: the keys derived from SaltedPassword. ClientKey is kept only by clients. */
export interface ScramKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramHmac(hash: ScramHash, key: Uint8Array, data: Uint8Array | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function scramH(hash: ScramHash, data: Uint8Array): Buffer {
  return createHash(hash).update(data).digest();
}

/**
 * RFC 5802 2.2 Hi() is PBKDF2 with HMAC and dkLen = hash length. `normalizedPassword` must
 * already be normalised (normalizePassword); the salt is raw bytes.
 */
export async function scramSaltedPassword(
  hash: ScramHash,
  normalizedPassword: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(normalizedPassword, 'utf8'), salt, iterations, SCRAM_HASH_LENGTH[hash], hash);
}

/** RFC 5802 3: ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key"). */
export function scramKeysFromSaltedPassword(hash: ScramHash, saltedPassword: Uint8Array): ScramKeys {
  const clientKey = scramHmac(hash, saltedPassword, 'Client Key');
  return {
    clientKey,
    storedKey: scramH(hash, clientKey),
    serverKey: scramHmac(hash, saltedPassword, 'Server Key'),
  };
}

/** Synchronous Hi() for client halves whose step() is synchronous (one PBKDF2 per login). */
export function scramSaltedPasswordSync(
  hash: ScramHash,
  normalizedPassword: string,
  salt: Uint8Array,
  iterations: number,
): Buffer {
  return pbkdf2Sync(Buffer.from(normalizedPassword, 'utf8'), salt, iterations, SCRAM_HASH_LENGTH[hash], hash);
}
