// Helpers for the SASL unit tests: an in-memory user table and a driver that runs a client
// half against a server half the way IMAP/SMTP would.

import { deriveCredentials, type StoredCredentials } from '../auth/password.js';
import type { ChannelBinding, SaslClient, SaslServer, SaslServerContext, SaslStep } from './types.js';

const cache = new Map<string, Promise<StoredCredentials>>();

/** Credentials for a password, derived once per test process (scrypt is slow on purpose). */
export function credentialsFor(password: string): Promise<StoredCredentials> {
  let c = cache.get(password);
  if (c === undefined) cache.set(password, (c = deriveCredentials(password)));
  return c;
}

export function testContext(
  users: Record<string, StoredCredentials>,
  extra: { tls?: boolean; channelBinding?: ChannelBinding } = {},
): SaslServerContext & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async lookup(username) {
      lookups.push(username);
      return users[username] ?? null;
    },
    tls: extra.tls ?? true,
    channelBinding: extra.channelBinding,
    scramFakeSecret: Buffer.alloc(32, 7),
    hostname: 'mail.example.org',
  };
}

/**
 * Runs an exchange to its end. Success data (SCRAM server-final) is fed to the client, as a
 * client library would. Returns the server's final step.
 */
export async function runExchange(client: SaslClient, server: SaslServer): Promise<SaslStep> {
  let step = await server.step(client.hasInitialResponse ? client.step(null) : null);
  for (let rounds = 0; step.kind === 'challenge'; rounds++) {
    if (rounds > 10) throw new Error('exchange does not end');
    step = await server.step(client.step(step.data));
  }
  if (step.kind === 'success' && step.data !== undefined) client.step(step.data);
  return step;
}
