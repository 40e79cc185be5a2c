// Spec 4 literal limits over a real socket, before and after login; a 20 MB APPEND streamed to disk.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { spawn } from 'node:child_process';
import { PASSWORD, USER, startHarness, type Client, type Harness } from './harness.js';

async function literalLimitCases(h: Harness, login: boolean): Promise<void> {
  const open = (): Promise<Client> => h.client({ tls: login, login });

  // A 102401-byte synchronizing literal: BAD [TOOBIG], no "+", the connection stays usable.
  let c = await open();
  c.write('a1 LOGIN {102401}\r\n');
  assert.match(await c.readLine(), /^a1 BAD \[TOOBIG\] /);
  let r = await c.ok('NOOP');
  assert.equal(r.status, 'OK');

  // After login ten 102400-byte literals in one command are accepted and an eleventh is refused
  // (1024000 bytes in all); before login one is, and one more byte is refused (102400 in all: a
  // client that has not logged in needs no more, and many such connections must not each hold a
  // megabyte).
  const lit = 'x'.repeat(102400);
  if (login) await c.ok('SELECT INBOX');
  c.write(login ? 'a2 SEARCH' : 'a2 ID (');
  const fit = login ? 10 : 1;
  for (let i = 0; i < fit; i++) {
    c.write(`${login ? ' TEXT ' : i ? ' ' : ''}{102400}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.write(lit);
  }
  c.write(login ? ' TEXT {102400}\r\n' : ' {1}\r\n');
  assert.match(await c.readLine(), login ? /^a2 BAD \[TOOBIG\] / : /^a2 BAD \[TOOBIG\] literals of one command over 102400 bytes before login/);
  await c.ok('NOOP');

  // 1001 one-byte literals: refused at the 1001st (non-synchronizing for speed, except the last).
  c.write('a3 SEARCH');
  for (let i = 0; i < 1000; i++) c.write(` TEXT {1+}\r\nx`);
  c.write(' TEXT {1}\r\n');
  assert.match(await c.readLine(), /^a3 BAD \[TOOBIG\] /);
  r = await c.ok('NOOP');

  // Non-synchronizing literal over a limit: * BYE and BAD [TOOBIG], then the connection closes.
  c.write('a4 LOGIN {102401+}\r\n');
  assert.match(await c.readLine(), /^\* BYE \[ALERT\] /);
  assert.match(await c.readLine(), /^a4 BAD \[TOOBIG\] /);
  await c.expectClosed();

  // An over-long command line: BYE and close.
  c = await open();
  c.write('a5 NOOP ' + 'x'.repeat(65 * 1024) + '\r\n');
  assert.match((await c.expectClosed())[0]!, /^\* BYE /);
}

describe('imap literal limits (spec 4)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('before login', async () => {
    await literalLimitCases(h, false);
  });

  it('after login', async () => {
    await literalLimitCases(h, true);
  });

  it('a non-IMAP first line gets BYE and a close', async () => {
    const c = await h.client({ tls: false });
    c.write('GET / HTTP/1.1\r\n');
    const lines = await c.expectClosed();
    assert.match(lines[0]!, /^\* BYE /);
  });

  it('APPEND over APPENDLIMIT is refused before the continuation; an empty mailbox name is fine to refuse', async () => {
    const c = await h.client();
    const r = await c.cmd('APPEND INBOX {104857601}');
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[TOOBIG\]/);
    await c.ok('NOOP');
  });

  it('a non-synchronizing APPEND literal over APPENDLIMIT gets BYE and NO [TOOBIG], then the connection closes', async () => {
    // RFC 7888 4: the client sends the data anyway; reading and dropping up to 4 GiB serves no one.
    for (const [mailbox, size] of [['INBOX', 104857601], ['INBOX', 4294967296], ['NoSuchMailbox', 4294967296]] as const) {
      const c = await h.client();
      c.write(`a9 APPEND ${mailbox} {${size}+}\r\n`);
      c.write('x'.repeat(64 * 1024));
      const lines = await c.expectClosed();
      assert.match(lines[0]!, /^\* BYE \[ALERT\] message literal over the APPENDLIMIT/);
      assert.match(lines[1]!, /^a9 NO \[(TOOBIG|TRYCREATE)\]/);
    }
    // Within the limit a refused non-synchronizing literal is read and dropped: the session goes on.
    const c = await h.client();
    c.write('a10 APPEND NoSuchMailbox {5+}\r\nhello\r\n');
    assert.match(await c.readLine(), /^a10 NO \[TRYCREATE\]/);
    await c.ok('NOOP');
  });

  it('a 20 MB APPEND succeeds while the server RSS grows far less than 20 MB', async () => {
    // The client is a child process, so only the server's memory is measured here. Garbage is
    // collected often so RSS shows what the server keeps live (V8 otherwise lets dead external
    // buffers pile up to 64 MB before collecting).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const size = 20 * 1024 * 1024;
    const script = `
      const tls = require('node:tls');
      const s = tls.connect({ host: '127.0.0.1', port: ${h.tlsPort}, rejectUnauthorized: false });
      let buf = '';
      const size = ${size};
      let step = 0;
      s.on('data', async (d) => {
        buf += d.toString('latin1');
        if (step === 0 && buf.includes('\\r\\n')) { step = 1; buf = ''; s.write('l LOGIN ${USER} ${PASSWORD}\\r\\n'); }
        else if (step === 1 && /^l OK/m.test(buf)) { step = 2; buf = ''; process.stdout.write('ready\\n'); process.stdin.once('data', () => s.write('b1 APPEND INBOX {' + size + '}\\r\\n')); }
        else if (step === 2 && buf.startsWith('+')) {
          step = 3; buf = '';
          const chunk = Buffer.alloc(64 * 1024, 'abcdefghij0123456789\\r\\n');
          const header = Buffer.from('Subject: big\\r\\n\\r\\n');
          s.write(header);
          let sent = header.length;
          while (sent < size) {
            const n = Math.min(chunk.length, size - sent);
            sent += n;
            if (!s.write(chunk.subarray(0, n))) await new Promise((r) => s.once('drain', r));
          }
          s.write('\\r\\n');
        } else if (step === 3 && /^b1 /m.test(buf)) { process.stdout.write(buf); process.exit(0); }
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let rssBefore = 0;
    let peak = 0;
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out === 'ready\n') {
        // Measured after LOGIN: password verification (scrypt) has its own, unrelated memory peak.
        out = '';
        gc();
        rssBefore = peak = process.memoryUsage().rss;
        timer = setInterval(() => {
          gc();
          peak = Math.max(peak, process.memoryUsage().rss);
        }, 20);
        child.stdin.write('go\n');
      }
    });
    await new Promise((r) => child.on('exit', r));
    clearInterval(timer);
    assert.match(out, /^b1 OK \[APPENDUID \d+ \d+\]/);
    const growth = peak - rssBefore;
    assert.ok(growth < 8 * 1024 * 1024, `server RSS grew by ${Math.round(growth / 1024)} KiB`);
    const c = await h.client();
    const st = await c.ok('STATUS INBOX (SIZE)');
    assert.match(st.untagged[0]!, /SIZE 2\d{7}/);
  });
});
