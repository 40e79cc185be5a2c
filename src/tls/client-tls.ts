// TLS set-up shared by our client libraries (IMAP, SMTP): node:tls connection options, checking a
// pinned server key, and the client certificate (spec 7: key + certificate, or a bare key for which
// a minimal self-signed certificate is made). Errors are ClientTlsError; each client wraps them in
// its own error type.

import { KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { certificatePem } from './certificate.js';
import { spkiFingerprint } from './fingerprint.js';
import { certificateForKey, loadPrivateKey } from './generate.js';

export class ClientTlsError extends Error {
  override name = 'ClientTlsError';
}

export interface ClientTlsSettings {
  host: string;
  servername?: string;
  ca?: string | Buffer | (string | Buffer)[];
  /** Check the chain and name (false for a pin, insecure, or unverified opportunistic TLS). */
  verifyChain: boolean;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export function clientTlsOptions(s: ClientTlsSettings, cert: { key: string; cert: string } | undefined): ConnectionOptions {
  const servername = s.servername ?? (isIP(s.host) ? undefined : s.host);
  return {
    ...(servername !== undefined && { servername }),
    ...(s.ca !== undefined && { ca: s.ca }),
    rejectUnauthorized: s.verifyChain,
    minVersion: s.minVersion ?? 'TLSv1.2',
    ...(s.maxVersion !== undefined && { maxVersion: s.maxVersion }),
    ...(cert && { key: cert.key, cert: cert.cert }),
  };
}

/** After the handshake: the server key must match one of the pins (spec 2.1 fingerprints). */
export function checkPinnedKey(socket: TLSSocket, pin: string | string[]): void {
  const pins = Array.isArray(pin) ? pin : [pin];
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw || peer.raw.length === 0) throw new ClientTlsError('server sent no certificate to check the pin against');
  const got = spkiFingerprint(new X509Certificate(peer.raw).publicKey.export({ type: 'spki', format: 'der' }));
  if (!pins.includes(got)) throw new ClientTlsError(`server public key ${got} does not match the pinned fingerprint`);
}

/** A TLS client certificate: PEM key and certificate, or a bare private key. */
export interface ClientCertificateInput {
  /**
   * Private key: PEM (PKCS#8, PKCS#1, SEC1), a KeyObject, or a 32-byte Ed25519 seed in
   * base64url. May also be a PEM holding both key and certificate (`.keycert.pem`).
   */
  key: string | Buffer | KeyObject;
  /** Certificate PEM. Absent (and not in `key`): a minimal self-signed certificate is made for the
   * key, which is all Postern needs (only the public key identifies the account, spec 2.1). */
  cert?: string | Buffer;
}

/** Key and certificate PEM for node:tls; a bare key gets a minimal self-signed certificate. */
export function clientCertificatePem(c: ClientCertificateInput): { key: string; cert: string } {
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
      throw new ClientTlsError(`client certificate: cannot read the private key: ${(err as Error).message}`, { cause: err });
    }
  }
  if (keyObject.type !== 'private') throw new ClientTlsError('client certificate: key is not a private key');
  const keyPem = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
  certText ??= certificatePem(certificateForKey(keyObject));
  return { key: keyPem, cert: certText };
}
