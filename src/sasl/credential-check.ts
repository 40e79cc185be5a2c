// Plaintext password checks for PLAIN and LOGIN, without revealing whether the user exists.

import { deriveCredentials, verifyPassword, type StoredCredentials } from '../auth/password.js';
import type { PasswordVerdict } from '../auth/password-verifier.js';
import { randomBytes } from 'node:crypto';
import type { SaslServerContext } from './types.js';

let dummy: Promise<StoredCredentials> | undefined;

/** Credentials of a random password, derived once: unknown users cost the same scrypt run. */
function dummyCredentials(): Promise<StoredCredentials> {
  dummy ??= deriveCredentials(randomBytes(18).toString('base64url'));
  return dummy;
}

/**
 * True when `password` is right for `creds`. For an unknown user (`creds` null) it runs the
 * same scrypt verification against throwaway credentials and returns false, so response
 * time does not tell whether the account exists.
 */
export async function checkPlaintextPassword(creds: StoredCredentials | null, password: string): Promise<boolean> {
  if (creds === null) {
    await verifyPassword(await dummyCredentials(), password);
    return false;
  }
  return verifyPassword(creds, password);
}

/** PLAIN and LOGIN: the context's checker when it has one (the server's), else checkPlaintextPassword. */
export async function checkPassword(ctx: SaslServerContext, username: string, password: string): Promise<PasswordVerdict> {
  if (ctx.checkPassword) return ctx.checkPassword(username, password);
  return (await checkPlaintextPassword(await ctx.lookup(username), password)) ? 'ok' : 'bad';
}
