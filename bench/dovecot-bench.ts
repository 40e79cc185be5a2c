// A throw-away Dovecot for benchmarks, a variant of test/imap-client/dovecot.ts: the same users as
// the Postern side (user1..userN@example.test, passwd-file, maildir in a temp dir), a CA-issued
// server certificate (ECDSA P-256 like Postern's), IMAPS and (optionally) submissions on loopback
// high ports, and settings as Debian ships them except where noted:
// - passwords: {SHA512-CRYPT} with DOVECOT_CRYPT_ROUNDS, chosen to cost about what Postern's scrypt
//   (N=2^15, r=8) costs per verification (docs/benchmarks.md); auth_cache stays off (the default)
//   unless `authCache` sets auth_cache_size (the login benches: Postern caches verified passwords);
// - imap-login in Dovecot's documented high-performance mode (service_count = 0, a few processes
//   with many clients each), since one login process per TLS connection cannot reach 10,000;
// - limits raised for the connection count (process and client limits, mail_max_userip_connections);
// - a client-certificate user (`cert@example.test`, EXTERNAL) for the idle workload, as the cheap
//   login Dovecot offers next to Postern's PREAUTH.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOVECOT_BIN, freePort, mailIds, makeCertificates, runDovecot, sharedSettings } from '../test/e2e/dovecot-process.js';
import { bigMailboxFlags, bigMailboxMessage, seedMessage } from './bench-messages.js';
import { BENCH_PASSWORD } from './bench-messages.js';

export { DOVECOT_BIN };
export const CERT_USER = 'cert@example.test';
/** About 130 ms per verification on the reference machine, like scrypt N=2^15 (measured and printed). */
export const DOVECOT_CRYPT_ROUNDS = Number(process.env.BENCH_CRYPT_ROUNDS ?? 160_000);

/** Bytes; Postern's default cache holds 10,000 entries of ~150 bytes. */
export const AUTH_CACHE_SIZE = '10M';

export interface DovecotBenchOptions {
  users?: number;
  seed?: number;
  /** Messages in big@example.test's INBOX. */
  big?: number;
  /** Concurrent connections to allow (limits scale with it). */
  connections?: number;
  /** Enables submission, relaying to this port on 127.0.0.1. */
  relayPort?: number;
  /** auth_cache_size set (Dovecot's verified-credential cache), as Postern's is on by default. */
  authCache?: boolean;
  /**
   * SHA512-CRYPT rounds of the users' hash (default DOVECOT_CRYPT_ROUNDS, like scrypt's cost). The
   * session workloads use the minimum, 1,000 (~0.7 ms), about a Postern cache hit: Dovecot's cache
   * re-verifies the hash on every hit, so an expensive one would make them measure hashing.
   */
  cryptRounds?: number;
  /** Empty folders besides INBOX for every userN (Maildir++ `.Name`), e.g. the ones Postern creates per account. */
  folders?: string[];
  /** Loads imap_zlib: COMPRESS=DEFLATE (RFC 4978). */
  compress?: boolean;
}

export interface DovecotBench {
  dir: string;
  pid: number;
  imapsPort: number;
  submissionsPort: number;
  caPem: string;
  /** CA-issued client certificate with CN = CERT_USER. */
  clientCertPem: string;
  clientKeyPem: string;
  fillMs: number;
  log(): string;
  stop(): Promise<void>;
}





/** The passwd-file hash of BENCH_PASSWORD (one for all users, as on the Postern side). */
export function cryptHash(rounds = DOVECOT_CRYPT_ROUNDS): string {
  return execFileSync('doveadm', ['pw', '-s', 'SHA512-CRYPT', '-r', String(rounds), '-p', BENCH_PASSWORD]).toString().trim();
}

/** Writes messages into a maildir as a delivery agent would (cur/, flags in the name, S=size). */
export function writeMaildir(maildir: string, count: number, make: (i: number) => { buf: Buffer; flags: string[] }): void {
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, d), { recursive: true });
  const letters: Record<string, string> = { '\\Seen': 'S', '\\Flagged': 'F', '\\Answered': 'R', '\\Deleted': 'T', '\\Draft': 'D' };
  const base = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    const { buf, flags } = make(i);
    const f = flags.map((x) => letters[x] ?? '').sort().join('');
    writeFileSync(join(maildir, 'cur', `${base + i}.M${i}P1.bench,S=${buf.length}:2,${f}`), buf);
  }
}

export async function startDovecotBench(opts: DovecotBenchOptions = {}): Promise<DovecotBench> {
  const users = opts.users ?? 1;
  const conns = opts.connections ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-dovecot-'));
  chmodSync(dir, 0o755);
  makeCertificates(dir, CERT_USER);
  const ids = mailIds();
  const hash = cryptHash(opts.cryptRounds);
  const home = (u: string) => join(dir, 'home', u);
  let passwd = '';
  const t0 = performance.now();
  for (let u = 1; u <= users; u++) {
    const name = `user${u}@example.test`;
    passwd += `${name}:${hash}:${ids.uid}:${ids.gid}::${home(name)}::\n`;
    writeMaildir(join(home(name), 'Maildir'), opts.seed ?? 0, (i) => ({ buf: seedMessage(i), flags: i % 2 ? ['\\Seen'] : [] }));
    for (const f of opts.folders ?? []) writeMaildir(join(home(name), 'Maildir', `.${f}`), 0, () => ({ buf: Buffer.alloc(0), flags: [] }));
  }
  passwd += `${CERT_USER}::${ids.uid}:${ids.gid}::${home(CERT_USER)}::nopassword\n`;
  writeMaildir(join(home(CERT_USER), "Maildir"), opts.seed ?? 0, (i) => ({ buf: seedMessage(i), flags: i % 2 ? ["\\Seen"] : [] }));
  if (opts.big) {
    passwd += `big@example.test:${hash}:${ids.uid}:${ids.gid}::${home('big@example.test')}::\n`;
    writeMaildir(join(home('big@example.test'), 'Maildir'), opts.big, (i) => ({ buf: bigMailboxMessage(i, opts.big!), flags: bigMailboxFlags(i) }));
  }
  const fillMs = performance.now() - t0;
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, join(dir, 'home')]);
  writeFileSync(join(dir, 'users'), passwd);
  const [imapsPort, submissionsPort] = [await freePort(), await freePort()];
  const submission = opts.relayPort !== undefined;
  const conf = `
instance_name = postern-bench-${imapsPort}
${sharedSettings(dir, ids)}
protocols = imap${submission ? ' submission' : ''}
hostname = localhost
ssl = required
auth_mechanisms = plain login external
auth_failure_delay = 0
${opts.authCache ? `# Dovecot caches a verified password as a cheap hash of it (auth_cache_verify_password_with_worker stays no).
auth_cache_size = ${AUTH_CACHE_SIZE}
auth_cache_ttl = 1 hour` : ''}
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
protocol imap {
  mail_max_userip_connections = ${conns + 100}${opts.compress ? '\n  mail_plugins = $mail_plugins imap_zlib' : ''}
}
service imap-login {
  chroot =
  service_count = 0
  # Thousands of TLS clients per login process need more than the default 256M.
  vsz_limit = 4G
  process_min_avail = 4
  client_limit = ${Math.max(1000, Math.ceil(conns / 3))}
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service imap {
  process_limit = ${conns + 100}
  # The default 256M is too little for a mailbox of 1,000,000 messages (bench/imap-latency-isolation.ts).
  vsz_limit = 2G
}
${submission ? `submission_relay_host = 127.0.0.1
submission_relay_port = ${opts.relayPort}
submission_relay_trusted = yes
service submission-login {
  chroot =
  inet_listener submission {
    port = 0
  }
  inet_listener submissions {
    address = 127.0.0.1
    port = ${submissionsPort}
    ssl = yes
  }
}` : ''}
service anvil {
  chroot =
  client_limit = ${2 * conns + 2000}
}
service auth {
  user = ${process.getuid?.() === 0 ? 'root' : ids.internal}
  client_limit = ${2 * conns + 2000}
}
service stats {
  chroot =
  client_limit = ${2 * conns + 2000}
}
default_client_limit = ${Math.max(1000, conns + 100)}
`;
  // Stopping after 10,000 connections takes a while: 30 s before SIGKILL.
  const proc = await runDovecot(dir, conf, submission ? [imapsPort, submissionsPort] : [imapsPort], 30_000);
  const { child, log } = proc;
  return {
    dir,
    pid: child.pid!,
    imapsPort,
    submissionsPort,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientCertPem: readFileSync(join(dir, 'client.crt'), 'utf8'),
    clientKeyPem: readFileSync(join(dir, 'client.key'), 'utf8'),
    fillMs,
    log,
    async stop() {
      // Dovecot's own complaints (limits reached, refused logins) explain odd figures.
      const problems = [...new Set(log().split('\n').filter((l) => /Fatal|Error|Warning|Panic/.test(l)).map((l) => l.replace(/^.*?: /, '').slice(0, 200)))];
      for (const p of problems.slice(0, 5)) console.log(`# dovecot log: ${p}`);
      await proc.stop();
    },
  };
}
