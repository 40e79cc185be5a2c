// A Postern for mail-flow tests between instances, built from the same parts as `postern serve`
// (src/server/run-server.ts: SqliteStore with recovery, StoreAuthenticator, SessionRegistry, the
// outbound queue, the real SMTP listeners) plus the two things startServer does not take yet: a
// DNS resolver for SPF/DKIM/DMARC on incoming mail, and queue options (short retry delays).
// When startServer grows those hooks this collapses into startTestServer (see the report).
//
// The data directory is made by quickstart's initDataDir: one account, a self-signed certificate
// and DKIM keys for the account's domain, whose DNS records are returned for a peer's resolver.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionRegistry } from '../../src/auth/session-registry.js';
import { StoreAuthenticator } from '../../src/auth/store-authenticator.js';
import { initDataDir } from '../../src/cli/quickstart.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config, TransportConfig } from '../../src/config/types.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { startQueue, type Queue, type QueueOptions } from '../../src/queue/index.js';
import type { ServerContext } from '../../src/server/context.js';
import { loadTlsContext } from '../../src/server/run-server.js';
import { startSmtpListener, type DnsResolver, type SmtpListener } from '../../src/smtp/server/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export interface InstanceOptions {
  /** Data directory of an earlier instance (a restart); a new one is made when absent. */
  dir?: string;
  /** The first account's address (its domain gets DKIM keys); needed for a new directory. */
  address?: string;
  password?: string;
  hostname: string;
  /** Fixed ports (a restart keeps them); 0 or absent: ephemeral. */
  ports?: { smtp?: number; submission?: number };
  transports?: Record<string, TransportConfig>;
  resolver?: DnsResolver;
  queue?: QueueOptions;
}

export interface Instance {
  dir: string;
  store: SqliteStore;
  ctx: ServerContext;
  queue: Queue;
  ports: { smtp: number; submission: number };
  /** `name TXT "value"` lines for this instance's DKIM keys (new directories only). */
  dkimRecords: string[];
  /** Ends listeners, sessions and the queue, and closes the store; the directory stays. */
  stop(): Promise<void>;
}

export async function startInstance(o: InstanceOptions): Promise<Instance> {
  let dir = o.dir;
  let dkimRecords: string[] = [];
  if (!dir) {
    if (!o.address || !o.password) throw new Error('a new instance needs address and password');
    dir = mkdtempSync(join(tmpdir(), 'postern-peer-'));
    dkimRecords = (await initDataDir({ dir, address: o.address, hostname: o.hostname, listen: '127.0.0.1', portBase: 0, password: o.password })).dkimRecords;
  }
  // quickstart's config, with the test's transports; listeners are started below on our ports.
  const config: Config = { ...loadConfig(dir), authFailureDelayMs: 0, transports: o.transports ?? {} };
  const log = process.env.POSTERN_TEST_LOG ? createLogger({ level: 'debug' }).child({ instance: o.hostname }) : silentLogger;
  const store = await SqliteStore.open({ dir, recover: true });
  const controller = new AbortController();
  const auth = new StoreAuthenticator({ store, log, hostname: config.hostname });
  const sessions = new SessionRegistry(store, auth, log);
  const ctx: ServerContext = { store, config, auth, sessions, log, tls: loadTlsContext(config), shutdown: controller.signal };
  // A short stop grace: a test stopping mid-delivery should not wait the production 30 s.
  const queue = startQueue(ctx, { stopGraceMs: 1000, ...o.queue });
  ctx.queue = queue;
  const listeners: SmtpListener[] = [];
  const common = { host: '127.0.0.1', implicitTls: false, resolver: o.resolver };
  listeners.push(await startSmtpListener(ctx, { ...common, port: o.ports?.smtp ?? 0, kind: 'smtp', requestClientCert: false }));
  listeners.push(await startSmtpListener(ctx, { ...common, port: o.ports?.submission ?? 0, kind: 'submission', requestClientCert: true }));
  let stopped: Promise<void> | null = null;
  return {
    dir,
    store,
    ctx,
    queue,
    ports: { smtp: listeners[0]!.port, submission: listeners[1]!.port },
    dkimRecords,
    stop: () =>
      (stopped ??= (async () => {
        controller.abort();
        sessions.stop();
        await Promise.allSettled(listeners.map((l) => l.close()));
        await queue.stop();
        await store.close();
      })()),
  };
}

/** A resolver serving TXT records from `name TXT "value"` lines; everything else does not exist. */
export function recordsResolver(lines: string[]): DnsResolver {
  const txt = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^(\S+)\s+TXT\s+"(.*)"$/.exec(line.trim());
    if (!m) throw new Error(`not a TXT record line: ${line}`);
    const name = m[1]!.toLowerCase().replace(/\.$/, '');
    txt.set(name, [...(txt.get(name) ?? []), m[2]!]);
  }
  return async (name, rrtype) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    if (rrtype === 'TXT' && txt.has(key)) return txt.get(key)!.map((r) => [r]);
    const err = new Error(`query${rrtype} ENOTFOUND ${name}`) as NodeJS.ErrnoException;
    err.code = 'ENOTFOUND';
    throw err;
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
