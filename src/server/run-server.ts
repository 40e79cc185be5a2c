// `postern serve` in one process: loads the config, opens the store (with crash recovery), starts
// every configured listener, and shuts down cleanly on SIGTERM/SIGINT: listeners close, sessions
// end, in-flight commits finish, the store closes. With several workers each worker runs this with
// a ProcessRole from cluster/worker.ts (docs/scaling.md): the bus to the others, whether it runs
// the singletons, and the shared state the coordinator hands out.

import { ServerTls } from '../tls/server-tls.js';
import { createAcmeRuntime } from '../acme/index.js';
import type { AcmeChallengeType } from '../config/types.js';
import { resolverAt } from './dns-resolver.js';
import { JunkService } from '../junk/service.js';
import { startReportSchedule } from '../dmarc/report-sender.js';
import { startQueue, type QueueOptions } from '../queue/index.js';
import { startOutboundTlsPolicy } from '../outbound/policy-setup.js';
import type { DnsResolver } from '../smtp/server/policy.js';
import { SessionRegistry } from '../auth/session-registry.js';
import { StoreAuthenticator } from '../auth/store-authenticator.js';
import { authLimitsOf } from '../auth/limits.js';
import { PasswordVerifier } from '../auth/password-verifier.js';
import { DEFAULT_PASSWORD_LIMITS } from '../config/defaults.js';
import type { Config, ServiceName } from '../config/types.js';
import { createLogger, type Logger } from '../log/logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ServerContext } from './context.js';
import { SERVICE_STARTERS } from './services.js';
import { LocalBus, type ClusterBus } from '../cluster/bus.js';
import { TOPIC } from '../cluster/topics.js';
import { shareHttpChallenges } from '../cluster/acme-challenges.js';
import type { ChangeFeed } from '../store/change-feed.js';
import type { TicketSecretSource } from '../tls/ticket-keys.js';
import type { FailureLimiter } from '../auth/rate-limit.js';
import type { AdmitterFactory } from './connection-limiter.js';
import { exitOnShutdownSignals } from './shutdown-signals.js';

/**
 * This process's part in a cluster. Absent: a process on its own, which does everything (today's
 * `--workers 1`, and every test that starts a server in-process).
 */
export interface ProcessRole {
  bus: ClusterBus;
  /**
   * Runs the work that must run once per data directory: the outbound queue runner, the ACME
   * scheduler, the DMARC and TLS-RPT report schedules, MTA-STS policy refresh. Other workers
   * kick the queue over the bus.
   */
  singletons: boolean;
  /** Crash recovery on open: done once by the primary before any worker starts. */
  recover: boolean;
  changes?: ChangeFeed;
  ticketSecrets?: TicketSecretSource;
  failureLimiter?: FailureLimiter;
  admission?: AdmitterFactory;
  /** Logs each listener at info ("listening ..."); a worker leaves that line to the primary. */
  announce: boolean;
}

export interface RunningServer {
  ctx: ServerContext;
  /** In config order; `listener` is the name of its listeners entry. */
  listeners: { service: ServiceName; host: string; port: number; listener: string }[];
  stop(): Promise<void>;
}

export function loadTlsContext(config: Config, secrets?: TicketSecretSource): ServerTls | null {
  // Listeners build their own contexts from it (tls/server-tls.ts).
  return config.tls ? ServerTls.fromFiles(config.tls, secrets) : null;
}

/** What a test may inject into a whole server. */
export interface ServerHooks {
  resolver?: DnsResolver;
  queue?: QueueOptions;
}

export async function startServer(config: Config, log: Logger = createLogger(), hooks: ServerHooks = {}, role?: ProcessRole): Promise<RunningServer> {
  const bus = role?.bus ?? new LocalBus();
  const singletons = role?.singletons ?? true;
  const store = await SqliteStore.open({ dir: config.dir, recover: role?.recover ?? true, defaultQuota: config.quota.default, backgroundCheckpoints: true, ...(role?.changes && { changes: role.changes }) });
  const controller = new AbortController();
  const pw = config.limits.passwords ?? DEFAULT_PASSWORD_LIMITS;
  const verifier = new PasswordVerifier({
    pool: { workers: pw.hashWorkers, maxQueued: pw.hashQueue },
    cache: { maxEntries: pw.cacheEntries, ttlMs: pw.cacheTtlSeconds * 1000 },
  });
  const auth = new StoreAuthenticator({ store, log, hostname: config.hostname, windows: authLimitsOf(config).windows, verifier, ...(role?.failureLimiter && { limiter: role.failureLimiter }) });
  const sessions = new SessionRegistry(store, auth, log);
  const ctx: ServerContext = {
    store,
    config,
    auth,
    sessions,
    log,
    tls: loadTlsContext(config, role?.ticketSecrets),
    resolver: hooks.resolver ?? (config.dns?.resolver ? resolverAt(config.dns.resolver) : undefined),
    shutdown: controller.signal,
    ...(role?.admission && { admission: role.admission }),
  };
  if (config.junk?.enabled) {
    ctx.junk = new JunkService(store, log, { threshold: config.junk.threshold });
    ctx.junk.start();
  }
  const acme = createAcmeRuntime(config);
  const unshareChallenges = acme && role ? shareHttpChallenges(bus, acme.challenges, singletons) : null;
  if (acme) {
    ctx.acme = acme;
    // Every listener picks ACME certificates by SNI; other names keep the configured certificate.
    ctx.tls?.useCertificates(acme.certificates);
  }
  // The singletons (ProcessRole.singletons); in other workers a queue kick goes over the bus.
  let tlsPolicy: ReturnType<typeof startOutboundTlsPolicy> | null = null;
  let queue: { kick(): void; stop(): Promise<void> } | null = null;
  let stopReports = (): void => {};
  let unsubscribeKick = (): void => {};
  if (singletons) {
    // DANE, MTA-STS and TLS-RPT counting for MX delivery, unless a test brings its own policy.
    tlsPolicy = hooks.queue?.tlsPolicy ? null : startOutboundTlsPolicy(config, store, log, () => ctx.queue?.kick());
    const q = startQueue(ctx, { ...(tlsPolicy?.resolver && { resolver: tlsPolicy.resolver }), ...hooks.queue, ...(tlsPolicy && { tlsPolicy: tlsPolicy.policy }) });
    queue = q;
    ctx.queue = q;
    unsubscribeKick = bus.subscribe(TOPIC.queueKick, () => q.kick());
    stopReports = startReportSchedule({ store, hostname: config.hostname, resolver: ctx.resolver, dkim: config, log, kick: () => q.kick() });
  } else {
    ctx.queue = { kick: () => bus.publish(TOPIC.queueKick, {}) };
  }
  const started: { service: ServiceName; host: string; port: number; listener: string; close(): Promise<void> }[] = [];
  const stop = async () => {
    controller.abort();
    stopReports();
    unsubscribeKick();
    unshareChallenges?.();
    sessions.stop();
    await acme?.stop();
    await Promise.allSettled(started.map((l) => l.close()));
    await queue?.stop();
    await ctx.junk?.stop();
    await tlsPolicy?.stop();
    ctx.tls?.close();
    await auth.close();
    await store.close();
  };
  try {
    for (const l of config.listeners) {
      for (const [service, port] of Object.entries(l.ports) as [ServiceName, number][]) {
        const starter = SERVICE_STARTERS[service];
        if (!starter) continue;
        for (const host of l.ips) {
          const s = await starter(ctx, { host, port, requestClientCert: l.requestClientCertificates });
          started.push({ service, host, port: s.port, listener: l.name, close: s.close });
          if (role?.announce ?? true) log.info('listening', { service, address: host, port: s.port, listener: l.name });
          else log.debug('listening', { service, address: host, port: s.port, listener: l.name, pid: process.pid });
        }
      }
    }
    if (acme && singletons) {
      // http-01 needs a plain HTTP listener (port 80), tls-alpn-01 an HTTPS one (port 443).
      const available = new Set<AcmeChallengeType>();
      if (started.some((l) => l.service === 'http')) available.add('http-01');
      // The answer to tls-alpn-01 is a TLS context in this worker only, and the CA's connection may
      // land on any worker: with several, http-01 is preferred when there is a listener for it.
      if (started.some((l) => l.service === 'https') && !(role && available.has('http-01'))) available.add('tls-alpn-01');
      await acme.startScheduler(available, async () => (await store.listDomains()).map((d) => d.name), log);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ctx, listeners: started.map(({ service, host, port, listener }) => ({ service, host, port, listener })), stop };
}

/** Runs until SIGTERM/SIGINT. */
export async function serveForever(config: Config, log: Logger = createLogger()): Promise<RunningServer> {
  const server = await startServer(config, log);
  exitOnShutdownSignals(log, () => server.stop());
  return server;
}
