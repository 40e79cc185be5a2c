// `postern serve --workers N` as a child process on a quickstart data directory (ephemeral loopback
// ports): the primary's listening lines give the ports, the workers' lines their pids, and each
// login line names the worker that took the session (worker=SLOT), so a test knows which worker
// serves which connection.

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tlsLogin, type Client } from '../imap/harness.js';
import { ADDRESS, PASSWORD, POSTERN, quickstartDir, type ChildService } from '../reliability/serve-child.js';

export { ADDRESS, PASSWORD, POSTERN } from '../reliability/serve-child.js';

export interface ClusterChild {
  dir: string;
  proc: ChildProcess;
  ports: Partial<Record<ChildService, number>>;
  output(): string;
  /** Worker slot -> pid of its current process, from the "worker ready" lines. */
  workers(): Map<number, number>;
  /** The worker slot of each login line, in order. */
  logins(): number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until `fn` holds over the output (polling), or fails after `ms`. */
  waitFor(what: string, fn: () => boolean, ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function clusterDir(services: ChildService[], extra: Record<string, unknown> = {}): string {
  return quickstartDir(services, { workers: 2, ...extra });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts the cluster and waits until all `workers` are ready and every service's port is known. */
export async function startCluster(dir: string, workers: number, services: ChildService[], timeoutMs = 90_000): Promise<ClusterChild> {
  const proc = spawn(process.execPath, [POSTERN, '--dir', dir, 'serve', '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16', POSTERN_LOG_LEVEL: 'info' },
  });
  let out = '';
  const add = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  proc.stdout!.on('data', add);
  proc.stderr!.on('data', add);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const ports: Partial<Record<ChildService, number>> = {};
  const child: ClusterChild = {
    dir,
    proc,
    ports,
    output: () => out,
    workers: () => {
      const m = new Map<number, number>();
      for (const x of out.matchAll(/worker ready worker=(\d+) pid=(\d+)/g)) m.set(Number(x[1]), Number(x[2]));
      return m;
    },
    logins: () => [...out.matchAll(/ info login worker=(\d+) /g)].map((x) => Number(x[1])),
    exited,
    async waitFor(what, fn, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (!fn()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${out.slice(-4000)}`);
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`serve exited while waiting for ${what}:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  await child.waitFor(
    'the cluster to start',
    () => {
      for (const m of out.matchAll(/ info listening service=(\w+) address=\S+ port=(\d+)/g)) ports[m[1] as ChildService] = Number(m[2]);
      return services.every((s) => ports[s] !== undefined) && child.workers().size === workers;
    },
    timeoutMs,
  );
  return child;
}

/** Kills every process of the cluster: the primary and the workers it had. */
export function killAll(c: ClusterChild): void {
  for (const pid of c.workers().values()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  void c.kill('SIGKILL');
}

/** A raw IMAP session over implicit TLS, logged in, and the worker slot whose login line it made. */
export async function loginOnWorker(c: ClusterChild): Promise<{ client: Client; worker: number }> {
  const before = c.logins().length;
  const client = await tlsLogin(c.ports.imaps!, ADDRESS, PASSWORD);
  await c.waitFor('the login line', () => c.logins().length > before);
  return { client, worker: c.logins()[before]! };
}
