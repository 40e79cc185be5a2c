// A whole Postern, as `postern serve` runs it, in a temp directory with ephemeral loopback ports:
// for end-to-end tests with real third-party clients.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { initDataDir } from '../../src/cli/quickstart.js';
import { parseConfig } from '../../src/config/load.js';
import { ImapClient } from '../../src/imap/client/index.js';
import type { ServiceName } from '../../src/config/types.js';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.js';
import { startServer, type RunningServer, type ServerHooks } from '../../src/server/run-server.js';

export const ADDRESS = 'alice@example.test';
export const PASSWORD = 'secretpass';

export interface TestServer {
  dir: string;
  server: RunningServer;
  ports: Partial<Record<ServiceName, number>>;
  host: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  services?: ServiceName[];
  /** Extra top-level config (e.g. transports, limits). */
  config?: Record<string, unknown>;
  requestClientCertificates?: boolean;
  /** An existing data directory (e.g. after a restart); created when absent. */
  dir?: string;
  log?: Logger;
  hooks?: ServerHooks;
  /** The first account's address (its domain gets DKIM keys); default alice@example.test. */
  address?: string;
  /** Fixed ports (e.g. to restart a peer on the same port); default ephemeral. */
  ports?: Partial<Record<ServiceName, number>>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'postern-e2e-'));
  const host = '127.0.0.1';
  if (!opts.dir) {
    await initDataDir({ dir, address: opts.address ?? ADDRESS, hostname: 'localhost', listen: host, portBase: 0, password: PASSWORD });
  }
  // Keep quickstart's DKIM keys: submitted mail is signed as in production.
  const written = YAML.parse(readFileSync(join(dir, 'postern.conf'), 'utf8')) as { dkim?: unknown };
  const services = opts.services ?? ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'http', 'https'];
  const doc = {
    hostname: 'localhost',
    tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' },
    listeners: {
      main: {
        ips: [host],
        services,
        ports: Object.fromEntries(services.map((s) => [s, opts.ports?.[s] ?? 0])),
        requestClientCertificates: opts.requestClientCertificates ?? true,
      },
    },
    authFailureDelayMs: 0,
    ...(written.dkim ? { dkim: written.dkim } : {}),
    ...opts.config,
  };
  writeFileSync(join(dir, 'postern.conf'), YAML.stringify(doc));
  const config = parseConfig(doc, dir);
  const log = opts.log ?? (process.env.POSTERN_TEST_LOG ? createLogger() : silentLogger);
  const server = await startServer(config, log, opts.hooks);
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const l of server.listeners) ports[l.service] = l.port;
  return {
    dir,
    server,
    ports,
    host,
    stop: async () => {
      await server.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Our client logged in as ADDRESS over implicit TLS, verifying the server's own certificate. */
export async function imapsClient(srv: TestServer): Promise<ImapClient> {
  return ImapClient.connect({
    host: '127.0.0.1',
    port: srv.ports.imaps!,
    tls: 'implicit',
    ca: readFileSync(join(srv.dir, 'tls', 'cert.pem')),
    servername: 'localhost',
    auth: { username: ADDRESS, password: PASSWORD },
  });
}
