// COMPRESS=DEFLATE against Dovecot 2.3 (imap_zlib) as the reference: the same transcript, with the
// same node:zlib client, goes to both servers and each step must get the same status (and response
// code): before login, an unknown algorithm, COMPRESS, commands and an APPEND with a synchronizing
// literal compressed, a second COMPRESS, FETCH of the appended message, LOGOUT.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOVECOT_BIN, DOVECOT_PASSWORD, DOVECOT_USER, dovecotAvailable, startDovecot, type Dovecot } from '../imap-client/dovecot.js';
import { deflateClientAt } from './compress-client.js';
import { message, PASSWORD, startHarness, USER, type Harness } from './harness.js';

/** The transcript; returns one line per step: the status, the response code, and facts checked. */
async function transcript(port: number, user: string, password: string): Promise<string[]> {
  const { c, z } = await deflateClientAt(port);
  const out: string[] = [];
  const step = async (name: string, command: string): Promise<string[]> => {
    const r = await c.cmd(command);
    out.push(`${name}: ${r.status}${/^\[[A-Z]+/.exec(r.text)?.[0] ?? ''}`);
    return r.untagged;
  };
  await step('compress before login', 'COMPRESS DEFLATE');
  await step('login', `LOGIN "${user}" "${password}"`);
  const caps = (await step('capability', 'CAPABILITY')).join(' ');
  out.push(`advertised: ${/ COMPRESS=DEFLATE\b/.test(caps)}`);
  await step('unknown algorithm', 'COMPRESS GZIP');
  await step('compress', 'COMPRESS DEFLATE');
  z.enable();
  await step('noop', 'NOOP');
  await step('second compress', 'COMPRESS DEFLATE');
  await step('create', 'CREATE Zed');
  const body = 'the same words again and again\r\n'.repeat(300);
  const a = await c.append('Zed', message('deflated', body));
  out.push(`append: ${a.status}`);
  await step('select', 'SELECT Zed');
  const f = await step('fetch', 'FETCH 1 (BODY.PEEK[TEXT])');
  out.push(`body intact: ${f.length === 1 && f[0]!.includes(body)}`);
  out.push(`compressed: ${z.wireIn < z.plainIn / 4}`);
  await step('logout', 'LOGOUT');
  out.push(`inflate error: ${z.inflateError?.message ?? 'none'}`);
  c.destroy();
  return out;
}

describe('COMPRESS=DEFLATE, the same on Dovecot and Postern', () => {
  let h: Harness;
  let d: Dovecot;
  before(async () => {
    // A missing Dovecot fails the test (never a silent skip).
    assert.ok(dovecotAvailable(), `${DOVECOT_BIN} not found: install the Debian package dovecot-imapd`);
    h = await startHarness();
    d = await startDovecot({ compress: true });
  });
  after(async () => {
    await h?.close();
    await d?.stop();
  });

  it('one transcript, the same answers', async () => {
    const dovecot = await transcript(d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    const postern = await transcript(h.tlsPort, USER, PASSWORD);
    // One known difference: RFC 4978 3 answers an unknown algorithm ("invalid or unknown argument")
    // with BAD, as Postern does; Dovecot 2.3 says NO.
    assert.equal(dovecot[4], 'unknown algorithm: NO');
    assert.deepEqual(postern, dovecot.map((l, i) => (i === 4 ? 'unknown algorithm: BAD' : l)));
    // And what both answered is what RFC 4978 asks for.
    assert.deepEqual(postern, [
      'compress before login: BAD',
      'login: OK[CAPABILITY',
      'capability: OK',
      'advertised: true',
      'unknown algorithm: BAD',
      'compress: OK',
      'noop: OK',
      'second compress: NO[COMPRESSIONACTIVE',
      'create: OK',
      'append: OK',
      'select: OK[READ',
      'fetch: OK',
      'body intact: true',
      'compressed: true',
      'logout: OK',
      'inflate error: none',
    ]);
  });
});
