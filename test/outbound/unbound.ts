// A DNSSEC-validating unbound on 127.0.0.1 serving test zones from auth-zone: the signed ones
// are signed here with ldns-keygen/ldns-signzone and their KSK's DS is the trust anchor; an
// unsigned zone is insecure (no anchor above it). Started as a plain process, stopped by close().

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';

export function haveUnbound(): boolean {
  try {
    execFileSync('unbound', ['-V'], { stdio: 'ignore' });
    execFileSync('ldns-keygen', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Zone {
  origin: string;
  /** Records relative to the origin ("mx1 IN A 127.0.0.2"); SOA and NS are added. */
  records: string[];
  signed: boolean;
  /** Changes the signed zone text after signing (to make signatures bogus). */
  tamper?: (signedZone: string) => string;
}

export class Unbound {
  private constructor(readonly port: number, private readonly proc: ChildProcess, readonly log: () => string) {}

  static async start(dir: string, zones: Zone[]): Promise<Unbound> {
    const anchors: string[] = [];
    const authZones: string[] = [];
    for (const z of zones) {
      const file = join(dir, `${z.origin}.zone`);
      writeFileSync(file, [
        `$ORIGIN ${z.origin}.`, '$TTL 300',
        `@ IN SOA ns.${z.origin}. hostmaster.${z.origin}. 1 3600 600 86400 300`, `@ IN NS ns.${z.origin}.`, 'ns IN A 127.0.0.1',
        ...z.records, '',
      ].join('\n'));
      let served = file;
      if (z.signed) {
        const keygen = (...a: string[]) => execFileSync('ldns-keygen', [...a, '-a', 'ECDSAP256SHA256', `${z.origin}.`], { cwd: dir }).toString().trim();
        const ksk = keygen('-k');
        const zsk = keygen();
        execFileSync('ldns-signzone', ['-f', `${file}.signed`, file, join(dir, ksk), join(dir, zsk)], { cwd: dir });
        served = `${file}.signed`;
        if (z.tamper) writeFileSync(served, z.tamper(readFileSync(served, 'utf8')));
        anchors.push(readFileSync(join(dir, `${ksk}.ds`), 'utf8'));
      }
      authZones.push(`auth-zone:\n  name: "${z.origin}"\n  zonefile: "${served}"\n  for-downstream: no\n  for-upstream: yes\n  fallback-enabled: no\n`);
    }
    writeFileSync(join(dir, 'anchors.ds'), anchors.join(''));
    const port = await freeUdpPort();
    const tlds = [...new Set(zones.map((z) => z.origin.split('.').pop()!))];
    writeFileSync(join(dir, 'unbound.conf'), [
      'server:', '  do-daemonize: no', '  chroot: ""', '  username: ""', `  directory: "${dir}"`, '  pidfile: ""',
      '  interface: 127.0.0.1', `  port: ${port}`, '  do-ip6: no', '  use-syslog: no', '  logfile: ""', '  verbosity: 1',
      '  module-config: "validator iterator"', `  trust-anchor-file: "${join(dir, 'anchors.ds')}"`,
      // "test." is a default local zone (RFC 6761); our zones live under it.
      ...tlds.map((t) => `  local-zone: "${t}." nodefault`),
      ...authZones, '',
    ].join('\n'));
    let out = '';
    const proc = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (c) => (out += c));
    proc.stderr!.on('data', (c) => (out += c));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`unbound did not start: ${out}`)), 10_000);
      const check = () => {
        if (/start of service/.test(out)) {
          clearTimeout(t);
          resolve();
        } else if (proc.exitCode !== null) {
          clearTimeout(t);
          reject(new Error(`unbound exited: ${out}`));
        } else setTimeout(check, 50);
      };
      check();
    });
    return new Unbound(port, proc, () => out);
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

/** TLSA association data of a certificate by the openssl command (selector 0/1, matching 0/1/2). */
export function tlsaData(certPem: string, selector: 0 | 1, matching: 0 | 1 | 2): string {
  const der = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: certPem });
  const part = selector === 0 ? der : execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: certPem }) });
  if (matching === 0) return part.toString('hex');
  return execFileSync('openssl', ['dgst', matching === 1 ? '-sha256' : '-sha512', '-r'], { input: part }).toString().split(' ')[0]!;
}
