// A throw-away Dovecot (Debian 12: 2.3.19, dovecot-submissiond) running only its submission
// service (RFC 6409) on loopback, relaying what it accepts to an SMTP sink of ours
// (submission_relay_host/port). For interop tests of our SMTP client against a third-party
// server: STARTTLS (587) and implicit TLS (465), and the SASL mechanisms Dovecot 2.3 has:
// PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and EXTERNAL (no SCRAM -PLUS before 2.4).
//
// Like the IMAP helper (test/imap-client/dovecot.ts): a tiny openssl CA issues the server
// certificate and a client certificate whose CN is the EXTERNAL user
// (auth_ssl_username_from_cert); that user has `nopassword` in the passwd-file.

import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOVECOT_BIN, freePort, mailIds, makeCertificates, runDovecot, sharedSettings } from '../e2e/dovecot-process.js';

export const SUBMISSION_USER = 'alice@example.org';
export const SUBMISSION_PASSWORD = 'alice-secret-pw';
export const SUBMISSION_CERT_USER = 'certuser@example.org';

export interface DovecotSubmission {
  host: string;
  /** Submission with STARTTLS. */
  port: number;
  /** Submissions (implicit TLS). */
  tlsPort: number;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  log(): string;
  stop(): Promise<void>;
}

export function dovecotSubmissionAvailable(): boolean {
  return existsSync(DOVECOT_BIN) && existsSync('/usr/lib/dovecot/submission');
}





export async function startDovecotSubmission(relay: { host: string; port: number }): Promise<DovecotSubmission> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-dovecot-subm-'));
  chmodSync(dir, 0o755);
  makeCertificates(dir, SUBMISSION_CERT_USER);
  const ids = mailIds();
  const home = (u: string) => join(dir, 'home', u);
  for (const u of [SUBMISSION_USER, SUBMISSION_CERT_USER]) {
    mkdirSync(home(u), { recursive: true });
    if (process.getuid?.() === 0) chownSync(home(u), ids.uid, ids.gid);
  }
  writeFileSync(
    join(dir, 'users'),
    `${SUBMISSION_USER}:{PLAIN}${SUBMISSION_PASSWORD}:${ids.uid}:${ids.gid}::${home(SUBMISSION_USER)}::\n` +
      `${SUBMISSION_CERT_USER}::${ids.uid}:${ids.gid}::${home(SUBMISSION_CERT_USER)}::nopassword\n`,
  );
  const [port, tlsPort] = [await freePort(), await freePort()];
  const conf = `
instance_name = postern-subm-${port}
${sharedSettings(dir, ids)}
protocols = submission
hostname = submission.example.org
ssl = yes
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 external
auth_verbose = yes
auth_failure_delay = 0
submission_relay_host = ${relay.host}
submission_relay_port = ${relay.port}
submission_relay_ssl = no
submission_relay_trusted = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service submission-login {
  chroot =
  inet_listener submission {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener submissions {
    address = 127.0.0.1
    port = ${tlsPort}
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
  const proc = await runDovecot(dir, conf, [port, tlsPort]);
  const log = proc.log;
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientCertPem: readFileSync(join(dir, 'client.crt'), 'utf8'),
    clientKeyPem: readFileSync(join(dir, 'client.key'), 'utf8'),
    log,
    stop: proc.stop,
  };
}
