// Checks of a server's TLS after the handshake, for policies that demand verified TLS: WebPKI
// (MTA-STS, RFC 8461 4.2: a chain to a trusted CA and the MX host name). The outcome is an
// RFC 8460 4.3.2 result type, which TLS-RPT reports and the DSN names.

import { checkServerIdentity, type TLSSocket } from 'node:tls';

export type TlsResultType =
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid';

export interface TlsCheckFailure {
  result: TlsResultType;
  message: string;
}

/** The handshake was made without rejecting (node:tls rejectUnauthorized false, with the policy's
 * CAs): `authorized` and `authorizationError` say what OpenSSL found; the name is checked here. */
export function webpkiCheck(socket: TLSSocket, hostname: string): TlsCheckFailure | null {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return { result: 'certificate-not-trusted', message: 'server sent no certificate' };
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? '');
    if (code === 'CERT_HAS_EXPIRED') return { result: 'certificate-expired', message: `certificate of ${hostname} has expired` };
    if (code !== 'ERR_TLS_CERT_ALTNAME_INVALID') return { result: 'certificate-not-trusted', message: `certificate of ${hostname} is not trusted (${code})` };
  }
  const nameErr = checkServerIdentity(hostname, cert);
  if (nameErr) return { result: 'certificate-host-mismatch', message: `certificate does not name ${hostname}` };
  return null;
}
