// Response coalescing (src/imap/server/coalesced-output.ts), over real TLS: a command's response
// leaves as one socket write, so the client's TLS socket decrypts it from one record (one 'data'
// event), while what the client waits for before it sends anything (continuations, IDLE updates,
// a pipelined command's tagged reply) still arrives without more input from the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { Client, message, PASSWORD, startHarness, USER, type Harness, type Reply } from './harness.js';

/** Sends `command`, reads its tagged reply, and counts the TLS records ('data' events) it came in. */
async function records(c: Client, command: string): Promise<{ reply: Reply; events: number }> {
  let events = 0;
  const count = (): void => void events++;
  c.sock.on('data', count);
  try {
    const reply = await c.ok(command);
    return { reply, events };
  } finally {
    c.sock.off('data', count);
  }
}

describe('imap response coalescing', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    const c = await h.client();
    for (let i = 0; i < 12; i++) await c.ok(`CREATE Folder${i}`);
    for (let i = 0; i < 6; i++) assert.equal((await c.append('INBOX', message(`m${i}`))).status, 'OK');
    await c.ok('LOGOUT');
  });
  after(async () => {
    await h.close();
  });

  it('a LIST, a SELECT and a FETCH of several messages each arrive in one TLS record', async () => {
    const c = await h.client();
    const list = await records(c, 'LIST "" "*"');
    // 12 folders, INBOX and the default ones: one untagged line each, written one by one before.
    assert.ok(list.reply.untagged.length > 13);
    assert.equal(list.events, 1, 'LIST response split over several TLS records');
    const select = await records(c, 'SELECT INBOX');
    assert.ok(select.reply.untagged.some((l) => l === '* 6 EXISTS'));
    assert.equal(select.events, 1, 'SELECT response split over several TLS records');
    const fetch = await records(c, 'FETCH 1:6 (UID FLAGS)');
    assert.equal(fetch.reply.untagged.length, 6);
    assert.equal(fetch.events, 1, 'FETCH response split over several TLS records');
    c.destroy();
  });

  it('a response larger than the socket buffer still arrives whole (back-pressure while coalescing)', async () => {
    const c = await h.client();
    await c.ok('SELECT INBOX');
    // 6 x 40 KiB bodies: over the 16 KiB high-water mark, written in several TLS records.
    const big = 'x'.repeat(78) + '\r\n';
    await c.ok('CREATE Big');
    for (let i = 0; i < 6; i++) assert.equal((await c.append('Big', message(`big${i}`, big.repeat(512)))).status, 'OK');
    await c.ok('SELECT Big');
    const r = await c.ok('FETCH 1:6 BODY.PEEK[TEXT]');
    assert.equal(r.untagged.length, 6);
    for (const l of r.untagged) assert.ok(l.includes(big.repeat(512)));
    c.destroy();
  });

  it('continuation requests reach a client that sends nothing more: literal, APPEND, AUTHENTICATE, IDLE', async () => {
    const c = await h.client();
    // A synchronizing literal in a command (RFC 9051 7.5).
    c.write('a1 CREATE {4}\r\n');
    assert.match(await c.readLine(), /^\+ /);
    c.write('Lit1\r\n');
    assert.match((await c.reply('a1')).status, /^OK$/);
    // APPEND's message literal.
    c.write('a2 APPEND INBOX {5}\r\n');
    assert.match(await c.readLine(), /^\+ /);
    c.write('hello\r\n');
    assert.equal((await c.reply('a2')).status, 'OK');
    // IDLE's continuation, then an update pushed while the client only waits (RFC 2177).
    await c.ok('SELECT INBOX');
    c.write('a3 IDLE\r\n');
    assert.match(await c.readLine(), /^\+ /);
    const other = await h.client();
    await other.append('INBOX', message('pushed'));
    let line = await c.readLine();
    while (!line.endsWith(' EXISTS')) line = await c.readLine();
    assert.equal(line, '* 8 EXISTS');
    c.write('DONE\r\n');
    assert.equal((await c.reply('a3')).status, 'OK');
    other.destroy();
    c.destroy();
    // AUTHENTICATE without an initial response: the empty challenge (RFC 9051 6.2.2).
    const a = await h.client({ login: false });
    a.write('a4 AUTHENTICATE PLAIN\r\n');
    assert.equal(await a.readLine(), '+ ');
    a.write(`${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}\r\n`);
    assert.equal((await a.reply('a4')).status, 'OK');
    a.destroy();
  });

  it("a pipelined command's tagged reply does not wait for the end of the next command", async () => {
    const c = await h.client();
    // STATUS is held inside the store until the test lets it go: NOOP's OK must arrive meanwhile.
    const store = h.store as unknown as { mailboxCounts: (...args: unknown[]) => Promise<unknown> };
    const real = store.mailboxCounts;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const held = new Promise<void>((resolve) => (entered = resolve));
    store.mailboxCounts = async function (this: unknown, ...args: unknown[]) {
      entered();
      await gate;
      return real.apply(this, args);
    };
    try {
      c.write('p1 NOOP\r\np2 STATUS INBOX (MESSAGES)\r\n');
      await held;
      assert.equal((await c.reply('p1', 2000)).status, 'OK');
    } finally {
      store.mailboxCounts = real;
      release();
    }
    assert.equal((await c.reply('p2')).status, 'OK');
    c.destroy();
  });

  it('STARTTLS: the OK arrives in clear before the handshake, and the session goes on over TLS', async () => {
    const c = await h.client({ tls: false, login: false });
    c.write('s1 STARTTLS\r\n');
    assert.match(await c.readLine(), /^s1 OK /);
    const t = tlsConnect({ socket: c.sock, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    const s = new Client(t);
    await s.ok(`LOGIN ${USER} ${PASSWORD}`);
    const list = await records(s, 'LIST "" "Folder*"');
    assert.equal(list.reply.untagged.length, 12);
    assert.equal(list.events, 1);
    s.destroy();
  });
});
