// node:tls options from IMAP client options, on the shared client TLS set-up (tls/client-tls.ts):
// how the server is verified (CA, SPKI pin, or not at all) and the client certificate.

import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { ClientTlsError, checkPinnedKey, clientCertificatePem, clientTlsOptions } from '../../tls/client-tls.js';
import { ImapClientError } from './errors.js';
import type { ImapClientCertificate, ImapClientOptions } from './options.js';

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ClientTlsError) throw new ImapClientError('tls', err.message, { cause: err });
    throw err;
  }
}

export function tlsConnectionOptions(opts: ImapClientOptions, cert: { key: string; cert: string } | undefined): ConnectionOptions {
  // A pin replaces chain and name checks: the key is what we trust (checked after the handshake).
  return clientTlsOptions({ ...opts, verifyChain: !opts.insecure && opts.pin === undefined }, cert);
}

/** After the handshake: checks the pin when one is set. */
export function checkServerPin(socket: TLSSocket, opts: ImapClientOptions): void {
  if (opts.pin === undefined || opts.insecure) return;
  wrap(() => checkPinnedKey(socket, opts.pin!));
}

/** Key and certificate PEM for node:tls; a bare key gets a minimal self-signed certificate. */
export function resolveClientCertificate(c: ImapClientCertificate): { key: string; cert: string } {
  return wrap(() => clientCertificatePem(c));
}
