// CRAM-MD5 (RFC 2195): server challenge "<random.time@host>", client answers
// "user SP hex(HMAC-MD5(password, challenge))". Checked against the stored HMAC-MD5
// midstates, so the password is not needed (auth/md5.ts).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hmacMd5FromMidstates, hmacMd5Midstates, type HmacMd5Midstates } from '../auth/md5.js';
import { normalizePassword } from '../auth/password.js';
import { MAX_SASL_MESSAGE } from './limits.js';
import { decodeUtf8, prepareIdentity } from './saslname.js';
import { challenge, EXCHANGE_OVER, failure } from './step.js';
import type { SaslClient, SaslClientOptions, SaslServer, SaslServerContext, SaslStep } from './types.js';

/** Pure parse of a CRAM-MD5 response; the user name may contain spaces, the digest follows the last. */
export function parseCramMd5Response(msg: Buffer): { username: string; digest: Buffer } | null {
  if (msg.length > MAX_SASL_MESSAGE) return null;
  const text = decodeUtf8(msg);
  if (text === null) return null;
  const m = /^(.+) ([0-9a-fA-F]{32})$/su.exec(text);
  if (m === null) return null;
  return { username: m[1], digest: Buffer.from(m[2], 'hex') };
}

/** RFC 2195 2: a unique challenge in msg-id form. */
export function cramMd5Challenge(hostname: string): string {
  return `<${randomBytes(12).toString('hex')}.${Date.now()}@${hostname}>`;
}

export function createCramMd5Server(ctx: SaslServerContext, options: { challenge?: string } = {}): SaslServer {
  let sent: string | null = null;
  let done = false;
  return {
    mechanism: 'CRAM-MD5',
    async step(response: Buffer | null): Promise<SaslStep> {
      if (done) return EXCHANGE_OVER;
      if (sent === null) {
        // CRAM-MD5 has no initial response; an empty one (IMAP "=") is tolerated.
        if (response !== null && response.length > 0) {
          done = true;
          return failure('malformed', 'CRAM-MD5 takes no initial response');
        }
        sent = options.challenge ?? cramMd5Challenge(ctx.hostname);
        return challenge(sent);
      }
      done = true;
      const parsed = response === null ? null : parseCramMd5Response(response);
      if (parsed === null) return failure('malformed', 'malformed CRAM-MD5 response');
      const username = prepareIdentity(parsed.username);
      if (username === null) return failure('malformed', 'invalid characters in user name');
      const creds = await ctx.lookup(username);
      // Unknown user: compare against a throwaway key so the work and the answer are the same.
      const states: HmacMd5Midstates =
        creds === null
          ? hmacMd5Midstates(createHmac('sha256', ctx.scramFakeSecret).update(`cram-md5\0${username}`).digest())
          : { inner: Buffer.from(creds.cramMd5.inner, 'base64'), outer: Buffer.from(creds.cramMd5.outer, 'base64') };
      const expected = hmacMd5FromMidstates(states, sent);
      const ok = timingSafeEqual(expected, parsed.digest) && creds !== null;
      if (!ok) return failure('bad-credentials', 'bad user name or password', { authcid: username });
      return { kind: 'success', authcid: username, authzid: '' };
    },
  };
}

export function createCramMd5Client(opts: SaslClientOptions): SaslClient {
  if (opts.password === undefined) throw new Error('CRAM-MD5 needs a password');
  const key = Buffer.from(normalizePassword(opts.password), 'utf8');
  let done = false;
  return {
    mechanism: 'CRAM-MD5',
    hasInitialResponse: false,
    get done() {
      return done;
    },
    step(challengeData: Buffer | null): Buffer {
      if (challengeData === null) throw new Error('CRAM-MD5 has no initial response');
      if (done) throw new Error('CRAM-MD5 exchange already finished');
      done = true;
      const digest = createHmac('md5', key).update(challengeData).digest('hex');
      return Buffer.from(`${opts.username} ${digest}`, 'utf8');
    },
  };
}
