// Malformed and hostile input: garbage, overlong lines, pipelining after failures, bare LF and
// smuggling attempts, NUL bytes, 8-bit data, size limits, BDAT errors, STARTTLS injection,
// timeouts. Each test checks the server's answer and that the session stays in sync.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, SmtpClient, header, message, plain, startHarness, type Harness } from './harness.js';

const MAX = 10_000;
let h: Harness;
before(async () => {
  h = await startHarness({ smtpLimits: { maxMessageSize: MAX }, timeouts: { greetingMs: 400 } });
});
after(async () => {
  await h.close();
});

async function session(): Promise<SmtpClient> {
  const c = await SmtpClient.connect(h.ports.smtp);
  await c.expect(220);
  return c;
}

async function bobCount(): Promise<number> {
  return (await h.inbox(h.bob.id)).length;
}

describe('malformed input', () => {
  test('garbage before EHLO: 500/503, then a normal session', async () => {
    const c = await session();
    await c.cmd('hello there', 500, '5.5.1');
    await c.cmd('MAIL FROM:<a@sender.test>', 503, '5.5.1');
    await c.cmd('', 500);
    await c.cmd('EHLO', 501);
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    c.close();
  });

  test('an HTTP request is not SMTP: 500 and close', async () => {
    const c = await session();
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.expect(500);
    await c.waitClosed();
  });

  test('command line over 2048 bytes: 500 5.5.0, then close', async () => {
    const c = await session();
    await c.ehlo();
    await c.cmd(`MAIL FROM:<${'a'.repeat(3000)}@sender.test>`, 500, '5.5.0');
    await c.waitClosed();
  });

  test('pipelined commands after failing ones are answered in order', async () => {
    const c = await session();
    const before = await bobCount();
    c.write('EHLO client.example\r\nMAIL FROM:<bad\r\nRCPT TO:<bob@example.test>\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
    await c.expect(250);
    await c.expect(553, '5.1.7');
    await c.expect(503, '5.5.1');
    await c.expect(250);
    await c.expect(550, '5.1.1');
    await c.expect(250);
    await c.expect(354);
    c.write('Subject: pipelined\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n');
    await c.expect(250, '2.6.0');
    await c.expect(250);
    await c.expect(221);
    assert.equal(await bobCount(), before + 1);
  });

  test('bare LF is converted; LF.LF does not end the data (no smuggling)', async () => {
    const c = await session();
    await c.ehlo();
    const before = await bobCount();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write('Subject: lf\n\nfirst\n.\nMAIL FROM:<evil@sender.test>\nRCPT TO:<bob@example.test>\n\r\n.\r\n');
    await c.expect(250);
    await c.cmd('NOOP', 250);
    assert.equal(await bobCount(), before + 1, 'exactly one message');
    const msg = (await h.inbox(h.bob.id)).at(-1)!.toString();
    assert.ok(msg.endsWith('Subject: lf\r\n\r\nfirst\r\n.\r\nMAIL FROM:<evil@sender.test>\r\nRCPT TO:<bob@example.test>\r\n\r\n'), JSON.stringify(msg.slice(-120)));
    c.close();
  });

  // SMTP smuggling: a CR not followed by LF could end the data at a next hop that takes
  // <CR>.<CR> as the terminator. Refused with 554 5.6.11 on both listeners, DATA and BDAT.
  /** A session ready for MAIL: port 25 from outside, or submission logged in as alice. */
  const openAs = async (kind: 'incoming' | 'submission'): Promise<{ c: SmtpClient; from: string }> => {
    if (kind === 'incoming') {
      const c = await session();
      await c.ehlo();
      return { c, from: 'a@sender.test' };
    }
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    await c.cmd(`AUTH PLAIN ${plain('alice@example.test', PASSWORD)}`, 235);
    return { c, from: 'alice@example.test' };
  };
  const bareCrBodies = ['first\r.\rMAIL FROM:<evil@sender.test>\r\n', 'first\r\n.\rMAIL FROM:<evil@sender.test>\r\n', 'first\r.\r\nMAIL FROM:<evil@sender.test>\r\n', 'first\n.\rx\r\n', 'a bare\rCR\r\n', 'ends in CR\r'];
  for (const kind of ['incoming', 'submission'] as const) {
    test(`${kind}: bare CR in DATA and in BDAT: 554 5.6.11, nothing stored, the session goes on`, async () => {
      const { c, from } = await openAs(kind);
      const before = await bobCount();
      for (const body of bareCrBodies) {
        const data = `From: ${from}\r\nTo: bob@example.test\r\nSubject: cr\r\n\r\n${body}`;
        await c.cmd(`MAIL FROM:<${from}>`, 250);
        await c.cmd('RCPT TO:<bob@example.test>', 250);
        await c.cmd('DATA', 354);
        c.write(`${data}${data.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
        const r = await c.expect(554, '5.6.11');
        assert.match(r.lines.join(' '), /smuggling/i);
        // The same in one BDAT chunk, and split so that the CR ends a chunk.
        await c.cmd(`MAIL FROM:<${from}>`, 250);
        await c.cmd('RCPT TO:<bob@example.test>', 250);
        const cut = data.lastIndexOf('\r') + 1;
        c.write(`BDAT ${cut}\r\n${data.slice(0, cut)}`);
        await c.expect(250);
        c.write(`BDAT ${data.length - cut} LAST\r\n${data.slice(cut)}`);
        await c.expect(554, '5.6.11');
      }
      assert.equal(await bobCount(), before, 'nothing stored');
      await c.cmd(`MAIL FROM:<${from}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
      await c.cmd('DATA', 354);
      c.write(message(from, 'bob@example.test', 'fine') + '.\r\n');
      await c.expect(250);
      assert.equal(await bobCount(), before + 1);
      c.close();
    });

    test(`${kind}: more than 100 Received fields: 554 5.4.6 (mail loop); 100 are accepted`, async () => {
      const { c, from } = await openAs(kind);
      const received = (n: number) => Array.from({ length: n }, (_, i) => `Received: from h${i} by h${i + 1}; Thu, 3 Dec 2026 10:00:00 +0000\r\n`).join('');
      const before = await bobCount();
      for (const [n, code] of [[101, 554], [100, 250]] as const) {
        await c.cmd(`MAIL FROM:<${from}>`, 250);
        await c.cmd('RCPT TO:<bob@example.test>', 250);
        await c.cmd('DATA', 354);
        c.write(received(n) + message(from, 'bob@example.test', `hops ${n}`) + '.\r\n');
        await c.expect(code, code === 554 ? '5.4.6' : undefined);
      }
      assert.equal(await bobCount(), before + 1);
      c.close();
    });
  }

  test('dot-stuffing is undone', async () => {
    const c = await session();
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write('Subject: dots\r\n\r\n..leading dot\r\n...\r\n.\r\n');
    await c.expect(250);
    assert.ok((await h.inbox(h.bob.id)).at(-1)!.toString().endsWith('\r\n\r\n.leading dot\r\n..\r\n'));
    c.close();
  });

  test('NUL bytes: 554 5.6.0, nothing stored, the session goes on', async () => {
    const c = await session();
    await c.ehlo();
    const before = await bobCount();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write('Subject: nul\r\n\r\nbad\0byte\r\n.\r\n');
    await c.expect(554, '5.6.0');
    assert.equal(await bobCount(), before);
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    c.close();
  });

  test('NUL in a command line: 500', async () => {
    const c = await session();
    await c.cmd('EHLO a\0b', 500);
    await c.ehlo();
    c.close();
  });

  test('8-bit data without BODY=8BITMIME is accepted as is (like Postfix)', async () => {
    const c = await session();
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write(Buffer.from('Subject: =?utf-8?q?x?=\r\n\r\nSchöne Grüße \xff\r\n.\r\n', 'latin1'));
    await c.expect(250);
    const msg = (await h.inbox(h.bob.id)).at(-1)!;
    assert.ok(msg.subarray(-20).includes(0xff));
    c.close();
  });

  test('size: declared SIZE over the limit 552 at MAIL; DATA over the limit 552 after the data, in sync', async () => {
    const c = await session();
    const ehlo = await c.ehlo();
    assert.ok(ehlo.includes(`SIZE ${MAX}`));
    await c.cmd(`MAIL FROM:<a@sender.test> SIZE=${MAX + 1}`, 552, '5.3.4');
    await c.cmd(`MAIL FROM:<a@sender.test> SIZE=${MAX}`, 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    const before = await bobCount();
    await c.cmd('DATA', 354);
    c.write('Subject: big\r\n\r\n' + 'x'.repeat(100).concat('\r\n').repeat(120) + '.\r\n');
    await c.expect(552, '5.3.4');
    assert.equal(await bobCount(), before);
    await c.cmd('NOOP', 250);
    c.close();
  });

  test('BDAT: without MAIL, over the limit, and after a failed chunk; chunk bytes never read as commands', async () => {
    const c = await session();
    await c.ehlo();
    c.write('BDAT 12\r\nQUIT\r\nQUIT\r\n');
    await c.expect(503, '5.5.1');
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    const big = Buffer.alloc(MAX + 10, 'a');
    c.write(Buffer.concat([Buffer.from(`BDAT ${big.length}\r\n`), big]));
    await c.expect(552, '5.3.4');
    c.write('BDAT 5 LAST\r\nhello');
    await c.expect(503, '5.5.1');
    // The transaction ended with LAST.
    await c.cmd('RCPT TO:<bob@example.test>', 503);
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write('Subject: after bdat\r\n\r\nok\r\n.\r\n');
    await c.expect(250);
    await c.cmd('BDAT x', 501);
    await c.waitClosed();
  });

  test('STARTTLS: commands pipelined in the clear after it are discarded (RFC 3207 6)', async () => {
    const c = await session();
    await c.ehlo();
    c.write('STARTTLS\r\nRSET\r\n');
    await c.expect(220);
    c.sock.removeAllListeners('data');
    c.sock.removeAllListeners('close');
    const { connect } = await import('node:tls');
    const t = connect({ socket: c.sock, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => t.once('secureConnect', resolve).once('error', reject));
    const got: Buffer[] = [];
    t.on('data', (d: Buffer) => got.push(d));
    t.write('EHLO again\r\n');
    await new Promise((r) => setTimeout(r, 300));
    const text = Buffer.concat(got).toString();
    assert.match(text, /^250-mail\.example\.test/, text);
    assert.ok(!text.includes('2.0.0 reset'));
    t.destroy();
  });

  test('too many errors: 421 and close', async () => {
    const c = await session();
    for (let i = 0; i < 19; i++) await c.cmd('WHAT', 500);
    await c.cmd('WHAT', 500);
    await c.expect(421, '4.7.0');
    await c.waitClosed();
  });

  test('idle before EHLO: 421 4.4.2 and close', async () => {
    const c = await session();
    await c.expect(421, '4.4.2');
    await c.waitClosed();
  });

  test('the received message keeps its header intact after the trace fields', async () => {
    const c = await session();
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('DATA', 354);
    c.write('Subject: folded\r\n header\r\nX-Test: 1\r\n\r\nbody\r\n.\r\n');
    await c.expect(250);
    const msg = (await h.inbox(h.bob.id)).at(-1)!;
    assert.equal(header(msg, 'Subject'), 'folded header');
    assert.equal(header(msg, 'X-Test'), '1');
    c.close();
  });
});
