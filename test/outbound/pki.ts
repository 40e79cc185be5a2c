// A test PKI made with the openssl command: a CA, and server certificates signed by it (valid,
// expired, for another name) or self-signed, for the MTA-STS policy host and the remote MX hosts.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCert {
  keyPem: string;
  certPem: string;
}

export class TestPki {
  readonly caPem: string;
  #serial = 1;

  constructor(private readonly dir: string) {
    this.#openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.#p('ca.key'), '-out', this.#p('ca.pem'),
      '-subj', '/CN=Postern Test CA', '-days', '3', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    this.caPem = readFileSync(this.#p('ca.pem'), 'utf8');
  }

  #p(f: string): string {
    return join(this.dir, f);
  }

  #openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** A certificate for `name` signed by the CA; `days` < 0 gives one that has expired. */
  issue(names: string | string[], o: { days?: number; selfSigned?: boolean } = {}): TestCert {
    const all = Array.isArray(names) ? names : [names];
    const name = all[0]!;
    const san = all.map((x) => `DNS:${x}`).join(',');
    const n = this.#serial++;
    const key = this.#p(`${n}.key`);
    const crt = this.#p(`${n}.pem`);
    if (o.selfSigned) {
      this.#openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt,
        '-subj', `/CN=${name}`, '-days', '2', '-addext', `subjectAltName=${san}`);
    } else {
      const csr = this.#p(`${n}.csr`);
      const ext = this.#p(`${n}.ext`);
      writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n`);
      this.#openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`);
      this.#openssl('x509', '-req', '-in', csr, '-CA', this.#p('ca.pem'), '-CAkey', this.#p('ca.key'), '-set_serial', String(1000 + n),
        '-days', String(o.days ?? 2), '-extfile', ext, '-out', crt);
    }
    return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(crt, 'utf8') };
  }
}
