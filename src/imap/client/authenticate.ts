// AUTHENTICATE (RFC 9051 6.2.2, SASL-IR RFC 4959) driving a SASL client half from src/sasl.

import { createSaslClient, SaslClientError, type ChannelBinding, type SaslClient, type SaslMechanism } from '../../sasl/index.js';
import type { Connection } from './connection.js';
import { ImapClientError } from './errors.js';
import type { StatusResponse } from './response.js';

export interface AuthParams {
  mechanism: SaslMechanism;
  username: string;
  password?: string;
  authzid?: string;
  channelBinding?: ChannelBinding;
  serverOffersPlus: boolean;
  /** The server offers SASL-IR: send the initial response with the command. */
  saslIr: boolean;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_ROUNDS = 10;

/** Runs the exchange; returns the tagged OK, throws an 'auth' ImapClientError otherwise. */
export async function authenticate(conn: Connection, p: AuthParams): Promise<StatusResponse> {
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
    throw new ImapClientError('auth', `cannot use ${p.mechanism}: ${(err as Error).message}`, { cause: err });
  }
  const parts = [`AUTHENTICATE`, p.mechanism];
  let initialPending = false;
  if (sasl.hasInitialResponse) {
    if (p.saslIr) {
      const ir = sasl.step(null);
      parts.push(ir.length === 0 ? '=' : ir.toString('base64')); // RFC 4959 3: "=" is empty
    } else {
      initialPending = true; // sent in answer to the server's first, empty, challenge
    }
  }
  let clientError: Error | undefined;
  let rounds = 0;
  const onContinuation = (text: string): void => {
    if (clientError) return;
    try {
      if (++rounds > MAX_ROUNDS) throw new SaslClientError('too many challenges');
      const t = text.trim();
      if (initialPending) {
        initialPending = false;
        const ir = sasl.step(null);
        conn.writeLine(ir.toString('base64'), true);
        return;
      }
      if (!BASE64.test(t)) throw new SaslClientError('challenge is not base64');
      const resp = sasl.step(Buffer.from(t, 'base64'));
      conn.writeLine(resp.toString('base64'), true);
    } catch (err) {
      // RFC 9051 6.2.2: "*" cancels; the server then answers BAD.
      clientError = err as Error;
      conn.writeLine('*');
    }
  };
  const { status } = await conn.run(parts, { onContinuation, secret: true });
  if (clientError) {
    throw new ImapClientError('auth', `${p.mechanism}: ${clientError.message}`, { cause: clientError });
  }
  if (status.status !== 'OK') {
    throw new ImapClientError('auth', `${p.mechanism} failed: ${status.code ? `[${status.code.name}] ` : ''}${status.text}`, { response: status });
  }
  if (!sasl.done) {
    // SCRAM's server-final-message may come as data with the OK (RFC 4422 5 item 4) rather
    // than as a last challenge; without it we cannot know we talked to the right server.
    const t = status.text.trim();
    if (BASE64.test(t) && t !== '') {
      try {
        sasl.step(Buffer.from(t, 'base64'));
      } catch (err) {
        throw new ImapClientError('auth', `${p.mechanism}: ${(err as Error).message}`, { cause: err, response: status });
      }
    }
    if (!sasl.done && p.mechanism.startsWith('SCRAM-')) {
      throw new ImapClientError('auth', `${p.mechanism}: the server did not prove it knows the password (no server signature)`, { response: status });
    }
  }
  return status;
}
