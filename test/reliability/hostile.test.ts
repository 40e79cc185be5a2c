// Hostile clients (issue 9) against the whole server in-process (test/e2e/server-harness.ts):
// a client that trickles one byte per second, one that never reads the FETCH data it asks for, a
// connection flood from one address, and messages built to hurt the parser (10,000 header fields,
// multiparts nested 1,000 deep, a 50 MB base64 line). The server must stay bounded in time, memory
// and connections held, and keep serving everyone else.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { ImapClient } from '../../src/imap/client/index.js';
import { startSmtpListener, type SmtpListener } from '../../src/smtp/server/index.js';
import { ADDRESS, PASSWORD, startTestServer, type TestServer } from '../e2e/server-harness.js';

interface Raw {
  sock: Socket;
  /** Everything received so far. */
  text(): string;
  /** Waits until the received text matches `re`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  closed: Promise<void>;
}

function raw(port: number, opts: { tls?: boolean } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock: Socket = opts.tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : netConnect({ host: '127.0.0.1', port });
    let got = '';
    const waiters = new Set<() => void>();
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length > 200_000) got = got.slice(-100_000);
      for (const w of waiters) w();
    });
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once(opts.tls ? 'secureConnect' : 'connect', () =>
      resolve({
        sock,
        text: () => got,
        closed,
        waitFor: (re, ms = 10_000) =>
          new Promise((res, rej) => {
            const check = (): void => {
              if (re.test(got)) {
                waiters.delete(check);
                clearTimeout(timer);
                res(got);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`timeout waiting for ${re}; got ${JSON.stringify(got.slice(-300))}`));
            }, ms);
            waiters.add(check);
            check();
          }),
      }),
    );
    sock.once('error', reject);
  });
}

/** Server-side TCP sockets on `port` still open in the kernel as ESTABLISHED or CLOSE_WAIT (Linux). */
function serverSockets(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const local = f[1]!;
      const state = f[3]!;
      if (local.endsWith(`:${hex}`) && (state === '01' || state === '08')) n++;
    }
  }
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function client(port: number): Promise<ImapClient> {
  return ImapClient.connect({ host: '127.0.0.1', port, tls: 'implicit', insecure: true, auth: { username: ADDRESS, password: PASSWORD }, timeouts: { command: 120_000 } });
}

describe('hostile clients: slow and non-reading (short idle limits)', () => {
  const IDLE_MS = 2000;
  let s: TestServer;
  let smtp: SmtpListener;
  before(async () => {
    s = await startTestServer({ services: ['imap', 'imaps'], config: { limits: { imap: { idleTimeoutBeforeAuthMs: IDLE_MS, idleTimeoutAfterAuthMs: IDLE_MS * 1.5 } } } });
    // The SMTP timeouts are constants (smtp/server/limits.ts), not config: a listener with short
    // ones, on the same server context.
    smtp = await startSmtpListener(s.server.ctx, { host: '127.0.0.1', port: 0, kind: 'submission', implicitTls: false, requestClientCert: false, timeouts: { commandMs: IDLE_MS, greetingMs: IDLE_MS } });
  });
  after(async () => {
    await smtp?.close();
    await s?.stop();
  });

  // One byte per second never leaves the socket idle, so an idle timer that restarts on every
  // read never fires: the command must have a deadline of its own (Postfix
  // smtpd_per_record_deadline, Dovecot's input timeout per command line).
  it('IMAP: a client sending one byte per second is dropped, not held forever', { timeout: 60_000 }, async () => {
    const c = await raw(s.ports.imap!);
    await c.waitFor(/^\* OK/m);
    let open = true;
    void c.closed.then(() => (open = false));
    const t0 = Date.now();
    // A command line that never ends; 20 s is ten times the idle limit.
    for (let i = 0; i < 20 && open; i++) {
      c.sock.write(i === 0 ? 'a' : 'x');
      await sleep(1000);
    }
    const held = Date.now() - t0;
    c.sock.destroy();
    assert.equal(open, false, `connection still open after ${held} ms of one byte per second (idle limit ${IDLE_MS} ms)`);
    assert.ok(held < IDLE_MS * 5, `dropped only after ${held} ms`);
  });

  it('SMTP: a client sending one byte per second is dropped, not held forever', { timeout: 60_000 }, async () => {
    const c = await raw(smtp.port);
    await c.waitFor(/^220 /m);
    let open = true;
    void c.closed.then(() => (open = false));
    const t0 = Date.now();
    const line = 'EHLO slow.example.org';
    for (let i = 0; i < 20 && open; i++) {
      c.sock.write(line[i % line.length]!);
      await sleep(1000);
    }
    const held = Date.now() - t0;
    c.sock.destroy();
    assert.equal(open, false, `connection still open after ${held} ms of one byte per second (timeouts ${IDLE_MS} ms)`);
    assert.ok(held < IDLE_MS * 5, `dropped only after ${held} ms`);
  });

  it('IMAP: a client that never reads its FETCH data keeps the server buffer bounded and is dropped', { timeout: 120_000 }, async () => {
    // Three 8 MB messages, then a client that asks for all of them 20 times and reads nothing.
    const setup = await client(s.ports.imaps!);
    const big = Buffer.concat([Buffer.from(`From: ${ADDRESS}\r\nSubject: big\r\n\r\n`), Buffer.alloc(8 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789+/\r\n')]);
    for (let i = 0; i < 3; i++) await setup.append('INBOX', big);
    await setup.logout();

    const before = serverSockets(s.ports.imaps!);
    const c = await raw(s.ports.imaps!, { tls: true });
    await c.waitFor(/^\* OK/m);
    c.sock.write(`a LOGIN ${ADDRESS} ${PASSWORD}\r\nb SELECT INBOX\r\n`);
    await c.waitFor(/^b OK/m);
    global.gc?.();
    const mem0 = process.memoryUsage();
    c.sock.pause();
    for (let i = 0; i < 20; i++) c.sock.write(`f${i} FETCH 1:* BODY[]\r\n`);
    let peak = 0;
    let dropped = false;
    const t0 = Date.now();
    // The idle limit is 3 s after login; allow ten times that.
    while (Date.now() - t0 < 30_000) {
      await sleep(500);
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers + m.external - (mem0.arrayBuffers + mem0.external));
      if (serverSockets(s.ports.imaps!) <= before) {
        dropped = true;
        break;
      }
    }
    const held = Date.now() - t0;
    c.sock.destroy();
    // 480 MB were asked for; the server may hold one response (one message) at a time.
    assert.ok(peak < 100 * 1024 * 1024, `server buffers grew by ${(peak / 1048576).toFixed(0)} MB`);
    assert.ok(dropped, `the server still holds the non-reading connection after ${held} ms (idle limit ${IDLE_MS * 1.5} ms; buffers grew ${(peak / 1048576).toFixed(0)} MB)`);
  });
});

describe('hostile clients: SMTP client that never reads its replies', () => {
  const IDLE_MS = 2000;
  let s: TestServer;
  let smtp: SmtpListener;
  before(async () => {
    s = await startTestServer({ services: ['imap'] });
    smtp = await startSmtpListener(s.server.ctx, { host: '127.0.0.1', port: 0, kind: 'submission', implicitTls: false, requestClientCert: false, timeouts: { commandMs: IDLE_MS, greetingMs: IDLE_MS } });
  });
  after(async () => {
    await smtp?.close();
    await s?.stop();
  });

  it('pipelined commands with unread replies: memory stays bounded and the client is dropped', { timeout: 60_000 }, async () => {
    const before = serverSockets(smtp.port);
    const c = await raw(smtp.port);
    await c.waitFor(/^220 /m);
    c.sock.write('EHLO reader.example.org\r\n');
    await c.waitFor(/^250 /m);
    global.gc?.();
    const mem0 = process.memoryUsage();
    // Stop reading, then pipeline NOOPs whose replies fill the socket buffers in both directions.
    c.sock.pause();
    const batch = 'NOOP\r\n'.repeat(10_000);
    let peak = 0;
    let dropped = false;
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      if (!c.sock.destroyed && c.sock.writableLength < 1024 * 1024) c.sock.write(batch);
      await sleep(250);
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss - mem0.rss);
      if (serverSockets(smtp.port) <= before) {
        dropped = true;
        break;
      }
    }
    const held = Date.now() - t0;
    c.sock.destroy();
    assert.ok(dropped, `the server still holds the non-reading SMTP connection after ${held} ms (command timeout ${IDLE_MS} ms)`);
    assert.ok(held < IDLE_MS * 10, `dropped only after ${held} ms`);
    // The test process holds the client too; the server side alone is far below this.
    assert.ok(peak < 200 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(0)} MB`);
  });
});

describe('hostile clients: connection flood from one address', () => {
  // Limits other than the defaults (50), so that the test shows the configured value is the one used.
  const IMAP_PER_IP = 7;
  const SMTP_PER_IP = 9;
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      services: ['imap', 'submission'],
      config: { limits: { imap: { maxConnectionsPerIp: IMAP_PER_IP }, smtp: { maxConnectionsPerIp: SMTP_PER_IP } } },
    });
  });
  after(async () => s?.stop());

  async function flood(port: number, n: number, greeting: RegExp): Promise<{ greeted: number; refused: number; socks: Raw[] }> {
    const socks: Raw[] = [];
    let greeted = 0;
    let refused = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        try {
          const c = await raw(port);
          socks.push(c);
          await Promise.race([c.waitFor(greeting, 15_000), c.closed]);
          if (greeting.test(c.text())) greeted++;
          else refused++;
        } catch {
          refused++;
        }
      }),
    );
    return { greeted, refused, socks };
  }

  // Spec 3.4: "Connection limits per IP and subnet": limits.{imap,smtp}.maxConnectionsPerIp and
  // maxConnectionsPerSubnet (src/server/connection-limiter.ts; unit tests beside it).
  it('IMAP: of 20 connections from one address, exactly the configured per-IP limit is served; the rest get BYE', { timeout: 60_000 }, async () => {
    const r = await flood(s.ports.imap!, 20, /^\* OK/m);
    const bye = r.socks.filter((c) => /^\* BYE /m.test(c.text())).length;
    for (const c of r.socks) c.sock.destroy();
    assert.equal(r.greeted, IMAP_PER_IP, `${r.greeted} served, ${r.refused} refused`);
    assert.equal(bye, 20 - IMAP_PER_IP, `${bye} refused with BYE`);
    // Closed connections free their places (once the server has seen them close).
    let served = false;
    for (let i = 0; i < 50 && !served; i++) {
      const again = await flood(s.ports.imap!, 1, /^\* OK/m);
      for (const c of again.socks) c.sock.destroy();
      served = again.greeted === 1;
      if (!served) await sleep(100);
    }
    assert.ok(served, 'a new connection is served once the others closed');
  });

  it('SMTP: of 20 connections from one address, exactly the configured per-IP limit is served; the rest get 421 4.7.0', { timeout: 60_000 }, async () => {
    const r = await flood(s.ports.submission!, 20, /^220 /m);
    const refusedWith421 = r.socks.filter((c) => /^421 4\.7\.0/m.test(c.text())).length;
    for (const c of r.socks) c.sock.destroy();
    assert.equal(r.greeted, SMTP_PER_IP, `${r.greeted} served`);
    assert.equal(refusedWith421, 20 - SMTP_PER_IP, `${refusedWith421} refused with 421`);
  });
});

describe('hostile messages: APPEND, then BODYSTRUCTURE, ENVELOPE and SEARCH in bounded time', () => {
  let s: TestServer;
  let c: ImapClient;
  before(async () => {
    s = await startTestServer({ services: ['imaps'] });
    c = await client(s.ports.imaps!);
    await c.select('INBOX');
  });
  after(async () => {
    c?.close();
    await s?.stop();
  });

  async function check(name: string, message: Buffer, search: string): Promise<void> {
    const t0 = Date.now();
    const res = await c.append('INBOX', message);
    assert.ok(res.uid, `${name}: APPENDUID`);
    const tAppend = Date.now() - t0;
    const [m] = await c.fetch(String(res.uid), { uid: true, bodyStructure: true, envelope: true, size: true }, { uid: true });
    assert.equal(m?.size, message.length, `${name}: RFC822.SIZE`);
    assert.ok(m?.bodyStructure, `${name}: BODYSTRUCTURE`);
    const tFetch = Date.now() - t0 - tAppend;
    const found = await c.search(search, { uid: true });
    const tSearch = Date.now() - t0 - tAppend - tFetch;
    assert.ok(found.numbers.includes(res.uid!), `${name}: SEARCH ${search} finds it`);
    // Another session is served meanwhile and afterwards.
    const other = await client(s.ports.imaps!);
    await other.noop();
    await other.logout();
    const total = Date.now() - t0;
    assert.ok(total < 60_000, `${name}: APPEND ${tAppend} ms, FETCH ${tFetch} ms, SEARCH ${tSearch} ms`);
  }

  it('10,000 header fields', { timeout: 120_000 }, async () => {
    const fields = Array.from({ length: 10_000 }, (_, i) => `X-Field-${i}: value ${i} =?utf-8?q?caf=C3=A9?=\r\n`).join('');
    const msg = Buffer.from(`From: ${ADDRESS}\r\nTo: ${ADDRESS}\r\nSubject: many fields\r\n${fields}\r\nbody needle10k\r\n`);
    await check('10k fields', msg, 'HEADER X-Field-9999 "value 9999"');
  });

  it('multipart nested 1,000 deep', { timeout: 120_000 }, async () => {
    let body = 'Content-Type: text/plain\r\n\r\ndeep needle1000\r\n';
    for (let i = 999; i >= 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
    const msg = Buffer.from(`From: ${ADDRESS}\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`);
    await check('1000 deep', msg, 'SUBJECT deep');
    // The deep structure itself must come back (or be cut at the parser's depth limit), not an error.
    const [m] = await c.fetch('*', { bodyStructure: true });
    assert.ok(m?.bodyStructure);
  });

  it('a 50 MB base64 line', { timeout: 300_000 }, async () => {
    const line = Buffer.alloc(50 * 1024 * 1024, 'QUJDRA==');
    const msg = Buffer.concat([Buffer.from(`From: ${ADDRESS}\r\nSubject: long line needle50\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n`), line, Buffer.from('\r\n')]);
    await check('50 MB line', msg, 'SUBJECT needle50');
    // A search that matches nothing still scans the 50 MB line, and answers (empty) in time.
    const found = await c.search('TEXT nothing-like-this', { uid: true });
    assert.deepEqual(found.numbers, []);
  });
});
