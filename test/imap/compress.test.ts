// COMPRESS=DEFLATE (RFC 4978): transcripts over implicit TLS with node:zlib as the client's
// compressor: the RFC's exchange, errors (unknown algorithm BAD, a second COMPRESS NO
// [COMPRESSIONACTIVE], before login BAD), APPEND with a synchronizing literal, a large FETCH read
// slowly (back-pressure), IDLE updates reaching the client without a command, the deflate state
// freed between bursts, a decompression bomb meeting the line limit with bounded memory, invalid
// compressed data, a hidden COMPRESS=DEFLATE, and python3 over ssl with its own zlib.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { constants, createDeflateRaw, deflateRawSync } from 'node:zlib';
import { ImapFlow } from 'imapflow';
import { needPeer } from '../e2e/need-peer.js';
import { COMPRESS_DEFLATE_RELEASE_MS } from '../../src/imap/proto/limits.js';
import { deflateClient, startCompress } from './compress-client.js';
import { message, PASSWORD, startHarness, USER, type Harness } from './harness.js';

/** A raw deflate stream of `head` and `times` copies of `chunk`, ending in a sync flush. */
async function deflated(head: Buffer, chunk: Buffer, times: number): Promise<Buffer> {
  const d = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  d.write(head);
  for (let i = 0; i < times; i++) if (!d.write(chunk)) await once(d, 'drain');
  await new Promise<void>((resolve) => d.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  d.close();
  return Buffer.concat(out);
}

const capsOf = (lines: string[]): string[] => lines.find((l) => l.startsWith('* CAPABILITY '))!.split(' ').slice(2);

describe('COMPRESS=DEFLATE', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('advertised after login only; COMPRESS before login is BAD and the session goes on', async () => {
    const { c } = await deflateClient(h, false);
    assert.ok(!capsOf((await c.ok('CAPABILITY')).untagged).includes('COMPRESS=DEFLATE'));
    const r = await c.bad('COMPRESS DEFLATE');
    assert.match(r.text, /before authentication/);
    const login = await c.ok(`LOGIN ${USER} ${PASSWORD}`);
    assert.match(login.text, /COMPRESS=DEFLATE/);
    assert.ok(capsOf((await c.ok('CAPABILITY')).untagged).includes('COMPRESS=DEFLATE'));
    c.destroy();
  });

  it('the RFC 4978 exchange: OK, then both ways compressed; errors answered compressed', async () => {
    const { c, z } = await deflateClient(h);
    // Unknown algorithm and missing argument: BAD, nothing switched.
    await c.bad('COMPRESS GZIP');
    await c.bad('COMPRESS');
    await c.ok('NOOP');
    const r = await c.cmd('COMPRESS DEFLATE');
    assert.equal(r.status, 'OK');
    assert.match(r.text, /DEFLATE active/);
    z.enable();
    const inBefore = z.wireIn;
    const sel = await c.ok('SELECT INBOX');
    assert.ok(sel.untagged.some((l) => /^\* \d+ EXISTS$/.test(l)), sel.untagged.join('\n'));
    // The reply came compressed: what arrived on the wire is not the text the client read.
    assert.ok(z.wireIn > inBefore);
    // RFC 4978 3: once active, a second COMPRESS is NO [COMPRESSIONACTIVE], compressed like the rest.
    await c.no('COMPRESS DEFLATE', 'COMPRESSIONACTIVE');
    await c.bad('COMPRESS FOO');
    // STARTTLS comes before login, COMPRESS after it: they never meet out of RFC 4978 3's order.
    await c.no('STARTTLS');
    const list = await c.ok('LIST "" "*"');
    assert.ok(list.untagged.some((l) => l.endsWith(' INBOX')), list.untagged.join('\n'));
    const bye = await c.ok('LOGOUT');
    assert.ok(bye.untagged.some((l) => l.startsWith('* BYE')));
    assert.equal(z.inflateError, null);
  });

  it('APPEND with a synchronizing literal and FETCH of it, compressed; a large message read slowly', async () => {
    const { c, z } = await deflateClient(h);
    await c.ok('CREATE Big');
    await startCompress(c, z);
    const small = message('compressed append');
    const a = await c.append('Big', small);
    assert.equal(a.status, 'OK', a.text);
    // 3 MiB of lines that do not repeat in a 4 KiB window: the compressed reply is still large.
    const lines: string[] = [];
    for (let i = 0, n = 0; n < 3 * 1024 * 1024; i++) {
      lines.push(`line ${i} ${((i * 2654435761) % 4294967296).toString(36)} ${Math.sin(i).toFixed(12)}\r\n`);
      n += lines[i]!.length;
    }
    const big = message('big one', lines.join(''));
    assert.equal((await c.append('Big', big)).status, 'OK');
    await c.ok('SELECT Big');
    // The client stops reading: the server waits on back-pressure, then finishes when it reads again.
    z.pause();
    const tag = c.nextTag();
    c.write(`${tag} FETCH 1:2 (BODY.PEEK[])\r\n`);
    await new Promise((r) => setTimeout(r, 300));
    z.resume();
    const r = await c.reply(tag, 30_000);
    assert.equal(r.status, 'OK');
    assert.ok(r.untagged[0]!.includes(small), 'first message intact');
    assert.ok(r.untagged[1]!.includes(big.slice(-1000)) && r.untagged[1]!.length > big.length, 'big message intact');
    assert.ok(z.wireIn < z.plainIn, `compressed: ${z.wireIn} on the wire for ${z.plainIn}`);
    c.destroy();
  });

  it('IDLE: a change from another session reaches the compressed client without a command', async () => {
    const { c, z } = await deflateClient(h);
    await startCompress(c, z);
    await c.ok('SELECT INBOX');
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    const other = await h.client();
    await other.append('INBOX', message('while idle'));
    assert.match(await c.readLine(5000), /^\* \d+ EXISTS$/);
    c.write('DONE\r\n');
    assert.equal((await c.reply(tag)).status, 'OK');
    other.destroy();
    c.destroy();
  });

  it('the deflate state is freed between bursts and the stream goes on', async () => {
    const { c, z } = await deflateClient(h);
    await startCompress(c, z);
    await c.ok('NOOP');
    await new Promise((r) => setTimeout(r, COMPRESS_DEFLATE_RELEASE_MS + 500));
    assert.ok((await c.ok('LIST "" "*"')).untagged.length > 0);
    await new Promise((r) => setTimeout(r, COMPRESS_DEFLATE_RELEASE_MS + 200));
    await c.ok('NOOP');
    assert.equal(z.inflateError, null);
    c.destroy();
  });

  it('commands sent right behind COMPRESS in the same write are inflated, not parsed as text', async () => {
    const { c, z } = await deflateClient(h);
    const compressed = deflateRawSync('p2 NOOP\r\n', { finishFlush: constants.Z_SYNC_FLUSH });
    z.writeRaw(Buffer.concat([Buffer.from('p1 COMPRESS DEFLATE\r\n'), compressed]));
    const r = await c.reply('p1');
    assert.equal(r.status, 'OK');
    z.enable();
    assert.equal((await c.reply('p2')).status, 'OK');
    c.destroy();
  });

  it('a decompression bomb meets the line limit: BYE, memory bounded', async () => {
    const { c, z } = await deflateClient(h);
    await startCompress(c, z);
    // 256 MiB of one line without CRLF, about 250 KiB compressed.
    const bomb = await deflated(Buffer.from('t1 NOOP '), Buffer.alloc(1024 * 1024, 0x61), 256);
    assert.ok(bomb.length < 300 * 1024, `${bomb.length}`);
    global.gc?.();
    const buf0 = process.memoryUsage().arrayBuffers;
    let peak = buf0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
    z.writeRaw(bomb);
    const lines = await c.expectClosed(10_000);
    clearInterval(sampler);
    assert.ok(lines.some((l) => /^\* BYE .*too long/.test(l)), lines.join('\n'));
    // The reader holds at most its high-water mark (512 KiB) and zlib one chunk: far from 256 MiB.
    assert.ok(peak - buf0 < 16 * 1024 * 1024, `buffers grew by ${((peak - buf0) / 2 ** 20).toFixed(1)} MiB`);
    // The server still serves others.
    const other = await h.client();
    await other.ok('NOOP');
    other.destroy();
  });

  it('a flood of valid commands that inflates hugely waits in the socket, not in memory', async () => {
    const { c, z } = await deflateClient(h);
    await startCompress(c, z);
    // 384 MiB of NOOPs in about 400 KiB; the client does not read the replies, so the server
    // works through them slowly and the rest must stay compressed (or unread in the socket).
    const flood = await deflated(Buffer.alloc(0), Buffer.from('f NOOP\r\n'.repeat(128 * 1024)), 384);
    z.pause();
    global.gc?.();
    const buf0 = process.memoryUsage().arrayBuffers;
    let peak = buf0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
    z.writeRaw(flood);
    // Inflating all of it unchecked would hold tens of MiB by then (the reader's high-water mark
    // is 512 KiB).
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);
    c.destroy();
    assert.ok(peak - buf0 < 16 * 1024 * 1024, `buffers grew by ${((peak - buf0) / 2 ** 20).toFixed(1)} MiB`);
  });

  it('invalid compressed data: BYE (compressed) and close', async () => {
    const { c, z } = await deflateClient(h);
    await startCompress(c, z);
    await c.ok('NOOP');
    // Block type 3 is reserved (RFC 1951 3.2.3): no inflater accepts it.
    z.writeRaw(Buffer.from([0x07, 0xff, 0xff, 0xff]));
    const lines = await c.expectClosed(5000);
    assert.ok(lines.some((l) => /^\* BYE .*compressed/.test(l)), lines.join('\n'));
    assert.equal(z.inflateError, null);
  });

  it('hidden for the account: not offered, COMPRESS DEFLATE is BAD and the session stays uncompressed', async () => {
    await h.store.setHiddenCapabilities('mjl', ['COMPRESS=DEFLATE']);
    try {
      const { c, z } = await deflateClient(h, false);
      const login = await c.ok(`LOGIN ${USER} ${PASSWORD}`);
      assert.doesNotMatch(login.text, /COMPRESS/);
      assert.ok(!capsOf((await c.ok('CAPABILITY')).untagged).includes('COMPRESS=DEFLATE'));
      await c.bad('COMPRESS DEFLATE');
      // Still plain text both ways.
      assert.equal(z.compressing, false);
      await c.ok('NOOP');
      c.destroy();
    } finally {
      await h.store.setHiddenCapabilities('mjl', []);
    }
  });

  it('imapflow negotiates it by itself: LIST, APPEND, FETCH and IDLE over the compressed session', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: h.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: USER, pass: PASSWORD }, logger: false });
    await client.connect();
    try {
      // imapflow keeps its zlib streams here once the server said OK to COMPRESS.
      assert.ok((client as unknown as { _deflate?: object })._deflate, 'imapflow compresses');
      await client.mailboxCreate('Flow');
      assert.ok((await client.list()).some((b) => b.path === 'Flow'));
      const body = 'imapflow over deflate\r\n'.repeat(200);
      const r = await client.append('Flow', message('flow one', body), ['\\Seen']);
      assert.ok(r && typeof r === 'object' && r.uid === 1);
      const lock = await client.getMailboxLock('Flow');
      try {
        const msgs = [];
        for await (const m of client.fetch('1:*', { envelope: true, flags: true, source: true })) msgs.push(m);
        assert.equal(msgs[0]!.envelope!.subject, 'flow one');
        assert.ok(msgs[0]!.source!.toString().includes(body));
      } finally {
        lock.release();
      }
      // IDLE: new mail from another session reaches imapflow while it idles.
      const exists = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
      const idling = client.idle();
      await new Promise((r) => setTimeout(r, 200));
      const other = await h.client();
      await other.append('Flow', message('flow two'));
      other.destroy();
      assert.equal(await Promise.race([exists, new Promise((_, rej) => setTimeout(() => rej(new Error('no EXISTS')), 5000))]), 2);
      await client.noop();
      await idling;
    } finally {
      await client.logout();
    }
  });

  it('python3 over ssl with its own zlib: LOGIN, COMPRESS, SELECT, APPEND, FETCH, LOGOUT', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    const script = `
import socket, ssl, zlib, re
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', ${h.tlsPort})), server_hostname='localhost')
buf = b''
inflate = None
def read_until(pat):
    global buf
    while not re.search(pat, buf):
        d = s.recv(65536)
        if not d: raise SystemExit('closed: ' + repr(buf[-200:]))
        buf += inflate.decompress(d) if inflate else d
    m = re.search(pat, buf); out = buf[:m.end()]; buf = buf[m.end():]; return out
deflate = None
def send(data):
    s.sendall(deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH) if deflate else data)
read_until(rb'\\r\\n')
send(b'a LOGIN ${USER} ${PASSWORD}\\r\\n'); print('login', b'COMPRESS=DEFLATE' in read_until(rb'(?m)^a (OK|NO|BAD)[^\\r]*\\r\\n'))
send(b'b COMPRESS DEFLATE\\r\\n'); print('compress', read_until(rb'(?m)^b [^\\r]*\\r\\n').decode().strip())
deflate = zlib.compressobj(6, zlib.DEFLATED, -15); inflate = zlib.decompressobj(-15)
send(b'c CREATE Py\\r\\n'); read_until(rb'(?m)^c [^\\r]*\\r\\n')
msg = b'From: a@example.org\\r\\nSubject: from python\\r\\n\\r\\n' + b'zlib says hello\\r\\n' * 500
send(b'd APPEND Py {%d}\\r\\n' % len(msg)); print('cont', read_until(rb'\\r\\n').decode().strip()[:1])
send(msg + b'\\r\\n'); print('append', read_until(rb'(?m)^d [^\\r]*\\r\\n').decode().split('\\r\\n')[-2].split(' ')[1])
send(b'e SELECT Py\\r\\n'); read_until(rb'(?m)^e [^\\r]*\\r\\n')
send(b'f FETCH 1 (BODY.PEEK[])\\r\\n'); out = read_until(rb'(?m)^f [^\\r]*\\r\\n'); print('fetch', msg in out)
send(b'g LOGOUT\\r\\n'); print('logout', read_until(rb'(?m)^g [^\\r]*\\r\\n').decode().split('\\r\\n')[-2])
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /^login True$/m);
    assert.match(stdout, /^compress b OK DEFLATE active$/m);
    assert.match(stdout, /^cont \+$/m);
    assert.match(stdout, /^append OK$/m);
    assert.match(stdout, /^fetch True$/m);
    assert.match(stdout, /^logout g OK/m);
  });
});
