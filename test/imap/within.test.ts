// WITHIN (RFC 5032) over a real socket: SEARCH/UID SEARCH/ESEARCH, SORT and THREAD with OLDER and
// YOUNGER against messages APPENDed with INTERNALDATEs relative to now, bad intervals answered BAD with
// the session going on, and python3 imaplib as a real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** An IMAP date-time (RFC 9051 9) `secondsAgo` before now, in UTC. */
function imapDateAgo(secondsAgo: number): string {
  const d = new Date(Date.now() - secondsAgo * 1000);
  return `${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

async function appendAgo(c: Client, mailbox: string, secondsAgo: number, msg: string): Promise<void> {
  const data = Buffer.from(msg);
  const tag = c.nextTag();
  c.write(`${tag} APPEND ${mailbox} "${imapDateAgo(secondsAgo)}" {${data.length}}\r\n`);
  assert.match(await c.readLine(), /^\+/);
  c.write(Buffer.concat([data, Buffer.from('\r\n')]));
  const r = await c.reply(tag);
  assert.equal(r.status, 'OK', r.text);
}

describe('WITHIN (RFC 5032): OLDER and YOUNGER', () => {
  let h: Harness;
  let c: Client;
  before(async () => {
    h = await startHarness();
    c = await h.client();
    await c.ok('CREATE Within');
    // An expunged first message so that UIDs (2..4) differ from sequence numbers (1..3).
    await appendAgo(c, 'Within', 10, message('gone'));
    await appendAgo(c, 'Within', 3 * 86400, message('three days old')); // seq 1, UID 2
    await appendAgo(c, 'Within', 2 * 3600, message('two hours old')); // seq 2, UID 3
    await appendAgo(c, 'Within', 60, message('a minute old')); // seq 3, UID 4
    await c.ok('SELECT Within');
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    await c.ok('EXPUNGE');
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  const one = async (cmd: string, re: RegExp): Promise<string> => {
    const r = await c.ok(cmd);
    const lines = r.untagged.filter((l) => re.test(l));
    assert.equal(lines.length, 1, `${cmd}: ${JSON.stringify(r.untagged)}`);
    return lines[0]!;
  };
  const search = (args: string): Promise<string> => one(args, /^\* (SEARCH|ESEARCH)\b/);

  it('advertises WITHIN', async () => {
    const r = await c.ok('CAPABILITY');
    assert.ok(r.untagged.some((l) => /^\* CAPABILITY .* WITHIN( |$)/.test(l)), JSON.stringify(r.untagged));
  });

  it('SEARCH and UID SEARCH compare the INTERNALDATE with now', async () => {
    assert.equal(await search('SEARCH OLDER 86400'), '* SEARCH 1');
    assert.equal(await search('SEARCH YOUNGER 86400'), '* SEARCH 2 3');
    assert.equal(await search('SEARCH YOUNGER 1800'), '* SEARCH 3');
    assert.equal(await search('SEARCH OLDER 1800'), '* SEARCH 1 2');
    assert.equal(await search('SEARCH OLDER 864000'), '* SEARCH');
    assert.equal(await search('SEARCH YOUNGER 1'), '* SEARCH');
    assert.equal(await search('UID SEARCH YOUNGER 86400'), '* SEARCH 3 4');
    // Combined with other keys: within a window, and outside it.
    assert.equal(await search('SEARCH YOUNGER 86400 OLDER 1800'), '* SEARCH 2');
    assert.equal(await search('UID SEARCH OR OLDER 86400 YOUNGER 1800'), '* SEARCH 2 4');
    assert.equal(await search('SEARCH NOT YOUNGER 86400'), '* SEARCH 1');
    assert.match(await search('SEARCH RETURN (COUNT MIN) YOUNGER 86400'), /^\* ESEARCH \(TAG "t\d+"\) MIN 2 COUNT 2$/);
  });

  it('SORT and THREAD take the same keys', async () => {
    assert.equal(await one('SORT (REVERSE ARRIVAL) UTF-8 YOUNGER 86400', /^\* SORT\b/), '* SORT 3 2');
    assert.equal(await one('UID SORT (ARRIVAL) UTF-8 OLDER 1800', /^\* SORT\b/), '* SORT 2 3');
    assert.equal(await one('THREAD ORDEREDSUBJECT UTF-8 OLDER 1800', /^\* THREAD\b/), '* THREAD (1)(2)');
  });

  it('a missing, non-numeric, negative, zero or too large interval is BAD and the session goes on', async () => {
    for (const args of ['OLDER', 'OLDER x', 'OLDER -1', 'OLDER 0', 'YOUNGER 0', 'YOUNGER 4294967296', 'YOUNGER 12x']) {
      await c.bad(`SEARCH ${args}`);
      await c.bad(`SORT (ARRIVAL) UTF-8 ${args}`);
    }
    assert.equal(await search('SEARCH YOUNGER 1800'), '* SEARCH 3');
  });

  it('python3 imaplib: search() with OLDER and YOUNGER, and a bad interval', async () => {
    const script = `
import imaplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
print('within', 'WITHIN' in m.capabilities)
m.select('Within', readonly=True)
print('older', *m.search(None, 'OLDER', '86400'))
print('younger', *m.search(None, 'YOUNGER', '86400'))
print('uid', *m.uid('SEARCH', 'YOUNGER', '1800'))
try:
    m.search(None, 'OLDER', '0')
except m.error as e:
    print('bad', e)
print('noop', m.noop()[0])
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /^within True$/m);
    assert.match(stdout, /^older OK \[b'1'\]$/m);
    assert.match(stdout, /^younger OK \[b'2 3'\]$/m);
    assert.match(stdout, /^uid OK \[b'4'\]$/m);
    assert.match(stdout, /^bad SEARCH command error: BAD /m);
    assert.match(stdout, /^noop OK$/m);
  });
});
