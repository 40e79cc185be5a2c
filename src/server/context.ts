// What every protocol server is given: the store, the configuration, the authentication layer, TLS
// material and a logger. Built once by `postern serve` (src/server/run-server.ts); tests build their own.

import type { AcmeRuntime } from '../acme/index.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { SessionRegistry } from '../auth/session-registry.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import type { ServerTls } from '../tls/server-tls.js';
import type { DnsResolver } from '../smtp/server/policy.js';
import type { JunkService } from '../junk/service.js';
import type { AdmitterFactory } from './connection-limiter.js';

export interface ServerContext {
  store: Store;
  config: Config;
  auth: Authenticator;
  /** Register authenticated sessions here: they are ended when their credentials are revoked. */
  sessions: SessionRegistry;
  log: Logger;
  /** The server certificate, key and ticket secrets; each listener builds its TLS from it (null: no TLS). */
  tls: ServerTls | null;
  /** ACME certificates (picked by SNI on every listener) and challenge responders, when tls.acme is on. */
  acme?: AcmeRuntime;
  /** DNS for SPF/DKIM/DMARC checks of incoming mail; node:dns when absent (tests serve their own records). */
  resolver?: DnsResolver;
  /** The per-account junk filter, when enabled (config junk.enabled). */
  junk?: JunkService;
  /**
   * The outbound queue: kick() after an enqueue to deliver now (in a worker without the queue
   * runner, the kick goes to the worker that has it).
   */
  queue?: { kick(): void };
  /** Connection counting of each listener; absent: a ConnectionLimiter in this process. */
  admission?: AdmitterFactory;
  /** Resolves when the server is shutting down: servers stop accepting and end sessions. */
  shutdown: AbortSignal;
}
