// Running a throw-away Dovecot (Debian 12: 2.3.19) for interop tests and benchmarks: a tiny CA made
// with openssl (server certificate for localhost, client certificate with a chosen CN), the mail
// user ids Dovecot accepts, free loopback ports, and the process itself (started with -F, ready
// when its listeners accept, stopped with SIGTERM).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export const DOVECOT_BIN = '/usr/sbin/dovecot';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** ca.crt, server.crt/.key for localhost/127.0.0.1, client.crt/.key with CN = clientCn, in dir. */
export function makeCertificates(dir: string, clientCn: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Postern Test CA', '-days', '3',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3', '-extfile', 'server.ext']);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-new', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${clientCn}`]);
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '3', '-extfile', 'client.ext']);
}

/** uid/gid for mail users: Dovecot refuses root, so as root use the `dovecot` system user. */
export function mailIds(): { uid: number; gid: number; login: string; internal: string } {
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

/**
 * The settings every Dovecot of ours shares: its own directories under `dir`, loopback, maildir
 * mail owned by `ids`, and TLS with the certificates of makeCertificates: client certificates
 * requested (not required, like Postern) and their CN taken as the user name for EXTERNAL.
 */
export function sharedSettings(dir: string, ids: { login: string; internal: string }): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
listen = 127.0.0.1
default_login_user = ${ids.login}
default_internal_user = ${ids.internal}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
ssl_cert = <${dir}/server.crt
ssl_key = <${dir}/server.key
ssl_ca = <${dir}/ca.crt
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_min_protocol = TLSv1.2
auth_ssl_username_from_cert = yes
ssl_cert_username_field = commonName`;
}

export interface DovecotProcess {
  child: ChildProcess;
  /** Dovecot's output and log file so far, for error messages. */
  log(): string;
  /** SIGTERM (SIGKILL after stopGraceMs), then removes dir. */
  stop(): Promise<void>;
}

/** Writes dir/dovecot.conf, starts Dovecot and resolves once every port accepts connections. */
export async function runDovecot(dir: string, conf: string, ports: number[], stopGraceMs = 5000): Promise<DovecotProcess> {
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  const child: ChildProcess = spawn(DOVECOT_BIN, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => output + (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '');
  const deadline = Date.now() + 15_000;
  for (const port of ports) {
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
    child,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
