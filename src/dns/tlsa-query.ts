// A TLSA lookup (RFC 6698 2) over UDP, and over TCP when the answer is truncated (RFC 7766): Node 20's
// resolver has no TLSA query. The recursive resolver follows CNAMEs; we keep the TLSA answers.

import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { DNS_MAX_TCP_MESSAGE, DNS_QUERY_ATTEMPTS, DNS_QUERY_TIMEOUT_MS, DNS_UDP_PAYLOAD } from './limits.js';

const TYPE_TLSA = 52;
const TYPE_OPT = 41;
const CLASS_IN = 1;

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  /** Certificate association data, lower-case hex. */
  data: string;
}

/** A lookup that did not get an answer section: code as node:dns names them (ENOTFOUND, ESERVFAIL...). */
export class DnsQueryError extends Error {
  constructor(readonly code: 'ENOTFOUND' | 'ENODATA' | 'ESERVFAIL' | 'EREFUSED' | 'ETIMEOUT' | 'EBADRESP') {
    super(`TLSA lookup failed: ${code}`);
    this.name = 'DnsQueryError';
  }
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length === 0 || b.length > 63) throw new DnsQueryError('EBADRESP');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function buildQuery(id: number, name: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD: recursion desired
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 10); // ARCOUNT: the OPT record
  const q = Buffer.alloc(4);
  q.writeUInt16BE(TYPE_TLSA, 0);
  q.writeUInt16BE(CLASS_IN, 2);
  // RFC 6891 6.1.2: OPT with root name, our UDP size as class, no options.
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(TYPE_OPT, 1);
  opt.writeUInt16BE(DNS_UDP_PAYLOAD, 3);
  return Buffer.concat([header, encodeName(name), q, opt]);
}

/** Skips a (possibly compressed, RFC 1035 4.1.4) name; returns the offset after it. */
function skipName(buf: Buffer, off: number): number {
  for (;;) {
    if (off >= buf.length) throw new DnsQueryError('EBADRESP');
    const len = buf[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    if (len & 0xc0) throw new DnsQueryError('EBADRESP');
    off += 1 + len;
  }
}

export function parseTlsaResponse(buf: Buffer, id: number): { truncated: boolean; records: TlsaRecord[] } {
  if (buf.length < 12 || buf.readUInt16BE(0) !== id) throw new DnsQueryError('EBADRESP');
  const flags = buf.readUInt16BE(2);
  if (!(flags & 0x8000)) throw new DnsQueryError('EBADRESP');
  const truncated = (flags & 0x0200) !== 0;
  const rcode = flags & 0x000f;
  if (rcode === 3) throw new DnsQueryError('ENOTFOUND');
  if (rcode === 2) throw new DnsQueryError('ESERVFAIL');
  if (rcode === 5) throw new DnsQueryError('EREFUSED');
  if (rcode !== 0) throw new DnsQueryError('EBADRESP');
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4;
  const records: TlsaRecord[] = [];
  for (let i = 0; i < an; i++) {
    off = skipName(buf, off);
    if (off + 10 > buf.length) throw new DnsQueryError('EBADRESP');
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    const rd = off + 10;
    if (rd + rdlen > buf.length) throw new DnsQueryError('EBADRESP');
    if (type === TYPE_TLSA && rdlen >= 3) {
      records.push({ usage: buf[rd]!, selector: buf[rd + 1]!, matchingType: buf[rd + 2]!, data: buf.subarray(rd + 3, rd + rdlen).toString('hex') });
    }
    off = rd + rdlen;
  }
  return { truncated, records };
}

function udpOnce(server: { host: string; port: number }, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new DnsQueryError('ETIMEOUT'));
    }, DNS_QUERY_TIMEOUT_MS);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (msg) => {
      // An answer to another id is someone else's (or spoofed): keep waiting for ours.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.close();
        resolve(msg);
      }
    });
    sock.send(query, server.port, server.host);
  });
}

function tcpOnce(server: { host: string; port: number }, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server.host, port: server.port });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    let got = Buffer.alloc(0);
    sock.setTimeout(DNS_QUERY_TIMEOUT_MS, () => {
      sock.destroy();
      reject(new DnsQueryError('ETIMEOUT'));
    });
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length > DNS_MAX_TCP_MESSAGE + 2) {
        sock.destroy();
        reject(new DnsQueryError('EBADRESP'));
      } else if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        sock.end();
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
      }
    });
    sock.write(Buffer.concat([len, query]));
  });
}

/** The TLSA records at `name`; DnsQueryError ENOTFOUND (no such name) or ENODATA (no TLSA there). */
export async function resolveTlsa(server: { host: string; port: number }, name: string): Promise<TlsaRecord[]> {
  const id = randomInt(0, 0x10000);
  const query = buildQuery(id, name);
  let last: unknown;
  for (let attempt = 0; attempt < DNS_QUERY_ATTEMPTS; attempt++) {
    try {
      let r = parseTlsaResponse(await udpOnce(server, query), id);
      if (r.truncated) r = parseTlsaResponse(await tcpOnce(server, query), id);
      if (r.records.length === 0) throw new DnsQueryError('ENODATA');
      return r.records;
    } catch (err) {
      if (!(err instanceof DnsQueryError) || err.code !== 'ETIMEOUT') throw err;
      last = err;
    }
  }
  throw last;
}
