// Bench-only entry: runs a whole Postern (test/e2e/server-harness.ts) in its own process so that its
// RSS is the server's alone, sets up users and messages through the store API, prints one JSON line
// with its ports, and serves until stdin closes or SIGTERM. Logs at info level to a file, as
// `postern serve` would, since Dovecot logs to its file too.
import { openSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deriveCredentials } from '../src/auth/password.js';
import { FailureLimiter } from '../src/auth/rate-limit.js';
import type { StoreAuthenticator } from '../src/auth/store-authenticator.js';
import { scrypt } from 'node:crypto';
import { buildMessageCache } from '../src/mime/message-cache.js';
import { createLogger } from '../src/log/logger.js';
import type { NewMessage, Store } from '../src/store/types.js';
import { generateClientCertificate } from '../src/tls/generate.js';
import { startTestServer } from '../test/e2e/server-harness.js';
import { bigMailboxFlags, bigMailboxMessage, seedMessage } from './bench-messages.js';

export interface PosternBenchSetup {
  /** Accounts user1..userN@example.test with BENCH_PASSWORD. */
  users: number;
  /** Messages put into each user's INBOX. */
  seed: number;
  /** Messages in the INBOX of big@example.test (0: no such account). */
  big: number;
  /**
   * The login flood (bench/login-flood.ts): failed-auth budgets so high that wrong passwords from
   * 200 addresses all reach password hashing, instead of being refused at the door (spec 3.4).
   */
  openAuthLimits?: boolean;
  /**
   * Diagnosis only: scrypt on libuv's thread pool, uncapped (what the server did before the hash
   * pool), to show what the pool's isolation is worth under the flood.
   */
  hashOnLibuvPool?: boolean;
  /** authFailureDelayMs (production default 1000; the test harness's 0 when absent). */
  authFailureDelayMs?: number;
  /** Diagnosis only: no DKIM keys, to show what signing costs (Dovecot's submission signs nothing). */
  noDkim?: boolean;
}

export interface PosternBenchInfo {
  pid: number;
  ports: { imaps: number; submissions: number };
  /** Client certificate registered for user1 (PREAUTH). */
  certPem: string;
  keyPem: string;
  fillMs: number;
  /** Milliseconds for one scrypt password derivation (the verifier's cost). */
  scryptMs: number;
}

import { BENCH_PASSWORD } from './bench-messages.js';

/** Appends messages through the store as delivery does: blobs staged (fsynced) in parallel batches. */
async function fill(store: Store, accountId: number, count: number, make: (i: number) => { buf: Buffer; flags: string[] }): Promise<void> {
  const mb = (await store.getMailbox(accountId, 'INBOX'))!;
  const BATCH = 500;
  for (let i = 0; i < count; i += BATCH) {
    const batch: Promise<NewMessage>[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      const { buf, flags } = make(j);
      batch.push(store.stageBlob(buf).then((blob) => ({ blob, flags, internalDate: new Date(), cache: JSON.stringify(buildMessageCache(buf)) })));
    }
    await store.appendMessages(accountId, mb.id, await Promise.all(batch));
  }
}

/**
 * Diagnosis only (BENCH_POSTERN_NODELAY=1): turns Nagle off on every accepted socket, to measure what
 * the missing setNoDelay(true) in the IMAP/SMTP listeners costs. Off for the figures.
 */
function forceNoDelay(): void {
  type Emit = (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;
  const emit = net.Server.prototype.emit as Emit;
  net.Server.prototype.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection') (args[0] as net.Socket).setNoDelay(true);
    return emit.call(this, event, ...args);
  } as typeof net.Server.prototype.emit;
}

async function main(): Promise<void> {
  if (process.env.BENCH_POSTERN_NODELAY) forceNoDelay();
  const setup = JSON.parse(process.env.POSTERN_BENCH ?? '{}') as PosternBenchSetup;
  // Written synchronously, as `postern serve` writes its log to stderr: Node writes stderr
  // synchronously when it is a file or a pipe (journald).
  let out: number | null = null;
  const log = createLogger({ write: (line) => out !== null && writeSync(out, line + '\n') });
  const config = setup.authFailureDelayMs === undefined ? undefined : { authFailureDelayMs: setup.authFailureDelayMs };
  const srv = await startTestServer({ services: ['imaps', 'submissions'], log, config });
  out = openSync(join(srv.dir, 'postern.log'), 'a');
  if (setup.noDkim) (srv.server.ctx.config as { dkim: unknown }).dkim = {};
  if (setup.openAuthLimits) {
    // A one-second window keeps the limiter's lists short under the flood.
    (srv.server.ctx.auth as unknown as { limiter: FailureLimiter }).limiter = new FailureLimiter([{ ms: 1000, limits: [1e9, 1e9, 1e9] }]);
  }
  if (setup.hashOnLibuvPool) {
    const pool = (srv.server.ctx.auth as StoreAuthenticator).verifier.pool;
    pool.scrypt = (pw, salt, p) => new Promise((resolve, reject) => {
      scrypt(pw, salt, p.keyLength, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
    });
  }
  const store = srv.server.ctx.store;
  let t = performance.now();
  const creds = await deriveCredentials(BENCH_PASSWORD);
  const scryptMs = performance.now() - t;
  t = performance.now();
  const ids: number[] = [];
  for (let u = 1; u <= setup.users; u++) {
    const a = await store.createAccount(`user${u}`, `user${u}@example.test`);
    // One derivation for all: same password, and the verifier's cost is per login, not per account.
    await store.setCredentials(a.id, creds);
    ids.push(a.id);
  }
  const key = generateClientCertificate('bench');
  if (ids.length) {
    await store.addTlsPubKey(ids[0]!, { fingerprint: key.fingerprint, type: 'ed25519', name: 'bench', loginAddress: 'user1@example.test', noImapPreauth: false, certDer: key.certDer });
  }
  for (const id of ids) await fill(store, id, setup.seed, (i) => ({ buf: seedMessage(i), flags: i % 2 ? ['\\Seen'] : [] }));
  if (setup.big > 0) {
    const a = await store.createAccount('big', 'big@example.test');
    await store.setCredentials(a.id, creds);
    await fill(store, a.id, setup.big, (i) => ({ buf: bigMailboxMessage(i, setup.big), flags: bigMailboxFlags(i) }));
  }
  const fillMs = performance.now() - t;
  (globalThis as { gc?: () => void }).gc?.();
  const info: PosternBenchInfo = {
    pid: process.pid,
    ports: { imaps: srv.ports.imaps!, submissions: srv.ports.submissions! },
    certPem: key.certPem,
    keyPem: key.keyPem,
    fillMs,
    scryptMs,
  };
  process.stdout.write(JSON.stringify(info) + '\n');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    srv.stop().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

await main();
