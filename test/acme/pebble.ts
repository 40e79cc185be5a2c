// Test peers for ACME: Debian's pebble (a small ACME CA) and a DNS server that answers A 127.0.0.1
// for every name, so that pebble validates challenges against Postern's loopback listeners.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateServerCertificate } from '../../src/tls/generate.js';

export const PEBBLE = '/usr/bin/pebble';

export function pebbleInstalled(): boolean {
  return existsSync(PEBBLE);
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A DNS server (RFC 1035 4.1) answering every A question with `address()`, other types with no data. */
export class TestDns {
  address = '127.0.0.1';
  private constructor(private readonly sock: UdpSocket, readonly port: number) {}

  static async start(): Promise<TestDns> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const dns = new TestDns(sock, sock.address().port);
    sock.on('message', (msg, rinfo) => {
      const reply = dns.answer(msg);
      if (reply) sock.send(reply, rinfo.port, rinfo.address);
    });
    return dns;
  }

  private answer(q: Buffer): Buffer | null {
    if (q.length < 12) return null;
    let off = 12;
    while (off < q.length && q[off] !== 0) off += q[off]! + 1;
    const qEnd = off + 5;
    if (qEnd > q.length) return null;
    const qtype = q.readUInt16BE(off + 1);
    const header = Buffer.alloc(12);
    q.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | (q.readUInt16BE(2) & 0x0100), 2); // response, RD copied, RA
    header.writeUInt16BE(1, 4);
    const question = q.subarray(12, qEnd);
    if (qtype !== 1) return Buffer.concat([header, question]);
    header.writeUInt16BE(1, 6);
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(0, 6); // TTL 0: a changed address applies at once
    rr.writeUInt16BE(4, 10);
    Buffer.from(this.address.split('.').map(Number)).copy(rr, 12);
    return Buffer.concat([header, question, rr]);
  }

  close(): void {
    this.sock.close();
  }
}

export interface Pebble {
  directoryUrl: string;
  managementUrl: string;
  /** The CA file for pebble's own HTTPS (directory and management). */
  caFile: string;
  /** The key of pebble's own HTTPS certificate (for a test proxy in front of it). */
  keyFile: string;
  /** PEM of the root that signs issued certificates. */
  root(): Promise<string>;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  httpPort: number;
  tlsPort: number;
  dnsPort: number;
  /** Lifetime of issued certificates, seconds. */
  validitySeconds?: number;
}

export async function startPebble(o: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'pebble-'));
  const cert = generateServerCertificate('localhost');
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem);
  const port = await freePort();
  const mgmt = await freePort();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mgmt}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      httpPort: o.httpPort,
      tlsPort: o.tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      ...(o.validitySeconds ? { certificateValidityPeriod: o.validitySeconds } : {}),
    },
  }));
  const child: ChildProcess = spawn(PEBBLE, ['-config', join(dir, 'config.json'), '-dnsserver', `127.0.0.1:${o.dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (b: Buffer) => {
    output += b.toString();
    if (process.env.POSTERN_TEST_LOG) process.stderr.write(`[pebble] ${b}`);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start:\n${output}`)), 20_000);
    const check = () => {
      if (/Listening on:/.test(output) && /Root CA/.test(output) || /ACME directory available/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pebble exited with ${code}:\n${output}`));
    });
  });
  const caFile = join(dir, 'cert.pem');
  const managementUrl = `https://localhost:${mgmt}`;
  return {
    directoryUrl: `https://localhost:${port}/dir`,
    managementUrl,
    caFile,
    keyFile: join(dir, 'key.pem'),
    async root() {
      const https = await import('node:https');
      const { readFileSync } = await import('node:fs');
      return new Promise<string>((resolve, reject) => {
        https.get(`${managementUrl}/roots/0`, { ca: readFileSync(caFile) }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`roots/0: ${res.statusCode}`))));
        }).on('error', reject);
      });
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pebble 2.4 has no ACME Renewal Information (RFC 9773): a directory proxy that adds renewalInfo and
 * answers it with the window `window()` returns, recording the certificate ids asked about.
 */
export async function startAriProxy(pebble: Pebble, window: (certId: string) => { start: Date; end: Date }) {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const ca = readFileSync(pebble.caFile);
  const asked: string[] = [];
  let base = '';
  const server = https.createServer({ cert: ca, key: readFileSync(pebble.keyFile) }, (req, res) => {
    if (req.url === '/dir') {
      https.get(pebble.directoryUrl, { ca }, (up) => {
        let body = '';
        up.setEncoding('utf8');
        up.on('data', (d: string) => (body += d));
        up.on('end', () => {
          const dir = { ...JSON.parse(body), renewalInfo: `${base}/renewal-info` };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(dir));
        });
      });
      return;
    }
    const m = /^\/renewal-info\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    asked.push(m[1]!);
    const w = window(m[1]!);
    res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3600' });
    res.end(JSON.stringify({ suggestedWindow: { start: w.start.toISOString(), end: w.end.toISOString() } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://localhost:${(server.address() as { port: number }).port}`;
  return { directoryUrl: `${base}/dir`, asked, close: () => new Promise<void>((r) => server.close(() => r())) };
}
