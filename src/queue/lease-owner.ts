// Who holds a queue lease: "host:pid:random", one name per runner. The random part tells runners of
// one process apart; host and pid let a runner on the same host see that the holder has died (a
// SIGKILLed worker, a crashed server before its restart) and take its recipients at once instead
// of waiting for the lease to run out. A holder on another host is waited for.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The runners of this process: a lease naming this pid and none of them is an earlier process's. */
const ownersHere = new Set<string>();

export function newLeaseOwner(): string {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  ownersHere.add(owner);
  return owner;
}

/** True only when the owner is a process of this host that no longer exists. */
export function leaseOwnerIsDead(owner: string): boolean {
  const m = /^(.*):(\d+):[0-9a-f]+$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return !ownersHere.has(owner);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists, as another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
