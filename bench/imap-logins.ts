// Workload 2: logins per second over implicit TLS, each a new connection: greeting, login, LOGOUT.
// Password logins on both servers (LOGIN; Postern verifies scrypt N=2^15, Dovecot SHA512-CRYPT of
// comparable cost, printed first); certificate logins: Postern's PREAUTH (the greeting is the login)
// and, for reference, Dovecot's AUTHENTICATE EXTERNAL with a CA-issued certificate.
import { execFileSync } from 'node:child_process';
import { BENCH_PASSWORD } from './bench-messages.js';
import { CERT_USER, cryptHash, startDovecotBench } from './dovecot-bench.js';
import { figure, note, now, runFor } from './figures.js';
import { ImapBenchClient, loopbackSource, type ConnectOptions } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const SECONDS = Number(process.env.BENCH_LOGIN_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_LOGIN_CLIENTS ?? 10);

/** Mean milliseconds of `doveadm pw -t` for the hash, less the same for a {PLAIN} hash (process start). */
function dovecotVerifyMs(): number {
  const time = (hash: string, pw: string) => {
    const t = now();
    for (let i = 0; i < 5; i++) execFileSync('doveadm', ['pw', '-t', hash, '-p', pw]);
    return (now() - t) / 5;
  };
  return time(cryptHash(), BENCH_PASSWORD) - time('{PLAIN}x', 'x');
}

async function loginRate(connect: ConnectOptions, login: (c: ImapBenchClient) => Promise<void>): Promise<number> {
  const r = await runFor(CLIENTS, SECONDS * 1000, async (w) => {
    const c = await ImapBenchClient.connect({ ...connect, localAddress: loopbackSource(w, 1) });
    try {
      await login(c);
      await c.cmd('LOGOUT');
    } finally {
      c.close();
    }
    return 1;
  });
  return r.count / (r.ms / 1000);
}

const password = (c: ImapBenchClient) => c.cmd(`LOGIN user1@example.test ${BENCH_PASSWORD}`).then(() => undefined);

async function main(): Promise<void> {
  note(`imap logins: ${CLIENTS} concurrent clients, ${SECONDS} s per run, a new TLS connection per login`);
  const postern = await startPostern({ users: 1 });
  const dovecot = await startDovecotBench({ users: 1, connections: 200 });
  try {
    figure('password verification (one, unloaded)', postern.scryptMs, dovecotVerifyMs(), 'ms');
    const pPw = await loginRate({ port: postern.ports.imaps }, password);
    const dPw = await loginRate({ port: dovecot.imapsPort }, password);
    figure('password logins over TLS', pPw, dPw, 'logins/s');
    const pCert = await loginRate({ port: postern.ports.imaps, cert: postern.certPem, key: postern.keyPem }, async (c) => {
      if (!c.greeting.startsWith('* PREAUTH')) throw new Error(`no PREAUTH: ${c.greeting}`);
    });
    const dCert = await loginRate({ port: dovecot.imapsPort, cert: dovecot.clientCertPem, key: dovecot.clientKeyPem }, async (c) => {
      await c.cmd('AUTHENTICATE EXTERNAL =');
    });
    figure('certificate logins over TLS (postern PREAUTH, dovecot EXTERNAL)', pCert, dCert, 'logins/s');
    figure('postern PREAUTH vs dovecot password logins', pCert, dPw, 'logins/s');
    note(`dovecot certificate user: ${CERT_USER}`);
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
