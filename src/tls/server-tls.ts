// The server's TLS material (certificate, key, ticket secrets) and the TLS of each listener.
//
// Every listener gets its own SecureContext, built from its own settings by listenerTlsOptions,
// and every TLS socket (implicit TLS and STARTTLS, IMAP, SMTP and web alike) is made by wrap():
// there is no second way to build a context or a server socket.

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { HANDSHAKE_TIMEOUT_MS } from './limits.js';
import { acceptedTlsVersion, listenerTlsOptions, sessionIdContextFor } from './server-context.js';
import { RotatingTicketSecrets, ticketKeyFor, type TicketSecretSource } from './ticket-keys.js';

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/** Handshake callbacks a listener may add: certificates by SNI (ACME), ALPN (tls-alpn-01). */
export interface TlsCallbacks {
  SNICallback?: SniCallback;
  ALPNCallback?: (arg: { servername: string; protocols: string[] }) => string | undefined;
}

/** Certificates chosen by server name (acme/certificate-store.ts); other names get the default. */
export interface SniCertificates {
  sniCallback(requestClientCertificate: boolean): SniCallback;
}

export interface ListenerTlsSettings {
  /** Ask clients for a certificate (spec 2.2); false: never ask. */
  requestClientCertificate: boolean;
}

/** The TLS of one listener. */
export class ListenerTls {
  constructor(
    readonly secureContext: SecureContext,
    readonly requestCert: boolean,
    private readonly unsubscribe: () => void,
    private readonly callbacks: TlsCallbacks = {},
  ) {}

  /** The server end of a TLS connection over `raw` (accepted, or after STARTTLS). */
  wrap(raw: Socket): TLSSocket {
    // Renegotiation is refused by the context: disableRenegotiation() would only act on sockets of
    // a tls.Server.
    return new TLSSocket(raw, { isServer: true, secureContext: this.secureContext, requestCert: this.requestCert, rejectUnauthorized: false, ...this.callbacks });
  }

  /**
   * Implicit TLS: wraps an accepted socket; `onSecure` runs after a TLS 1.2/1.3 handshake. A
   * failed, too old or unfinished (timeoutMs) handshake destroys the socket; `onFail` hears why.
   */
  accept(raw: Socket, handlers: { onSecure(t: TLSSocket): void; onFail?(err: unknown): void; timeoutMs?: number }): TLSSocket {
    raw.on('error', () => {});
    const t = this.wrap(raw);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      handlers.onFail?.(err);
      t.destroy();
    };
    const timer = setTimeout(() => fail(new Error('TLS handshake timeout')), handlers.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    t.on('error', fail);
    t.once('secure', () => {
      clearTimeout(timer);
      // From here on the connection's owner handles errors (and close); none may go unheard.
      t.off('error', fail);
      t.on('error', () => {});
      if (!acceptedTlsVersion(t)) return fail(new Error(`refused TLS version ${t.getProtocol()}`));
      handlers.onSecure(t);
    });
    return t;
  }

  /** Stops following ticket secret rotation (listener closed). */
  close(): void {
    this.unsubscribe();
  }
}

export class ServerTls {
  private certificates: SniCertificates | null = null;

  constructor(
    private readonly key: string | Buffer,
    private readonly cert: string | Buffer,
    private readonly secrets: TicketSecretSource = new RotatingTicketSecrets(),
  ) {}

  static fromFiles(files: { keyFile: string; certFile: string }, secrets?: TicketSecretSource): ServerTls {
    return new ServerTls(readFileSync(files.keyFile), readFileSync(files.certFile), secrets);
  }

  /** Certificates by SNI for listeners made from now on (ACME; set once at start). */
  useCertificates(certificates: SniCertificates): void {
    this.certificates = certificates;
  }

  /**
   * A new context for one listener; its ticket key follows the secret source. `callbacks` replace
   * the default SNI choice (the HTTPS listener wraps it to answer tls-alpn-01).
   */
  listener(settings: ListenerTlsSettings, callbacks?: TlsCallbacks): ListenerTls {
    const sid = sessionIdContextFor(settings.requestClientCertificate);
    const secureContext = createSecureContext(
      listenerTlsOptions({ key: this.key, cert: this.cert, requestClientCertificate: settings.requestClientCertificate, ticketKeys: ticketKeyFor(this.secrets.current(), sid) }),
    );
    // SecureContext.context is node's native context: setTicketKeys swaps the key in place.
    const native = (secureContext as unknown as { context: { setTicketKeys(k: Buffer): void } }).context;
    const unsubscribe = this.secrets.subscribe((secret) => native.setTicketKeys(ticketKeyFor(secret, sid)));
    const sni = this.certificates?.sniCallback(settings.requestClientCertificate);
    return new ListenerTls(secureContext, settings.requestClientCertificate, unsubscribe, callbacks ?? (sni ? { SNICallback: sni } : {}));
  }

  /** Server shutdown: stops rotating secrets. */
  close(): void {
    this.secrets.close();
  }
}
