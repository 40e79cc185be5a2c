// Starts a throw-away Dovecot (Debian 12: 2.3.19) for interop tests: config, users, maildirs,
// a tiny CA (openssl) with a server certificate and a client certificate, all in a temp dir,
// IMAP (STARTTLS) and IMAPS on free loopback ports. Mechanisms: PLAIN, LOGIN, CRAM-MD5,
// SCRAM-SHA-1, SCRAM-SHA-256 and EXTERNAL (Dovecot 2.3 has no SCRAM -PLUS).
//
// EXTERNAL in Dovecot needs a CA-issued client certificate (ssl_ca, ssl_verify_client_cert)
// whose CN is the user name (auth_ssl_username_from_cert); mech-external then verifies an
// empty password, so the certificate user has `nopassword` in the passwd-file.

import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOVECOT_BIN, freePort, mailIds, makeCertificates, runDovecot, sharedSettings } from '../e2e/dovecot-process.js';

export { DOVECOT_BIN };

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

/** Whether the Dovecot tests can run; under CI (CI=true, set by .ci/run) they must, so a missing
 * Dovecot is not a skip there but a failure when the tests try to start it. */
export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BIN) || process.env.CI === 'true';
}





/** `compress`: loads imap_zlib (COMPRESS=DEFLATE, RFC 4978); `extraConf`: settings appended to the configuration (e.g. a test's plugin settings). */
export async function startDovecot(opts: { compress?: boolean; extraConf?: string } = {}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-dovecot-'));
  chmodSync(dir, 0o755); // the mail user (not us) must reach the homes
  makeCertificates(dir, DOVECOT_CERT_USER);
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
${sharedSettings(dir, ids)}
protocols = imap
mail_plugins =
ssl = yes
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 external
auth_verbose = yes
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
${opts.compress ? 'protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}' : ''}
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
${opts.extraConf ?? ''}
`;
  const proc = await runDovecot(dir, conf, [imapPort, imapsPort]);
  const log = proc.log;
  return {
    dir,
    host: '127.0.0.1',
    imapPort,
    imapsPort,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientCertPem: readFileSync(join(dir, 'client.crt'), 'utf8'),
    clientKeyPem: readFileSync(join(dir, 'client.key'), 'utf8'),
    log,
    stop: proc.stop,
  };
}
