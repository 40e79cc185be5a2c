// Answers the CA's validation requests while an order is pending:
// - http-01 (RFC 8555 8.3): GET /.well-known/acme-challenge/<token> on the plain HTTP listener
//   returns the key authorization;
// - tls-alpn-01 (RFC 8737): a TLS handshake on the HTTPS listener that offers ALPN "acme-tls/1"
//   for a name with a pending challenge gets a self-signed certificate carrying the
//   acmeIdentifier extension, and the connection is closed after the handshake.
//
// node:tls runs ALPNCallback before SNICallback (both from OpenSSL's ClientHello processing) and calls
// both with the TLSSocket as `this`, so the ALPN choice marks the socket and the SNI choice reads the mark.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContext, TLSSocket } from 'node:tls';

export const HTTP_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
export const ACME_TLS_ALPN = 'acme-tls/1';

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

// RFC 8555 8.3: the token is base64url; anything else is not one of ours.
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class ChallengeResponder {
  private readonly httpTokens = new Map<string, string>();
  private readonly alpnContexts = new Map<string, SecureContext>();
  private readonly acmeSockets = new WeakSet<TLSSocket>();

  /** Serves `keyAuthorization` for the token until the returned function is called. */
  addHttp(token: string, keyAuthorization: string): () => void {
    this.httpTokens.set(token, keyAuthorization);
    return () => this.httpTokens.delete(token);
  }

  /** Presents `ctx` (the acmeIdentifier certificate) to acme-tls/1 handshakes for `name`. */
  addTlsAlpn(name: string, ctx: SecureContext): () => void {
    const key = name.toLowerCase();
    this.alpnContexts.set(key, ctx);
    return () => {
      if (this.alpnContexts.get(key) === ctx) this.alpnContexts.delete(key);
    };
  }

  /**
   * Answers an http-01 request and returns true, or returns false for any other request. Placed
   * before the web application: the CA's Host header is the name being validated, which the
   * application's host check would refuse, and RFC 8555 8.3 allows no redirect to HTTPS first.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(HTTP_CHALLENGE_PREFIX)) return false;
    const token = url.slice(HTTP_CHALLENGE_PREFIX.length);
    const keyAuthorization = TOKEN.test(token) ? this.httpTokens.get(token) : undefined;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || keyAuthorization === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return true;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : keyAuthorization);
    return true;
  }

  /**
   * node:tls ALPNCallback for the HTTPS listener. "acme-tls/1" only for a pending challenge (RFC
   * 8737 3: otherwise the handshake fails); ordinary clients get http/1.1. A client that offers
   * neither gets no_application_protocol: this listener speaks nothing else.
   */
  readonly alpnCallback = function (this: ChallengeResponder, socket: TLSSocket | undefined, servername: string, protocols: string[]): string | undefined {
    if (protocols.includes(ACME_TLS_ALPN)) {
      if (!socket || !this.alpnContexts.has(servername.toLowerCase())) return undefined;
      this.acmeSockets.add(socket);
      return ACME_TLS_ALPN;
    }
    return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
  };

  /** TLS server options for the HTTPS listener: the ALPN and SNI callbacks, wrapping `inner`. */
  httpsOptions(inner: SniCallback): { ALPNCallback: (arg: { servername: string; protocols: string[] }) => string | undefined; SNICallback: SniCallback } {
    const self = this;
    return {
      ALPNCallback(this: unknown, { servername, protocols }) {
        return self.alpnCallback.call(self, isTlsSocket(this) ? this : undefined, servername ?? '', protocols);
      },
      SNICallback(this: unknown, servername, cb) {
        if (isTlsSocket(this) && self.acmeSockets.has(this)) {
          const ctx = self.alpnContexts.get(servername.toLowerCase());
          if (ctx) return cb(null, ctx);
          return cb(new Error('no pending tls-alpn-01 challenge for this name'));
        }
        inner(servername, cb);
      },
    };
  }

  /** RFC 8737 3: after the handshake nothing more is exchanged on an acme-tls/1 connection. */
  isChallengeSocket(socket: TLSSocket): boolean {
    return this.acmeSockets.has(socket) || socket.alpnProtocol === ACME_TLS_ALPN;
  }
}

function isTlsSocket(v: unknown): v is TLSSocket {
  return typeof v === 'object' && v !== null && 'encrypted' in v;
}
