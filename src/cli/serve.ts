// `postern serve` and `postern localserve`.

import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { CONFIG_FILE, MAX_WORKERS } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log/logger.js';
import { serveForever } from '../server/run-server.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { parse, positionals } from './args.js';
import { CliError, EX_USAGE } from './cli-error.js';
import { loadConfigOrFail } from './open-store.js';
import { initDataDir } from './quickstart.js';

const SERVE_USAGE = 'postern serve [--workers N]';

/** --workers, else `workers` in the config, else one per core. */
function workerCount(option: unknown, config: Config): number {
  if (option === undefined) return config.workers ?? availableParallelism();
  const n = Number(option);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new CliError(`--workers: a whole number from 1 to ${MAX_WORKERS} (usage: ${SERVE_USAGE})`, EX_USAGE);
  return n;
}

export async function serveCommand(dir: string, args: string[]): Promise<void> {
  const { values, positionals: p } = parse(args, { workers: { type: 'string' } }, SERVE_USAGE);
  positionals(p, 0, 0, SERVE_USAGE);
  const config = loadConfigOrFail(dir);
  if (cluster.isWorker) {
    // Forked by the primary below (cluster/primary.ts) with this same command line.
    const { runWorker } = await import('../cluster/worker.js');
    const server = await runWorker(config, createLogger());
    memoryLog(server?.ctx.store instanceof SqliteStore ? server.ctx.store : null);
    return;
  }
  const workers = workerCount(values.workers, config);
  if (workers === 1) {
    // One process does everything, as before workers existed.
    const server = await serveForever(config);
    memoryLog(server.ctx.store instanceof SqliteStore ? server.ctx.store : null);
    return;
  }
  const { servePrimary } = await import('../cluster/primary.js');
  await servePrimary(config, workers, createLogger());
}

/**
 * Debugging aid: with POSTERN_MEMORY_LOG_MS set, a "memory" line on stderr every that many ms with
 * process.memoryUsage() (MB) and the database size, so a soak can tell V8 heap from native memory.
 */
function memoryLog(store: SqliteStore | null): void {
  const ms = Number(process.env.POSTERN_MEMORY_LOG_MS);
  if (!(ms > 0)) return;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  setInterval(() => {
    const m = process.memoryUsage();
    const space = (name: string) => mb(getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? 0);
    // After shutdown closed the store there is no database to ask.
    const pages = store?.db.open ? Number(store.db.pragma('page_count', { simple: true })) : 0;
    process.stderr.write(`memory rss=${mb(m.rss)} heapTotal=${mb(m.heapTotal)} newSpace=${space('new_space')} oldSpace=${space('old_space')} heapUsed=${mb(m.heapUsed)} external=${mb(m.external)} arrayBuffers=${mb(m.arrayBuffers)} dbPages=${pages}\n`);
  }, ms).unref();
}

export const LOCALSERVE = {
  hostname: 'localhost',
  listen: '127.0.0.1',
  portBase: 1000,
  address: 'postern@localhost',
  password: 'posternpostern',
};

export async function localserveCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, 'postern localserve');
  positionals(p, 0, 0, 'postern localserve');
  if (!existsSync(join(dir, CONFIG_FILE))) {
    await initDataDir({ dir, ...LOCALSERVE });
    console.log(`created a local development setup in ${dir}`);
  }
  const config = loadConfigOrFail(dir);
  const server = await serveForever(config);
  const ports = server.listeners.map((l) => `  ${l.service.padEnd(12)} ${l.host}:${l.port}`).join('\n');
  console.log(`Postern is running (development mode, data in ${dir}).
Listening:
${ports}
Log in as ${LOCALSERVE.address} with password ${LOCALSERVE.password} (unless you changed it), e.g.:
  curl --insecure imaps://${LOCALSERVE.listen}:${LOCALSERVE.portBase + 993}/INBOX --user '${LOCALSERVE.address}:${LOCALSERVE.password}'
The TLS certificate is self-signed: tell your client to accept it. Stop with Ctrl-C.`);
}
