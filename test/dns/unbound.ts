// A real DNS server for the tests: unbound on 127.0.0.1 at a free port, serving one local zone from
// local-data lines, run in the foreground from a config in a temp dir (no systemd, no chroot, no
// user switch) and stopped by the test.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const UNBOUND = '/usr/sbin/unbound';

/** Whether unbound can be run; under CI=true it must (the caller fails instead of skipping). */
export function unboundAvailable(): boolean {
  return spawnSync(UNBOUND, ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface Unbound {
  port: number;
  /** "127.0.0.1:PORT", the form of the dns.resolver setting. */
  address: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Zone-file lines (comments and blank lines ignored) become local-data of a static zone. */
export function zoneLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';'));
}

export async function startUnbound(zones: string[], lines: string[]): Promise<Unbound> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-unbound-'));
  const port = await freePort();
  const conf = [
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
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
    ...zones.map((z) => `  local-zone: "${z}." static`),
    ...lines.map((l) => `  local-data: '${l.replace(/'/g, '')}'`),
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'unbound.conf'), conf);
  const child: ChildProcess = spawn(UNBOUND, ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when it answers: ask for the SOA-less zone apex until a reply (any reply) comes.
  const r = new Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`unbound exited: ${stderr}`);
    try {
      await r.resolveTxt(`${zones[0]}`);
      break;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') break;
      if (Date.now() > deadline) throw new Error(`unbound did not answer: ${stderr}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
