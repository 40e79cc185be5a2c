// node:tls options from client options: how the server is verified (CA, SPKI pin, or not at all)
// and the client certificate (spec 7: key + certificate, or a bare key for which a minimal
// self-signed certificate is made).

import { KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { certificatePem } from '../../tls/certificate.js';
import { spkiFingerprint } from '../../tls/fingerprint.js';
import { certificateForKey, loadPrivateKey } from '../../tls/generate.js';
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
  const servername = opts.servername ?? (isIP(opts.host) ? undefined : opts.host);
  return {
    ...(servername !== undefined && { servername }),
    ...(opts.ca !== undefined && { ca: opts.ca }),
    rejectUnauthorized: verifiesChain(opts),
    minVersion: opts.minVersion ?? 'TLSv1.2',
    ...(opts.maxVersion !== undefined && { maxVersion: opts.maxVersion }),
    ...(cert && { key: cert.key, cert: cert.cert }),
  };
}

/** After the handshake: checks the pin when one is set. Throws a 'tls' error on mismatch. */
export function checkServerPin(socket: TLSSocket, opts: SmtpClientOptions): void {
  if (opts.pin === undefined || opts.insecure) return;
  const pins = Array.isArray(opts.pin) ? opts.pin : [opts.pin];
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw || peer.raw.length === 0) throw new SmtpClientError('tls', 'server sent no certificate to check the pin against');
  const spki = new X509Certificate(peer.raw).publicKey.export({ type: 'spki', format: 'der' });
  const got = spkiFingerprint(spki);
  if (!pins.includes(got)) throw new SmtpClientError('tls', `server public key ${got} does not match the pinned fingerprint`);
}

/** Key and certificate PEM for node:tls; a bare key gets a minimal self-signed certificate. */
export function resolveClientCertificate(c: ClientCertificate): { key: string; cert: string } {
  let keyText: string | undefined;
  let certText = c.cert === undefined ? undefined : c.cert.toString();
  let keyObject: KeyObject;
  if (c.key instanceof KeyObject) {
    keyObject = c.key;
  } else {
    const text = c.key.toString();
    // A `.keycert.pem` holds both: take the certificate from it when none is given.
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
    if (certText === undefined && certs) certText = certs.join('\n') + '\n';
    const keyBlock = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/.exec(text);
    keyText = keyBlock ? keyBlock[0] : text;
    try {
      keyObject = loadPrivateKey(keyText);
    } catch (err) {
      throw new SmtpClientError('tls', `client certificate: cannot read the private key: ${(err as Error).message}`, { permanent: true, cause: err });
    }
  }
  if (keyObject.type !== 'private') throw new SmtpClientError('tls', 'client certificate: key is not a private key', { permanent: true });
  const keyPem = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
  if (certText === undefined) certText = certificatePem(certificateForKey(keyObject));
  return { key: keyPem, cert: certText };
}
