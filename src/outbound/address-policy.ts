// Which addresses outbound delivery may connect to when DNS (an MX or A/AAAA record) or a
// recipient's address literal chose them. A domain whose MX points at 127.0.0.1, 10.0.0.5 or
// fe80::1 would make us talk to ourselves or to hosts inside our network (a loop, or a way into
// services that trust the local network), so such addresses are skipped unless
// outbound.allowPrivateAddresses is set (intranet relays, tests). Transports (smarthosts) that
// the admin configured are not checked: the admin chose them.

import { isIP } from 'node:net';

export type AddressClass = 'unspecified' | 'loopback' | 'link-local' | 'private' | 'shared' | 'multicast' | 'reserved';

/** [prefix bytes, prefix length in bits, class]. RFC 6890 special-purpose registries. */
type Rule = readonly [readonly number[], number, AddressClass];

const V4: readonly Rule[] = [
  [[0], 8, 'unspecified'], // RFC 1122 3.2.1.3 "this network"
  [[10], 8, 'private'], // RFC 1918
  [[100, 64], 10, 'shared'], // RFC 6598 carrier-grade NAT
  [[127], 8, 'loopback'], // RFC 1122
  [[169, 254], 16, 'link-local'], // RFC 3927
  [[172, 16], 12, 'private'], // RFC 1918
  [[192, 168], 16, 'private'], // RFC 1918
  [[224], 4, 'multicast'], // RFC 5771
  [[240], 4, 'reserved'], // RFC 1112, 255.255.255.255 included
];

const V6: readonly Rule[] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 128, 'unspecified'], // RFC 4291 2.5.2
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'], // RFC 4291 2.5.3
  [[0xfe, 0x80], 10, 'link-local'], // RFC 4291 2.5.6
  [[0xfe, 0xc0], 10, 'private'], // RFC 3879: deprecated site-local
  [[0xfc], 7, 'private'], // RFC 4193 unique local
  [[0xff], 8, 'multicast'], // RFC 4291 2.7
];

function matches(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** The 16 bytes of a valid IPv6 address (as isIP() accepts it; a zone index is dropped). */
function v6Bytes(ipIn: string): number[] {
  let ip = ipIn.replace(/%.*$/, '');
  let tail: number[] = [];
  // An embedded dotted quad (::ffff:127.0.0.1) is the last 32 bits.
  const dot = /:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dot) {
    tail = v4Bytes(dot[1]!);
    ip = ip.slice(0, dot.index + 1) + '0:0';
  }
  const [head, rest] = ip.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The class of an address that outbound delivery must not connect to by default, or null for
 * a public address. IPv4-mapped and IPv4-compatible IPv6 addresses are judged by their IPv4
 * part (::ffff:127.0.0.1 is loopback). */
export function restrictedAddressClass(ip: string): AddressClass | null {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) return classify(v4Bytes(ip), V4);
  if (family !== 6) return 'reserved';
  const b = v6Bytes(ip);
  const first10Zero = b.slice(0, 10).every((x) => x === 0);
  // RFC 4291 2.5.5.2 (::ffff:a.b.c.d) and 2.5.5.1 (::a.b.c.d, deprecated).
  if (first10Zero && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0 && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15]! <= 1)))) {
    return classify(b.slice(12), V4);
  }
  return classify(b, V6);
}

function classify(bytes: readonly number[], rules: readonly Rule[]): AddressClass | null {
  for (const [prefix, bits, cls] of rules) if (matches(bytes, prefix, bits)) return cls;
  return null;
}
