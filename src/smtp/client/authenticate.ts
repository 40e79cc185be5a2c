// SMTP AUTH (RFC 4954) driving a SASL client half from src/sasl.

import { createSaslClient, SaslClientError, type ChannelBinding, type SaslClient, type SaslMechanism } from '../../sasl/index.js';
import type { Reply } from '../proto/reply.js';
import { replyText, SmtpClientError } from './errors.js';

/** How authenticate() talks to the server. `secret` lines are not logged. */
export interface AuthIo {
  send(line: string, secret: boolean): Promise<void>;
  read(command: string): Promise<Reply>;
}

export interface AuthParams {
  mechanism: SaslMechanism;
  username: string;
  password?: string;
  authzid?: string;
  channelBinding?: ChannelBinding;
  serverOffersPlus: boolean;
}

/** RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF. RFC 4954 4: when the
 * initial response would make AUTH longer, send it after an empty 334 instead. */
const MAX_AUTH_COMMAND = 512;
/** A sane bound on challenge rounds; SCRAM needs 2, LOGIN 2. */
const MAX_ROUNDS = 10;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Runs the exchange; resolves on 235, throws an 'auth' SmtpClientError otherwise. */
export async function authenticate(io: AuthIo, p: AuthParams): Promise<void> {
  let sasl: SaslClient;
  try {
    sasl = createSaslClient(p.mechanism, {
      username: p.username,
      password: p.password,
      authzid: p.authzid,
      channelBinding: p.channelBinding,
      serverOffersPlus: p.serverOffersPlus,
    });
  } catch (err) {
    throw new SmtpClientError('auth', `cannot use ${p.mechanism}: ${(err as Error).message}`, { permanent: true, cause: err });
  }

  let line = `AUTH ${p.mechanism}`;
  let deferred: Buffer | undefined;
  if (sasl.hasInitialResponse) {
    const ir = sasl.step(null);
    // RFC 4954 4: "=" is an empty initial response.
    const enc = ir.length === 0 ? '=' : ir.toString('base64');
    if (line.length + 1 + enc.length + 2 <= MAX_AUTH_COMMAND) line += ` ${enc}`;
    else deferred = ir;
  }
  await io.send(line, true);

  // Cancels the exchange (RFC 4954 4: "*"), reads the server's answer, and fails.
  const cancel = async (message: string, cause?: unknown): Promise<never> => {
    await io.send('*', false);
    const r = await io.read('AUTH').catch(() => undefined);
    throw new SmtpClientError('auth', `${p.mechanism}: ${message}${r ? ` (server: ${replyText(r)})` : ''}`, { permanent: false, cause });
  };

  for (let round = 0; ; round++) {
    const r = await io.read('AUTH');
    if (r.code === 334) {
      if (round >= MAX_ROUNDS) return cancel('too many challenges');
      const text = r.lines.join('').trim();
      if (deferred !== undefined) {
        if (text !== '') return cancel('unexpected challenge instead of the request for the initial response');
        await io.send(deferred.toString('base64'), true);
        deferred = undefined;
        continue;
      }
      if (!BASE64.test(text)) return cancel('challenge is not base64');
      let resp: Buffer;
      try {
        resp = sasl.step(Buffer.from(text, 'base64'));
      } catch (err) {
        return cancel(err instanceof SaslClientError ? err.message : `bad challenge: ${(err as Error).message}`, err);
      }
      await io.send(resp.toString('base64'), true);
      continue;
    }
    if (r.code === 235) {
      if (p.mechanism.startsWith('SCRAM-') && !sasl.done) {
        // Some servers send the server-final-message with the success reply, as IMAP does.
        const text = r.lines[0]?.trim() ?? '';
        if (BASE64.test(text) && text !== '') {
          try {
            sasl.step(Buffer.from(text, 'base64'));
          } catch (err) {
            throw new SmtpClientError('auth', `${p.mechanism}: ${(err as Error).message}`, { permanent: false, cause: err });
          }
        }
        // RFC 5802 9: without the server signature the server has not proven it knows the
        // credentials; do not go on as if mutual authentication happened.
        if (!sasl.done) throw new SmtpClientError('auth', `${p.mechanism}: server reported success without proving its identity`, { reply: r, command: 'AUTH', permanent: false });
      }
      return;
    }
    // 535 5.7.8 bad credentials: permanent; 454 4.7.0 and other 4xx: temporary.
    throw new SmtpClientError('auth', `authentication failed: ${replyText(r)}`, { reply: r, command: 'AUTH' });
  }
}
