// A real DNS server for tests: unbound (Debian package) serving a static zone from local-data lines
// in a temp-dir config on 127.0.0.1 and a free port. Tests point the server's `dns.resolver` at it,
// so SPF, DKIM and DMARC lookups go over the wire as in production.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'A' | 'MX';
  value: string;
}

export interface Unbound {
  /** "127.0.0.1:PORT", the form of the `dns.resolver` setting. */
  address: string;
  stop(): Promise<void>;
}

const UNBOUND = '/usr/sbin/unbound';

/** TXT data as unbound wants it: character-strings of at most 255 octets (RFC 1035 3.3.14). */
function txtData(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255).replace(/["\\]/g, '\\$&')}"`);
  return parts.join(' ');
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function unboundInstalled(): boolean {
  return existsSync(UNBOUND);
}

/** Starts unbound serving `records` under the static zones `zones` (names outside them: REFUSED). */
export async function startUnbound(zones: string[], records: DnsRecord[]): Promise<Unbound> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-unbound-'));
  const port = await freePort();
  const lines = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 0',
    '  do-ip6: no',
    '  num-threads: 1',
    '  access-control: 127.0.0.0/8 allow',
    ...zones.map((z) => `  local-zone: "${z}." static`),
    ...records.map((r) => `  local-data: '${r.name}. 60 IN ${r.type} ${r.type === 'TXT' ? txtData(r.value) : r.value}'`),
    'remote-control:',
    '  control-enable: no',
  ];
  const conf = join(dir, 'unbound.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc: ChildProcess = spawn(UNBOUND, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  proc.on('exit', () => (exited = true));
  const address = `127.0.0.1:${port}`;
  // Ready when it answers a query for one of its records.
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([address]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`unbound exited: ${stderr}`);
    try {
      await probe.resolve(records[0]!.name, records[0]!.type);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`unbound did not answer: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    address,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
