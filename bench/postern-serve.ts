// `postern serve` for the benches that measure worker processes (issue 20): a data directory made as
// quickstart makes it, users and messages put in through the store API before the server starts,
// then `postern --dir DIR serve` as a child with `workers: N` in its config and fixed loopback ports
// (port 0 would give each worker its own port where workers listen with SO_REUSEPORT).
// What the figures need to know about the server is what runs: `processes()` lists the server's
// process tree, and connectionsPerProcess (proc-sockets.ts) tells how the clients spread over it.
// A build whose config does not know `workers` refuses it (unknown keys are errors): the server is
// then started without it, and `workersRefused` says so, so that no figure claims workers it had not.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { deriveCredentials } from '../src/auth/password.js';
import { initDataDir } from '../src/cli/quickstart.js';
import { buildMessageCache } from '../src/mime/message-cache.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { NewMessage, Store } from '../src/store/types.js';
import { generateClientCertificate } from '../src/tls/generate.js';
import { freePort } from '../test/e2e/dovecot-process.js';
import { BENCH_PASSWORD, seedMessage } from './bench-messages.js';
import { processTree, sleep } from './figures.js';

/** The compiled CLI of this build (dist/bench -> dist/src/cli/main.js). */
const POSTERN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface PosternServeSetup {
  /** Accounts user1..userN@example.test with BENCH_PASSWORD. */
  users: number;
  /** Messages put into each user's INBOX. */
  seed: number;
  /** `workers` in the config; undefined leaves the key out (the server's default). */
  workers?: number;
}

export interface PosternServe {
  dir: string;
  /** The process `serve` started as (the primary when there are workers). */
  pid: number;
  imapsPort: number;
  /** Client certificate registered for user1 (PREAUTH). */
  certPem: string;
  keyPem: string;
  fillMs: number;
  workersRequested: number | undefined;
  /** Set when the config refused `workers` (a build without worker processes): it ran without. */
  workersRefused: string | null;
  /** The server's process tree now (pid first). */
  processes(): number[];
  /** The last lines of the server's log, for error messages. */
  logTail(): string;
  stop(): Promise<void>;
}

/** Appends messages through the store as delivery does (as postern-bench-server.ts fills). */
async function fill(store: Store, accountId: number, count: number): Promise<void> {
  const mb = (await store.getMailbox(accountId, 'INBOX'))!;
  const batch: Promise<NewMessage>[] = [];
  for (let i = 0; i < count; i++) {
    const buf = seedMessage(i);
    batch.push(store.stageBlob(buf).then((blob) => ({ blob, flags: i % 2 ? ['\\Seen'] : [], internalDate: new Date(), cache: JSON.stringify(buildMessageCache(buf)) })));
  }
  if (batch.length) await store.appendMessages(accountId, mb.id, await Promise.all(batch));
}

function writeConfig(dir: string, imapsPort: number, workers: number | undefined): void {
  const file = join(dir, 'postern.conf');
  const written = YAML.parse(readFileSync(file, 'utf8')) as { dkim?: unknown };
  const doc = {
    hostname: 'localhost',
    tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' },
    listeners: { main: { ips: ['127.0.0.1'], services: ['imaps'], ports: { imaps: imapsPort }, requestClientCertificates: true } },
    ...(written.dkim ? { dkim: written.dkim } : {}),
    ...(workers === undefined ? {} : { workers }),
  };
  writeFileSync(file, YAML.stringify(doc));
}

function isAlive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped) counts as gone.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves true once the port accepts a TCP connection; false if the server exited or the time ran out. */
async function waitForPort(port: number, alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** Server trees still running: killed (and their data removed) if this process exits without stopping them (an error, Ctrl-C, a closed pipe). */
const running = new Map<number, string>();
let exitHook = false;
function killOnExit(pid: number, dir: string): void {
  running.set(pid, dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const [root, dir] of running) {
      for (const p of processTree(root)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
}

export async function startPosternServe(setup: PosternServeSetup): Promise<PosternServe> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-serve-'));
  await initDataDir({ dir, address: 'postmaster@example.test', hostname: 'localhost', listen: '127.0.0.1', portBase: 0, password: BENCH_PASSWORD });
  const t = performance.now();
  const store = await SqliteStore.open({ dir });
  const key = generateClientCertificate('bench');
  try {
    // One derivation for all: the same password, and the verifier's cost is per login, not per account.
    const creds = await deriveCredentials(BENCH_PASSWORD);
    for (let u = 1; u <= setup.users; u++) {
      const a = await store.createAccount(`user${u}`, `user${u}@example.test`);
      await store.setCredentials(a.id, creds);
      if (u === 1) {
        await store.addTlsPubKey(a.id, { fingerprint: key.fingerprint, type: 'ed25519', name: 'bench', loginAddress: 'user1@example.test', noImapPreauth: false, certDer: key.certDer });
      }
      await fill(store, a.id, setup.seed);
    }
  } finally {
    await store.close();
  }
  const fillMs = performance.now() - t;
  const imapsPort = await freePort();
  mkdirSync(join(dir, 'log'), { recursive: true });
  const logFile = join(dir, 'log', 'postern.log');

  const launch = async (workers: number | undefined) => {
    writeConfig(dir, imapsPort, workers);
    const fd = openSync(logFile, 'a');
    // The thread pool size bin/postern.cjs sets for `postern serve` (this runs the ES module entry).
    // POSTERN_BENCH_PROF=<dir>: a CPU profile of every server process there (node --cpu-prof; the
    // workers inherit it, node:cluster forks with the primary's execArgv), as postern-process.ts.
    const dirArg = process.env.POSTERN_BENCH_PROF;
    const nodeArgs = dirArg ? ['--cpu-prof', `--cpu-prof-dir=${dirArg}`] : [];
    const child = spawn(process.execPath, [...nodeArgs, POSTERN_MAIN, '--dir', dir, 'serve'], {
      env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    let alive = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => ((alive = false), resolve())));
    const up = await waitForPort(imapsPort, () => alive, 60_000);
    return { child, exited, up };
  };
  const logTail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };

  let workersRefused: string | null = null;
  let run = await launch(setup.workers);
  if (!run.up && setup.workers !== undefined && /workers: unknown key/.test(logTail())) {
    workersRefused = 'this build\'s config has no `workers` key (unknown key): started without it';
    run = await launch(undefined);
  }
  if (!run.up) {
    run.child.kill('SIGKILL');
    throw new Error(`postern serve did not start:\n${logTail()}`);
  }
  const { child, exited } = run;
  killOnExit(child.pid!, dir);
  // Workers start after the first one listens: wait until the process tree stops changing.
  let last = processTree(child.pid!).length;
  for (let stable = 0, i = 0; stable < 5 && i < 100; i++) {
    await sleep(200);
    const n = processTree(child.pid!).length;
    stable = n === last ? stable + 1 : 0;
    last = n;
  }
  return {
    dir,
    pid: child.pid!,
    imapsPort,
    certPem: key.certPem,
    keyPem: key.keyPem,
    fillMs,
    workersRequested: setup.workers,
    workersRefused,
    processes: () => processTree(child.pid!),
    logTail,
    async stop() {
      // Workers that outlive their primary would hold the port and the fds: remember them first.
      const tree = processTree(child.pid!);
      child.kill('SIGTERM');
      const killAll = () => {
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // Gone already.
          }
        }
      };
      const t = setTimeout(killAll, 20_000);
      await exited;
      clearTimeout(t);
      running.delete(child.pid!);
      for (let i = 0; i < 50 && tree.some(isAlive); i++) await sleep(100);
      if (tree.some(isAlive)) killAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
