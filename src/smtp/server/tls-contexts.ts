// TLS material of an SMTP listener: a SecureContext that requests client certificates (submission,
// spec 2.2) or not (port 25 never does). Built from the configured certificate files with our
// listener options (TLS 1.2+, no handshake failure for unknown certificates, a session id context
// per client-certificate setting); falls back to the shared context when no files are configured.

import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type TlsOptions } from 'node:tls';
import type { ServerContext } from '../../server/context.js';
import { listenerTlsOptions } from '../../tls/server-context.js';

export interface ListenerTls {
  secureContext: SecureContext;
  /** Options for tls.createServer (implicit TLS). */
  serverOptions: TlsOptions;
  requestCert: boolean;
}

export function listenerTls(ctx: ServerContext, requestCert: boolean): ListenerTls | null {
  const files = ctx.config.tls;
  if (files) {
    const opts = listenerTlsOptions({ key: readFileSync(files.keyFile), cert: readFileSync(files.certFile), requestClientCertificate: requestCert });
    const secureContext = createSecureContext(opts);
    // ACME certificates by SNI (src/acme), the configured files otherwise.
    const SNICallback = ctx.acme?.certificates.sniCallback(requestCert);
    return { secureContext, serverOptions: { ...opts, secureContext, ...(SNICallback ? { SNICallback } : {}) }, requestCert };
  }
  if (!ctx.tls) return null;
  return {
    secureContext: ctx.tls,
    serverOptions: { secureContext: ctx.tls, minVersion: 'TLSv1.2', requestCert, rejectUnauthorized: false },
    requestCert,
  };
}
