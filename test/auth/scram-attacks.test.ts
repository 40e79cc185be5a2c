// Attacks on SCRAM and password logins, over IMAPS (993) and submissions (465), spec 3.2:
// - channel-binding data taken from another TLS connection (a relaying MITM) is detected
//   (e=channel-bindings-dont-match, then NO [AUTHENTICATIONFAILED] / 535 5.7.8), on TLS 1.3
//   (tls-exporter) and TLS 1.2 (tls-unique);
// - gs2 flag `y` over TLS (someone stripped -PLUS) is refused with e=server-does-support-channel-binding;
// - an unknown user cannot be told from a wrong password: same server-first shape (salt length,
//   iteration count, nonce length), a salt that stays the same, and the same failure reply.
// Each test connects from its own loopback address so the failed-auth limiter (10 per minute per
// IP, spec 3.4) does not refuse the later tests.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { createSaslClient, type ChannelBinding, type SaslClient } from '../../src/sasl/index.js';
import { channelBindingOf } from '../../src/tls/channel-binding.js';
import type { Client } from '../imap/harness.js';
import { b64, imaps, Smtp, type TlsVersion } from './support.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer({ services: ['imaps', 'submissions'] });
});

after(async () => {
  await srv.stop();
});

const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

function cbOf(sock: TLSSocket): ChannelBinding {
  const cb = channelBindingOf(sock, false);
  assert.ok(cb, 'channel binding available');
  return cb;
}

/** IMAP: AUTHENTICATE with the client's initial response; returns the challenges (decoded) and the tagged reply. */
async function imapExchange(c: Client, mech: string, sasl: SaslClient, answerAfterError = '*'): Promise<{ challenges: string[]; tagged: string }> {
  const tag = c.nextTag();
  c.write(`${tag} AUTHENTICATE ${mech} ${b64(sasl.step(null))}\r\n`);
  const challenges: string[] = [];
  for (;;) {
    const line = await c.readLine();
    if (line.startsWith(`${tag} `)) return { challenges, tagged: line.slice(tag.length + 1) };
    assert.match(line, /^\+ /, line);
    const ch = decode(line.slice(2));
    challenges.push(ch);
    if (ch.startsWith('e=')) c.write(`${answerAfterError}\r\n`);
    else c.write(`${b64(sasl.step(Buffer.from(ch)))}\r\n`);
  }
}

/** SMTP: AUTH with the initial response; returns the 334 challenges (decoded) and the final reply. */
async function smtpExchange(s: Smtp, mech: string, sasl: SaslClient): Promise<{ challenges: string[]; code: number; enhanced?: string; text: string }> {
  s.sock.write(`AUTH ${mech} ${b64(sasl.step(null))}\r\n`);
  const challenges: string[] = [];
  for (;;) {
    const r = await s.reply();
    if (r.code !== 334) return { challenges, code: r.code, enhanced: r.enhanced, text: r.lines.join(' ') };
    const ch = decode(r.lines[0]!);
    challenges.push(ch);
    s.sock.write(ch.startsWith('e=') ? '\r\n' : `${b64(sasl.step(Buffer.from(ch)))}\r\n`);
  }
}

const VERSIONS: TlsVersion[] = ['TLSv1.3', 'TLSv1.2'];

test('IMAP: SCRAM-SHA-256-PLUS with channel-binding data of another connection is refused', async () => {
  const localAddress = '127.0.0.11';
  for (const maxVersion of VERSIONS) {
    const victim = await imaps(srv.ports.imaps!, { localAddress, maxVersion });
    const other = await imaps(srv.ports.imaps!, { localAddress, maxVersion });
    const otherCb = cbOf(other.c.sock as TLSSocket);
    assert.equal(otherCb.type, maxVersion === 'TLSv1.3' ? 'tls-exporter' : 'tls-unique');
    assert.notDeepEqual(otherCb.data, cbOf(victim.c.sock as TLSSocket).data);
    const relayed = createSaslClient('SCRAM-SHA-256-PLUS', { username: ADDRESS, password: PASSWORD, channelBinding: otherCb, serverOffersPlus: true });
    const r = await imapExchange(victim.c, 'SCRAM-SHA-256-PLUS', relayed);
    assert.equal(r.challenges.length, 2, r.challenges.join(' | '));
    assert.match(r.challenges[0]!, /^r=/);
    assert.equal(r.challenges[1], 'e=channel-bindings-dont-match');
    assert.match(r.tagged, /^NO \[AUTHENTICATIONFAILED\] /, `${maxVersion}: ${r.tagged}`);
    // The connection stays usable, and its own channel binding works (the password was right).
    const own = createSaslClient('SCRAM-SHA-256-PLUS', { username: ADDRESS, password: PASSWORD, channelBinding: cbOf(victim.c.sock as TLSSocket), serverOffersPlus: true });
    const ok = await imapExchange(victim.c, 'SCRAM-SHA-256-PLUS', own);
    assert.match(ok.tagged, /^OK /, ok.tagged);
    assert.ok(own.done, 'server signature verified');
    victim.c.destroy();
    other.c.destroy();
  }
});

test('SMTP: SCRAM-SHA-256-PLUS with channel-binding data of another connection gets 535 5.7.8', async () => {
  const localAddress = '127.0.0.12';
  for (const maxVersion of VERSIONS) {
    const victim = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress, maxVersion });
    const other = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress, maxVersion });
    await victim.expect(220);
    await victim.ehlo();
    const relayed = createSaslClient('SCRAM-SHA-256-PLUS', { username: ADDRESS, password: PASSWORD, channelBinding: cbOf(other.tlsSocket), serverOffersPlus: true });
    const r = await smtpExchange(victim, 'SCRAM-SHA-256-PLUS', relayed);
    assert.equal(r.challenges[1], 'e=channel-bindings-dont-match', r.challenges.join(' | '));
    assert.equal(r.code, 535, r.text);
    assert.equal(r.enhanced, '5.7.8');
    await victim.cmd(`MAIL FROM:<${ADDRESS}>`, 530, '5.7.0');
    const own = createSaslClient('SCRAM-SHA-256-PLUS', { username: ADDRESS, password: PASSWORD, channelBinding: cbOf(victim.tlsSocket), serverOffersPlus: true });
    const ok = await smtpExchange(victim, 'SCRAM-SHA-256-PLUS', own);
    assert.equal(ok.code, 235, ok.text);
    assert.ok(own.done);
    victim.close();
    other.close();
  }
});

test('gs2 flag y over TLS (stripped -PLUS) is refused with e=server-does-support-channel-binding', async () => {
  const localAddress = '127.0.0.13';
  for (const maxVersion of VERSIONS) {
    for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
      const { c } = await imaps(srv.ports.imaps!, { localAddress, maxVersion });
      // A client that could bind but saw no -PLUS offered sends "y" (RFC 5802 6).
      const stripped = createSaslClient(mech, { username: ADDRESS, password: PASSWORD, channelBinding: cbOf(c.sock as TLSSocket), serverOffersPlus: false });
      const r = await imapExchange(c, mech, stripped);
      assert.deepEqual(r.challenges, ['e=server-does-support-channel-binding']);
      assert.match(r.tagged, /^NO \[AUTHENTICATIONFAILED\] /, r.tagged);
      c.destroy();
    }
    const s = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress, maxVersion });
    await s.expect(220);
    await s.ehlo();
    const stripped = createSaslClient('SCRAM-SHA-256', { username: ADDRESS, password: PASSWORD, channelBinding: cbOf(s.tlsSocket), serverOffersPlus: false });
    const r = await smtpExchange(s, 'SCRAM-SHA-256', stripped);
    assert.deepEqual(r.challenges, ['e=server-does-support-channel-binding']);
    assert.equal(r.code, 535, r.text);
    assert.equal(r.enhanced, '5.7.8');
    s.close();
  }
});

interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

function parseServerFirst(s: string): ServerFirst {
  const m = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(s);
  assert.ok(m, `server-first-message ${s}`);
  return { nonce: m[1]!, salt: Buffer.from(m[2]!, 'base64'), iterations: Number(m[3]) };
}

test('SCRAM: an unknown user looks like a wrong password (server-first shape, stable salt, same failure)', async () => {
  // Six failures per mechanism: one address each.
  for (const [mech, localAddress] of [['SCRAM-SHA-256', '127.0.0.14'], ['SCRAM-SHA-1', '127.0.0.16']] as const) {
    const imapRuns: { first: ServerFirst; tagged: string }[] = [];
    const smtpRuns: { first: ServerFirst; reply: string }[] = [];
    for (const username of [ADDRESS, 'nobody@example.test', 'nobody@example.test']) {
      const { c } = await imaps(srv.ports.imaps!, { localAddress });
      const sasl = createSaslClient(mech, { username, password: 'not the password', serverOffersPlus: true });
      const r = await imapExchange(c, mech, sasl);
      // No e= for bad credentials: just the server-first-message and the NO.
      assert.equal(r.challenges.length, 1, r.challenges.join(' | '));
      imapRuns.push({ first: parseServerFirst(r.challenges[0]!), tagged: r.tagged });
      c.destroy();

      const s = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress });
      await s.expect(220);
      await s.ehlo();
      const sr = await smtpExchange(s, mech, createSaslClient(mech, { username, password: 'not the password', serverOffersPlus: true }));
      assert.equal(sr.challenges.length, 1);
      smtpRuns.push({ first: parseServerFirst(sr.challenges[0]!), reply: `${sr.code} ${sr.enhanced} ${sr.text}` });
      s.close();
    }
    for (const runs of [imapRuns.map((r) => ({ ...r, final: r.tagged })), smtpRuns.map((r) => ({ ...r, final: r.reply }))]) {
      const [known, unknown, again] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
      assert.equal(unknown.first.salt.length, known.first.salt.length, `${mech}: salt length`);
      assert.equal(unknown.first.iterations, known.first.iterations, `${mech}: iteration count`);
      assert.equal(unknown.first.nonce.length, known.first.nonce.length, `${mech}: nonce length`);
      // A random salt per attempt would give unknown users away: it is derived, so it repeats.
      assert.deepEqual(again.first.salt, unknown.first.salt, `${mech}: fake salt is deterministic`);
      assert.equal(unknown.final, known.final, `${mech}: same failure reply`);
    }
    assert.match(imapRuns[0]!.tagged, /^NO \[AUTHENTICATIONFAILED\] /);
    assert.match(smtpRuns[0]!.reply, /^535 5\.7\.8 /);
  }
});

test('PLAIN and LOGIN: an unknown user gets exactly the reply of a wrong password', async () => {
  const localAddress = '127.0.0.15';
  const imapReplies: string[] = [];
  const smtpReplies: string[] = [];
  for (const username of [ADDRESS, 'nobody@example.test']) {
    const { c } = await imaps(srv.ports.imaps!, { localAddress });
    imapReplies.push((await c.no(`AUTHENTICATE PLAIN ${b64(`\0${username}\0wrong password`)}`)).text);
    imapReplies.push((await c.no(`LOGIN ${username} "wrong password"`)).text);
    c.destroy();
    const s = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress });
    await s.expect(220);
    await s.ehlo();
    const r = await s.cmd(`AUTH PLAIN ${b64(`\0${username}\0wrong password`)}`);
    smtpReplies.push(`${r.code} ${r.enhanced} ${r.lines.join(' ')}`);
    s.close();
  }
  assert.equal(imapReplies[2], imapReplies[0], 'IMAP AUTHENTICATE PLAIN');
  assert.equal(imapReplies[3], imapReplies[1], 'IMAP LOGIN');
  assert.match(imapReplies[0]!, /^\[AUTHENTICATIONFAILED\] /);
  assert.equal(smtpReplies[1], smtpReplies[0], 'SMTP AUTH PLAIN');
  assert.match(smtpReplies[0]!, /^535 5\.7\.8 /);
});
