// Printing figures and reading process memory. Every figure is one line:
// `name: postern X unit, dovecot Y unit, ratio X/Y`. Nothing here asserts a time.
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function figure(name: string, postern: number, dovecot: number, unit: string): void {
  const ratio = dovecot === 0 ? NaN : postern / dovecot;
  console.log(`${name}: postern ${fmt(postern)} ${unit}, dovecot ${fmt(dovecot)} ${unit}, ratio ${ratio.toFixed(2)}`);
}

/** A line that is not a side-by-side figure (counts used, setup times). */
export function note(text: string): void {
  console.log(`# ${text}`);
}

export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident set size of one process, bytes (VmRSS). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Peak resident set size of one process, bytes (VmHWM). */
export function peakRssOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The process and all its descendants (walks /proc once). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Proportional set size summed over a process tree, bytes: shared pages are split among sharers,
 * so the sum is what the tree costs the machine (RSS would count shared libraries once per process). */
export function pssOfTree(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // Ended meanwhile.
    }
  }
  return total;
}

export const MiB = 1024 * 1024;

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ on every Linux port). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) used so far by a process tree, including children it
 * reaped. A per-operation CPU cost from two readings says what a run cost the machine, which the
 * rate alone does not when both servers saturate the cores.
 */
export function cpuSecondsOfTree(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name: utime, stime, cutime, cstime are 14-17 (11-14 here).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // Ended meanwhile.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Runs `n` workers until `durationMs` passed; each worker loops on `step` and counts what it returns. */
export async function runFor(n: number, durationMs: number, step: (worker: number, stop: () => boolean) => Promise<number>): Promise<{ count: number; ms: number; errors: number }> {
  const t0 = now();
  const stop = () => now() - t0 >= durationMs;
  let count = 0;
  let errors = 0;
  let firstError: unknown;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (!stop()) {
        try {
          // Not `count += await ...`: that reads count before the await and loses others' updates.
          const k = await step(w, stop);
          count += k;
        } catch (err) {
          errors++;
          firstError ??= err;
          if (errors > 50) throw new Error(`too many errors; first: ${String((firstError as Error)?.message ?? firstError)}`);
          await sleep(50);
        }
      }
    }),
  );
  if (errors) note(`${errors} errors; first: ${String((firstError as Error)?.message ?? firstError)}`);
  return { count, ms: now() - t0, errors };
}
