// Sender reputation per account: a sender (address, domain, IP network) that the user wrote to, or
// kept mail from, is known and trusted; mail from a domain never seen before is judged more
// strictly. Address and domain count only when the From domain passed DMARC (our own
// Authentication-Results say so): anyone can write a From header. The network is that of the
// connecting client in our Received field (IPv4 /24, IPv6 /48), which cannot be forged.

import { isIP } from 'node:net';
import { isGroup, parseAddressList, type Mailbox } from '../mime/address.js';
import { getHeaderValue, getHeaderValues, parseMessage } from '../mime/index.js';
import type { JunkReputation } from '../store/types.js';
import { KNOWN_SENDER_THRESHOLD, MAX_TOKENIZE_BYTES, NEW_SENDER_STRICTNESS } from './limits.js';

export interface SenderKeys {
  /** "a:…" and "d:…" when the From domain passed DMARC, and "n:…" when the client is known. */
  keys: string[];
  domainKey: string | null;
}

export type Familiarity = 'known' | 'new' | 'seen';

/** Keys of the message's sender, from the message as stored (our fields on top). */
export function senderKeys(raw: Buffer): SenderKeys {
  const buf = raw.subarray(0, MAX_TOKENIZE_BYTES);
  const keys: string[] = [];
  let domainKey: string | null = null;
  try {
    const root = parseMessage(buf);
    const ar = getHeaderValue(root, buf, 'authentication-results') ?? '';
    const from = getHeaderValue(root, buf, 'from');
    const addr = from ? /([^\s<>"@,;]+)@([^\s<>"@,;]+)/.exec(from) : null;
    if (addr && /\bdmarc=pass\b/.test(ar)) {
      const domain = addr[2]!.toLowerCase();
      keys.push(`a:${addr[1]!.toLowerCase()}@${domain}`, `d:${domain}`);
      domainKey = `d:${domain}`;
    }
    const received = getHeaderValues(root, buf, 'received')[0];
    const ip = received ? /^\s*from \S+ \(\[(?:IPv6:)?([0-9a-fA-F:.]+)\]\)/.exec(received)?.[1] : undefined;
    const net = ip ? network(ip) : null;
    if (net) keys.push(`n:${net}`);
  } catch {
    // An unparseable message has no reputation.
  }
  return { keys, domainKey };
}

/** Addresses a message the user wrote went to (To, Cc, Bcc): keys "a:" and "d:". */
export function recipientKeys(raw: Buffer): string[] {
  const buf = raw.subarray(0, MAX_TOKENIZE_BYTES);
  const out = new Set<string>();
  try {
    const root = parseMessage(buf);
    for (const name of ['to', 'cc', 'bcc']) {
      for (const v of getHeaderValues(root, buf, name)) {
        const list: Mailbox[] = parseAddressList(v).flatMap((e) => (isGroup(e) ? e.members : [e]));
        for (const a of list) {
          if (!a.domain) continue;
          const domain = a.domain.toLowerCase();
          out.add(`a:${a.local.toLowerCase()}@${domain}`);
          out.add(`d:${domain}`);
        }
      }
    }
  } catch {
    // Nothing to learn.
  }
  return [...out];
}

function network(ip: string): string | null {
  if (isIP(ip) === 4) return ip.split('.').slice(0, 3).join('.') + '.0/24';
  if (isIP(ip) === 6) {
    const full = ip.includes('::') ? expand(ip) : ip.split(':');
    return full.slice(0, 3).map((h) => h.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/48';
  }
  return null;
}

function expand(ip: string): string[] {
  const [a, b] = ip.split('::');
  const left = a ? a.split(':') : [];
  const right = b ? b.split(':') : [];
  return [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
}

/** Known: the user wrote to the address or domain, or kept more mail than it junked from one of
 * the keys. New: the From domain (authenticated) has no history at all. */
export function familiarity(sender: SenderKeys, rows: readonly JunkReputation[]): Familiarity {
  const known = rows.some((r) => (r.key.startsWith('n:') ? r.ham >= 2 && r.ham > r.spam : r.wrote > 0 || (r.ham > 0 && r.ham > r.spam)));
  if (known) return 'known';
  if (sender.domainKey && !rows.some((r) => r.key === sender.domainKey)) return 'new';
  if (!sender.domainKey && !rows.some((r) => r.key.startsWith('n:'))) return 'new';
  return 'seen';
}

/** The threshold that applies to this sender. */
export function thresholdFor(base: number, f: Familiarity): number {
  if (f === 'known') return Math.max(base, KNOWN_SENDER_THRESHOLD);
  if (f === 'new') return Math.max(0.5, base - NEW_SENDER_STRICTNESS);
  return base;
}
