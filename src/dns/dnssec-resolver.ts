// A stub resolver that tells whether an answer is DNSSEC-secure, which node:dns cannot (it drops
// the AD bit). Queries go to one configured validating resolver (unbound, say) over UDP with
// EDNS0 DO set, and again over TCP when the answer is truncated (RFC 7766 5). The AD bit is
// trusted only from a resolver on loopback (RFC 6698 4.1, RFC 7672 2.2: the path to a remote
// resolver is not secured), so `secure` is false for any other address.

import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { connect, isIP } from 'node:net';
import dnsPacket, { type DecodedPacket, type TlsaData } from 'dns-packet';
import { DNSSEC_MAX_TCP_BYTES, DNSSEC_QUERY_TIMEOUT_MS, DNSSEC_UDP_PAYLOAD } from './dnssec-limits.js';

export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | string;

export interface DnssecAnswer<T> {
  /** Validated by the resolver (AD), and the resolver is trusted to say so. */
  secure: boolean;
  rcode: DnsRcode;
  records: T[];
}

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

/** A query that got no answer (timeout, network) or a malformed one; `code` as node:dns names. */
export class DnssecResolverError extends Error {
  override name = 'DnssecResolverError';
  constructor(readonly code: 'ETIMEOUT' | 'ECONNREFUSED' | 'EBADRESP', message: string) {
    super(message);
  }
}

export interface DnssecResolverOptions {
  /** Resolver address (IPv4 or IPv6 literal). */
  host: string;
  /** Default 53. */
  port?: number;
  timeoutMs?: number;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'TLSA';

export class DnssecResolver {
  readonly #host: string;
  readonly #port: number;
  readonly #timeout: number;
  readonly #trustAd: boolean;

  constructor(o: DnssecResolverOptions) {
    if (isIP(o.host) === 0) throw new Error(`DNSSEC resolver address must be an IP address, got ${o.host}`);
    this.#host = o.host;
    this.#port = o.port ?? 53;
    this.#timeout = o.timeoutMs ?? DNSSEC_QUERY_TIMEOUT_MS;
    this.#trustAd = isLoopback(o.host);
  }

  /** Whether this resolver's AD bit is believed at all. */
  get trusted(): boolean {
    return this.#trustAd;
  }

  async query(name: string, type: RecordType): Promise<{ secure: boolean; rcode: DnsRcode; answers: { type: string; data: unknown }[] }> {
    const id = randomInt(0, 65536);
    const packet = {
      type: 'query' as const, id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
      questions: [{ type, name, class: 'IN' as const }],
      additionals: [{ type: 'OPT' as const, name: '.', udpPayloadSize: DNSSEC_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] }],
    };
    const deadline = Date.now() + this.#timeout;
    let res = await this.#udp(dnsPacket.encode(packet), id, deadline);
    if (res.flag_tc) res = await this.#tcp(dnsPacket.streamEncode(packet), id, deadline);
    const rcode = (res as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
    const wanted = name.toLowerCase().replace(/\.$/, '');
    // Records of the asked type; a CNAME chain the resolver followed ends at the name it names.
    const answers = (res.answers ?? []).filter((a) => a.type === type || (a.type === 'CNAME' && a.name.toLowerCase() === wanted));
    return { secure: this.#trustAd && res.flag_ad, rcode, answers: answers.filter((a) => a.type === type) as { type: string; data: unknown }[] };
  }

  #udp(msg: Buffer, id: number, deadline: number): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const sock = createSocket(isIP(this.#host) === 6 ? 'udp6' : 'udp4');
      const done = (err: Error | null, p?: DecodedPacket) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(p!);
      };
      const timer = setTimeout(() => done(new DnssecResolverError('ETIMEOUT', `DNS query to ${this.#host} timed out`)), Math.max(1, deadline - Date.now()));
      sock.on('error', (err: Error & { code?: string }) => done(new DnssecResolverError(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP', `DNS query to ${this.#host}: ${err.message}`)));
      sock.on('message', (buf, rinfo) => {
        // Only the resolver's answer to this query (RFC 5452 9.1: id and source).
        if (rinfo.address !== this.#host || rinfo.port !== this.#port) return;
        let p: DecodedPacket;
        try {
          p = dnsPacket.decode(buf);
        } catch {
          return;
        }
        if (p.id === id && p.type === 'response') done(null, p);
      });
      sock.send(msg, this.#port, this.#host);
    });
  }

  #tcp(msg: Buffer, id: number, deadline: number): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: this.#host, port: this.#port });
      let buf = Buffer.alloc(0);
      const done = (err: Error | null, p?: DecodedPacket) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(p!);
      };
      const timer = setTimeout(() => done(new DnssecResolverError('ETIMEOUT', `DNS query to ${this.#host} over TCP timed out`)), Math.max(1, deadline - Date.now()));
      sock.on('error', (err: Error & { code?: string }) => done(new DnssecResolverError(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP', `DNS query to ${this.#host} over TCP: ${err.message}`)));
      sock.on('connect', () => sock.write(msg));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length > DNSSEC_MAX_TCP_BYTES) return done(new DnssecResolverError('EBADRESP', 'DNS answer over TCP too long'));
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        try {
          const p = dnsPacket.streamDecode(buf) as DecodedPacket;
          if (p.id !== id) return done(new DnssecResolverError('EBADRESP', 'DNS answer over TCP for another query'));
          done(null, p);
        } catch (err) {
          done(new DnssecResolverError('EBADRESP', `bad DNS answer over TCP: ${(err as Error).message}`));
        }
      });
      sock.on('end', () => done(new DnssecResolverError('EBADRESP', 'DNS connection closed before the answer')));
    });
  }

  async tlsa(name: string): Promise<DnssecAnswer<TlsaRecord>> {
    const r = await this.query(name, 'TLSA');
    return { secure: r.secure, rcode: r.rcode, records: r.answers.map((a) => a.data as TlsaData).map((d) => ({ usage: d.usage, selector: d.selector, matchingType: d.matchingType, data: d.certificate })) };
  }

  async mx(name: string): Promise<DnssecAnswer<{ exchange: string; priority: number }>> {
    const r = await this.query(name, 'MX');
    return { secure: r.secure, rcode: r.rcode, records: r.answers.map((a) => a.data as { exchange: string; preference: number }).map((d) => ({ exchange: d.exchange, priority: d.preference })) };
  }

  async addresses(name: string, type: 'A' | 'AAAA'): Promise<DnssecAnswer<string>> {
    const r = await this.query(name, type);
    return { secure: r.secure, rcode: r.rcode, records: r.answers.map((a) => a.data as string) };
  }

  async txt(name: string): Promise<DnssecAnswer<string[]>> {
    const r = await this.query(name, 'TXT');
    return { secure: r.secure, rcode: r.rcode, records: r.answers.map((a) => (Array.isArray(a.data) ? (a.data as Buffer[]) : [a.data as Buffer]).map((c) => c.toString())) };
  }
}

/** node:dns-like errors from an answer, so the queue's DNS code can use this resolver. */
function orThrow<T>(name: string, a: DnssecAnswer<T>): T[] {
  if (a.rcode === 'NXDOMAIN') throw Object.assign(new Error(`${name} does not exist`), { code: 'ENOTFOUND' });
  if (a.rcode !== 'NOERROR') throw Object.assign(new Error(`DNS lookup of ${name}: ${a.rcode}`), { code: a.rcode === 'SERVFAIL' ? 'ESERVFAIL' : 'EBADRESP' });
  if (a.records.length === 0) throw Object.assign(new Error(`${name}: no records`), { code: 'ENODATA' });
  return a.records;
}

/** The resolver in the shape outbound/destination.ts and MTA-STS use (node:dns/promises). */
export function dnsResolverOf(r: DnssecResolver) {
  return {
    resolveMx: async (n: string) => orThrow(n, await r.mx(n)),
    resolve4: async (n: string) => orThrow(n, await r.addresses(n, 'A')),
    resolve6: async (n: string) => orThrow(n, await r.addresses(n, 'AAAA')),
    resolveTxt: async (n: string) => orThrow(n, await r.txt(n)),
  };
}
