// Starts a throw-away Dovecot (Debian 12: 2.3.19) for interop tests: config, users, maildirs,
// a tiny CA (openssl) with a server certificate and a client certificate, all in a temp dir,
// IMAP (STARTTLS) and IMAPS on free loopback ports. Mechanisms: PLAIN, LOGIN, CRAM-MD5,
// SCRAM-SHA-1, SCRAM-SHA-256 and EXTERNAL (Dovecot 2.3 has no SCRAM -PLUS).
//
// EXTERNAL in Dovecot needs a CA-issued client certificate (ssl_ca, ssl_verify_client_cert)
// whose CN is the user name (auth_ssl_username_from_cert); mech-external then verifies an
// empty password, so the certificate user has `nopassword` in the passwd-file.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOVECOT_BIN = '/usr/sbin/dovecot';
export const DOVECOT_USER = 'alice@example.org';
export const DOVECOT_PASSWORD = 'alice-secret-pw';
/** The client certificate's CN, a user that logs in with EXTERNAL only. */
export const DOVECOT_CERT_USER = 'certuser@example.org';

export interface Dovecot {
  dir: string;
  host: string;
  /** IMAP with STARTTLS. */
  imapPort: number;
  /** IMAPS (implicit TLS). */
  imapsPort: number;
  /** PEM of the CA that issued the server and client certificates. */
  caPem: string;
  /** Client certificate (CN = DOVECOT_CERT_USER) and its key, PEM. */
  clientCertPem: string;
  clientKeyPem: string;
  log(): string;
  stop(): Promise<void>;
}

export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BIN);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, server certificate for localhost/127.0.0.1, client certificate with CN = user. */
function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Postern Test CA', '-days', '3',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3', '-extfile', 'server.ext']);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-new', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${DOVECOT_CERT_USER}`]);
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '3', '-extfile', 'client.ext']);
}

/** uid/gid for mail users: Dovecot refuses root, so as root use the `dovecot` system user. */
function mailIds(): { uid: number; gid: number; login: string; internal: string } {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const name = execFileSync('id', ['-un']).toString().trim();
    return { uid, gid: process.getgid?.() ?? 0, login: name, internal: name };
  }
  const entry = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('dovecot:'));
  if (!entry) throw new Error('no dovecot user in /etc/passwd');
  const [, , u, g] = entry.split(':');
  return { uid: Number(u), gid: Number(g), login: 'dovenull', internal: 'dovecot' };
}

export async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-dovecot-'));
  chmodSync(dir, 0o755); // the mail user (not us) must reach the homes
  makeCertificates(dir);
  const ids = mailIds();
  const home = (u: string) => join(dir, 'home', u);
  for (const u of [DOVECOT_USER, DOVECOT_CERT_USER]) {
    mkdirSync(home(u), { recursive: true });
    if (process.getuid?.() === 0) {
      chownSync(home(u), ids.uid, ids.gid);
    }
  }
  chmodSync(join(dir, 'home'), 0o755);
  writeFileSync(
    join(dir, 'users'),
    `${DOVECOT_USER}:{PLAIN}${DOVECOT_PASSWORD}:${ids.uid}:${ids.gid}::${home(DOVECOT_USER)}::\n` +
      `${DOVECOT_CERT_USER}::${ids.uid}:${ids.gid}::${home(DOVECOT_CERT_USER)}::nopassword\n`,
  );
  const [imapPort, imapsPort] = [await freePort(), await freePort()];
  const conf = `
instance_name = postern-test-${imapPort}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = ${ids.login}
default_internal_user = ${ids.internal}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_plugins =
ssl = yes
ssl_cert = <${dir}/server.crt
ssl_key = <${dir}/server.key
ssl_ca = <${dir}/ca.crt
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_min_protocol = TLSv1.2
auth_ssl_username_from_cert = yes
ssl_cert_username_field = commonName
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 external
auth_verbose = yes
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service anvil {
  chroot =
}
service auth {
  user = ${process.getuid?.() === 0 ? 'root' : ids.internal}
}
service stats {
  chroot =
}
`;
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  const child: ChildProcess = spawn(DOVECOT_BIN, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => output + (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '');
  // Wait until both listeners accept connections.
  const deadline = Date.now() + 15_000;
  for (const port of [imapPort, imapsPort]) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dovecot exited: ${log()}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`dovecot did not start: ${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    dir,
    host: '127.0.0.1',
    imapPort,
    imapsPort,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientCertPem: readFileSync(join(dir, 'client.crt'), 'utf8'),
    clientKeyPem: readFileSync(join(dir, 'client.key'), 'utf8'),
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
