// node:tls options from SMTP client options, on the shared client TLS set-up (tls/client-tls.ts):
// how the server is verified (CA, SPKI pin, or not at all) and the client certificate.

import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { ClientTlsError, checkPinnedKey, clientCertificatePem, clientTlsOptions } from '../../tls/client-tls.js';
import { SmtpClientError } from './errors.js';
import type { ClientCertificate, SmtpClientOptions } from './options.js';

/** Whether the server's certificate chain and name are checked by OpenSSL. */
function verifiesChain(opts: SmtpClientOptions): boolean {
  if (opts.insecure || opts.pin !== undefined) return false;
  // Opportunistic TLS does not verify unless told what to trust (see TlsMode).
  if ((opts.tls ?? 'starttls') === 'opportunistic' && opts.ca === undefined) return false;
  return true;
}

export function tlsConnectionOptions(opts: SmtpClientOptions, cert: { key: string; cert: string } | undefined): ConnectionOptions {
  return clientTlsOptions({ ...opts, verifyChain: verifiesChain(opts) }, cert);
}

/** After the handshake: checks the pin when one is set. Throws a 'tls' error on mismatch. */
export function checkServerPin(socket: TLSSocket, opts: SmtpClientOptions): void {
  if (opts.pin === undefined || opts.insecure) return;
  try {
    checkPinnedKey(socket, opts.pin);
  } catch (err) {
    if (err instanceof ClientTlsError) throw new SmtpClientError('tls', err.message, { cause: err });
    throw err;
  }
}

/** Key and certificate PEM for node:tls; a bare key gets a minimal self-signed certificate. */
export function resolveClientCertificate(c: ClientCertificate): { key: string; cert: string } {
  try {
    return clientCertificatePem(c);
  } catch (err) {
    if (err instanceof ClientTlsError) throw new SmtpClientError('tls', err.message, { permanent: true, cause: err });
    throw err;
  }
}
