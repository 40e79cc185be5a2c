// node:tls options from client options: how the server is verified (CA, SPKI pin, or not at
// all) and the client certificate (spec 7: key + certificate, or a bare key for which a
// minimal self-signed certificate is made with tls/generate).

import { KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { certificatePem } from '../../tls/certificate.js';
import { spkiFingerprint } from '../../tls/fingerprint.js';
import { certificateForKey, loadPrivateKey } from '../../tls/generate.js';
import { ImapClientError } from './errors.js';
import type { ImapClientCertificate, ImapClientOptions } from './options.js';

export function tlsConnectionOptions(opts: ImapClientOptions, cert: { key: string; cert: string } | undefined): ConnectionOptions {
  const servername = opts.servername ?? (isIP(opts.host) ? undefined : opts.host);
  return {
    ...(servername !== undefined && { servername }),
    ...(opts.ca !== undefined && { ca: opts.ca }),
    // A pin replaces chain and name checks: the key is what we trust (checked after the handshake).
    rejectUnauthorized: !opts.insecure && opts.pin === undefined,
    minVersion: opts.minVersion ?? 'TLSv1.2',
    ...(opts.maxVersion !== undefined && { maxVersion: opts.maxVersion }),
    ...(cert && { key: cert.key, cert: cert.cert }),
  };
}

/** After the handshake: checks the pin when one is set. */
export function checkServerPin(socket: TLSSocket, opts: ImapClientOptions): void {
  if (opts.pin === undefined || opts.insecure) return;
  const pins = Array.isArray(opts.pin) ? opts.pin : [opts.pin];
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw || peer.raw.length === 0) throw new ImapClientError('tls', 'server sent no certificate to check the pin against');
  const got = spkiFingerprint(new X509Certificate(peer.raw).publicKey.export({ type: 'spki', format: 'der' }));
  if (!pins.includes(got)) throw new ImapClientError('tls', `server public key ${got} does not match the pinned fingerprint`);
}

/** Key and certificate PEM for node:tls; a bare key gets a minimal self-signed certificate. */
export function resolveClientCertificate(c: ImapClientCertificate): { key: string; cert: string } {
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
    try {
      keyObject = loadPrivateKey(keyBlock ? keyBlock[0] : text);
    } catch (err) {
      throw new ImapClientError('tls', `client certificate: cannot read the private key: ${(err as Error).message}`, { cause: err });
    }
  }
  if (keyObject.type !== 'private') throw new ImapClientError('tls', 'client certificate: key is not a private key');
  const keyPem = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
  certText ??= certificatePem(certificateForKey(keyObject));
  return { key: keyPem, cert: certText };
}
