// Workload 2: logins per second over implicit TLS, each a new connection: greeting, login, LOGOUT.
// Password logins on both servers (LOGIN; Postern verifies scrypt N=2^15, Dovecot SHA512-CRYPT of
// comparable cost, printed first), with each server's verified-credential cache on (Postern's
// default; Dovecot's auth_cache_size set): "first" logins are of a user not seen before (a scrypt
// or crypt run each), "repeated" ones the same user and password again (a cache hit each).
// Certificate logins: Postern's PREAUTH (the greeting is the login) and, for reference, Dovecot's
// AUTHENTICATE EXTERNAL with a CA-issued certificate.
import { execFileSync } from 'node:child_process';
import { BENCH_PASSWORD } from './bench-messages.js';
import { CERT_USER, cryptHash, startDovecotBench } from './dovecot-bench.js';
import { figure, note, now, runFor, sleep } from './figures.js';
import { ImapBenchClient, loopbackSource, type ConnectOptions } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const SECONDS = Number(process.env.BENCH_LOGIN_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_LOGIN_CLIENTS ?? 10);
/** Users for first logins: more than either server verifies in SECONDS. */
const USERS = Number(process.env.BENCH_LOGIN_USERS ?? 1000);

/** Mean milliseconds of `doveadm pw -t` for the hash, less the same for a {PLAIN} hash (process start). */
function dovecotVerifyMs(): number {
  const time = (hash: string, pw: string) => {
    const t = now();
    for (let i = 0; i < 5; i++) execFileSync('doveadm', ['pw', '-t', hash, '-p', pw]);
    return (now() - t) / 5;
  };
  return time(cryptHash(), BENCH_PASSWORD) - time('{PLAIN}x', 'x');
}

/** Logins per second; `login` returns false for a temporary refusal (retried, not counted). */
async function loginRate(connect: ConnectOptions, login: (c: ImapBenchClient) => Promise<boolean>): Promise<{ rate: number; refused: number }> {
  let refused = 0;
  const r = await runFor(CLIENTS, SECONDS * 1000, async (w) => {
    const c = await ImapBenchClient.connect({ ...connect, localAddress: loopbackSource(w, 1) });
    try {
      const ok = await login(c);
      await c.cmd('LOGOUT');
      if (!ok) {
        refused++;
        await sleep(10);
      }
      return ok ? 1 : 0;
    } finally {
      c.close();
    }
  });
  return { rate: r.count / (r.ms / 1000), refused };
}

/** LOGIN; false on NO [UNAVAILABLE] (Postern's hash queue full: try again), throws on other NOs. */
async function passwordLogin(c: ImapBenchClient, user: string): Promise<boolean> {
  const r = await c.cmd(`LOGIN ${user} ${BENCH_PASSWORD}`, { allowNo: true });
  if (r.status === 'OK') return true;
  if (r.text.startsWith('NO [UNAVAILABLE]')) return false;
  throw new Error(`LOGIN ${user}: ${r.status} ${r.text}`);
}

/** user2..userN in turn; a refused login is retried with the same user (still not verified). */
function firstLogins(): (c: ImapBenchClient) => Promise<boolean> {
  let next = 2;
  const retry: number[] = [];
  return async (c) => {
    const u = retry.pop() ?? next++;
    if (u > USERS) throw new Error(`more than ${USERS - 1} first logins: raise BENCH_LOGIN_USERS`);
    const ok = await passwordLogin(c, `user${u}@example.test`);
    if (!ok) retry.push(u);
    return ok;
  };
}

async function main(): Promise<void> {
  note(`imap logins: ${CLIENTS} concurrent clients, ${SECONDS} s per run, a new TLS connection per login`);
  const postern = await startPostern({ users: USERS });
  const dovecot = await startDovecotBench({ users: USERS, connections: 200, authCache: true });
  try {
    figure('password verification (one, unloaded)', postern.scryptMs, dovecotVerifyMs(), 'ms');
    const pFirst = await loginRate({ port: postern.ports.imaps }, firstLogins());
    const dFirst = await loginRate({ port: dovecot.imapsPort }, firstLogins());
    figure('password logins over TLS, first (a new user each, verified)', pFirst.rate, dFirst.rate, 'logins/s');
    const repeated = (c: ImapBenchClient) => passwordLogin(c, 'user1@example.test');
    for (const port of [postern.ports.imaps, dovecot.imapsPort]) {
      // Warm each cache with one verified login.
      const c = await ImapBenchClient.connect({ port });
      await repeated(c);
      c.close();
    }
    const pRep = await loginRate({ port: postern.ports.imaps }, repeated);
    const dRep = await loginRate({ port: dovecot.imapsPort }, repeated);
    figure('password logins over TLS, repeated (same user and password, cached)', pRep.rate, dRep.rate, 'logins/s');
    note(`temporary refusals (NO [UNAVAILABLE], retried): postern first ${pFirst.refused}, repeated ${pRep.refused}; dovecot first ${dFirst.refused}, repeated ${dRep.refused}`);
    const pCert = await loginRate({ port: postern.ports.imaps, cert: postern.certPem, key: postern.keyPem }, async (c) => {
      if (!c.greeting.startsWith('* PREAUTH')) throw new Error(`no PREAUTH: ${c.greeting}`);
      return true;
    });
    const dCert = await loginRate({ port: dovecot.imapsPort, cert: dovecot.clientCertPem, key: dovecot.clientKeyPem }, async (c) => {
      await c.cmd('AUTHENTICATE EXTERNAL =');
      return true;
    });
    figure('certificate logins over TLS (postern PREAUTH, dovecot EXTERNAL)', pCert.rate, dCert.rate, 'logins/s');
    figure('postern PREAUTH vs dovecot repeated password logins', pCert.rate, dRep.rate, 'logins/s');
    note(`dovecot certificate user: ${CERT_USER}`);
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
