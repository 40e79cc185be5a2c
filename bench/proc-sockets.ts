// Which process of a server holds which client connection, from /proc: the inodes of the TCP
// sockets established on a local port (/proc/net/tcp, tcp6), matched against each process's open
// file descriptors. Shows how connections spread over worker processes, whatever hands them out
// (node:cluster, SO_REUSEPORT, Dovecot's process per session).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const ESTABLISHED = '01';

/** Inodes of the established TCP sockets whose local port is `port`. */
function establishedInodes(port: number): Set<string> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== ESTABLISHED || !f[1]!.endsWith(`:${hex}`)) continue;
      out.add(f[9]!);
    }
  }
  return out;
}

/** Connections to `port` held by each of `pids` (processes holding none are listed with 0). */
export function connectionsPerProcess(pids: number[], port: number): Map<number, number> {
  const inodes = establishedInodes(port);
  const counts = new Map<number, number>();
  for (const pid of pids) {
    let n = 0;
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && inodes.has(m[1]!)) n++;
        } catch {
          // Closed meanwhile.
        }
      }
    } catch {
      // Process ended meanwhile.
    }
    counts.set(pid, n);
  }
  return counts;
}

/** "pid:count" for the processes that hold connections, largest first, e.g. "4211:5003 4212:4997". */
export function spreadText(counts: Map<number, number>): string {
  const held = [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return held.length ? held.map(([p, n]) => `${p}:${n}`).join(' ') : 'none';
}
