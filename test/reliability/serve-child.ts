// `postern serve` as a child process, as an admin runs it: a data directory made by
// `postern quickstart`, the config switched to ephemeral loopback ports, and the ports read from
// the server's "listening" log lines. For crash rounds (SIGKILL) and the soak benchmark.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

/** The compiled CLI of this build (build/test/reliability -> build/src/cli/main.js). */
export const POSTERN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const ADDRESS = 'alice@example.test';
export const PASSWORD = 'secretpass';

export type ChildService = 'smtp' | 'submission' | 'imap' | 'imaps';

/** A quickstart data directory whose listener serves `services` on ports chosen by the kernel. */
export function quickstartDir(services: ChildService[] = ['submission', 'imap'], extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-rel-'));
  const r = spawnSync(process.execPath, [POSTERN, 'quickstart', '--dir', dir, '--hostname', 'localhost', '--listen', '127.0.0.1', '--port-base', '20000', '--password', PASSWORD, ADDRESS], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`quickstart failed: ${r.stderr}`);
  const file = join(dir, 'postern.conf');
  const doc = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { listeners: Record<string, Record<string, unknown>> };
  for (const l of Object.values(doc.listeners)) {
    delete l.portBase;
    l.services = services;
    l.ports = Object.fromEntries(services.map((s) => [s, 0]));
  }
  // One process unless asked: these rounds SIGKILL the server's pid (test/cluster/ runs several workers).
  writeFileSync(file, YAML.stringify({ ...doc, authFailureDelayMs: 0, workers: 1, ...extra }));
  return dir;
}

export interface ServeChild {
  proc: ChildProcess;
  pid: number;
  ports: Partial<Record<ChildService, number>>;
  /** Everything the server logged (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `postern --dir DIR serve` and waits until every listener logged its port. `env` is added to this process's environment. */
export function startServe(dir: string, services: ChildService[] = ['submission', 'imap'], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<ServeChild> {
  // The thread pool size bin/postern.cjs sets for `postern serve` (this runs the ES module entry).
  const pool = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
  const proc = spawn(process.execPath, [POSTERN, '--dir', dir, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...pool, ...env } });
  let out = '';
  const ports: Partial<Record<ChildService, number>> = {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
      for (const m of out.matchAll(/listening service=(\w+) address=\S+ port=(\d+)/g)) ports[m[1] as ChildService] = Number(m[2]);
      if (services.every((s) => ports[s] !== undefined)) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        proc.stderr!.off('data', onData);
        const keep = (x: Buffer): void => {
          out += x.toString();
          if (out.length > 1_000_000) out = out.slice(-500_000);
        };
        proc.stdout!.on('data', keep);
        proc.stderr!.on('data', keep);
        resolve({
          proc,
          pid: proc.pid!,
          ports,
          output: () => out,
          exited,
          kill: (signal = 'SIGKILL') => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

/** Resident set size of a process in bytes (Linux /proc), or null when it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** /proc/PID/smaps_rollup in bytes (Rss, Anonymous, Rss minus Anonymous as file-backed), or null. */
export function smapsOf(pid: number): { rss: number; anon: number; file: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    const rss = kb('Rss');
    const anon = kb('Anonymous');
    return { rss, anon, file: rss - anon };
  } catch {
    return null;
  }
}
