import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dkimSign, dkimVerify } from 'mailauth';
import type { DkimKeyConfig } from '../../config/types.js';
import { MessageSource } from '../../delivery/message-source.js';
import { generateDkimKeys, type DkimKey } from './dkim-keys.js';
import { dkimSignatures } from './dkim-sign.js';

const dir = mkdtempSync(join(tmpdir(), 'postern-dkim-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const DOMAIN = 'example.org';
const gen = generateDkimKeys(DOMAIN, new Date(Date.UTC(2026, 0, 1)));
const [ED, RSA] = gen as [DkimKey, DkimKey];
/** A second pair under other selectors, for the several-keys case. */
const gen2 = generateDkimKeys(DOMAIN, new Date(Date.UTC(2027, 0, 1)));

const published = new Map<string, string>();
for (const k of [...gen, ...gen2]) published.set(k.dnsName, k.dnsRecord);

const resolver = async (name: string, rrtype: string) => {
  const rec = rrtype === 'TXT' ? published.get(name.toLowerCase().replace(/\.$/, '')) : undefined;
  if (rec === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return [[rec]];
};

function keyFile(k: DkimKey, name = k.selector): DkimKeyConfig {
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, k.privateKeyPem, { mode: 0o600 });
  return { selector: k.selector, keyFile: file };
}
const edCfg = keyFile(ED);
const rsaCfg = keyFile(RSA);

async function verify(signatures: string, message: Buffer | string) {
  const res = await dkimVerify(Buffer.concat([Buffer.from(signatures, 'latin1'), Buffer.from(message as string, 'latin1')]), { resolver: resolver as never });
  return res.results.map((r) => ({ s: r.selector, a: (r as { algo?: string }).algo, result: r.status.result, comment: r.status.comment }));
}

function unfold(field: string): string {
  return field.replace(/\r\n(?=[ \t])/g, '');
}

/** The h= list, without the folding whitespace. */
function hTag(field: string): string {
  return /[;\s]h=([^;]*);/.exec(field)![1]!.replace(/\s+/g, '');
}

function fieldsOf(sigs: string): string[] {
  return sigs.split(/\r\n(?![ \t])/).filter(Boolean);
}

const HEAD =
  'From: Alice <alice@example.org>\r\n' +
  'To: bob@example.net,\r\n\tcarol@example.net\r\n' +
  'Subject:   Hello   there \t \r\n' +
  'Date: Mon, 1 Jan 2026 00:00:00 +0000\r\n' +
  'Message-ID: <m1@example.org>\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  'X-Unsigned: whatever\r\n';

function body4k(): string {
  const lines: string[] = [];
  for (let i = 0; lines.join('\r\n').length < 4096; i++) lines.push(`Line ${i}:  some\ttext with  spaces   and trailing ${i % 3 ? ' ' : ''}`);
  return lines.join('\r\n') + '\r\n';
}

/** The message as a MessageSource with the head in a buffer and the body in a file range. */
function source(head: string, body: string): MessageSource {
  const file = join(dir, `msg-${Math.random().toString(36).slice(2)}.eml`);
  const pad = 'PADDING';
  writeFileSync(file, Buffer.from(pad + '\r\n' + body + pad, 'latin1'));
  return new MessageSource([Buffer.from(head, 'latin1'), { path: file, start: pad.length, end: pad.length + 2 + body.length }]);
}

test('rsa and ed25519: both verify with mailauth, in key order, well folded', async () => {
  const body = body4k();
  const msg = source(HEAD, body);
  const raw = (await msg.toBuffer()).toString('latin1');
  assert.equal(raw, HEAD + '\r\n' + body);
  const before = Math.floor(Date.now() / 1000);
  const sigs = await dkimSignatures([edCfg, rsaCfg], DOMAIN, msg);
  const after = Math.floor(Date.now() / 1000);

  assert.ok(sigs.endsWith('\r\n'));
  assert.doesNotMatch(sigs.replace(/\r\n/g, ''), /[\r\n]/, 'only CRLF line ends');
  const fields = fieldsOf(sigs);
  assert.equal(fields.length, 2);
  for (const line of sigs.split('\r\n').slice(0, -1)) assert.ok(line.length <= 78, `line too long: ${line}`);
  for (const [i, f] of fields.entries()) {
    assert.match(f, /^DKIM-Signature: /);
    const u = unfold(f);
    assert.match(u, new RegExp(`a=${i === 0 ? 'ed25519' : 'rsa'}-sha256;`));
    assert.match(u, /; c=relaxed\/relaxed;/);
    assert.match(u, /; d=example\.org;/);
    assert.match(u, new RegExp(`; s=${i === 0 ? ED.selector : RSA.selector};`));
    const t = Number(/; t=(\d+);/.exec(u)![1]);
    assert.ok(t >= before && t <= after);
    assert.equal(hTag(f), 'Content-Type:MIME-Version:Message-ID:Date:Subject:To:From');
    assert.doesNotMatch(u, /X-Unsigned/i);
  }

  assert.deepEqual(await verify(sigs, raw), [
    { s: ED.selector, a: 'ed25519-sha256', result: 'pass', comment: undefined },
    { s: RSA.selector, a: 'rsa-sha256', result: 'pass', comment: undefined },
  ]);
  // Same order the other way round.
  const rev = await dkimSignatures([rsaCfg, edCfg], DOMAIN, msg);
  assert.deepEqual((await verify(rev, raw)).map((r) => r.a), ['rsa-sha256', 'ed25519-sha256']);
});

test('the body hash and signed fields match what mailauth signs', async () => {
  const body = body4k() + '\r\n\r\n';
  const raw = HEAD + 'Subject: second\r\n' + '\r\n' + body;
  const ours = unfold(await dkimSignatures([rsaCfg], DOMAIN, new MessageSource([Buffer.from(raw, 'latin1')])));
  const opts = { signingDomain: DOMAIN, selector: RSA.selector, privateKey: RSA.privateKeyPem, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' };
  const theirs = unfold((await dkimSign(raw, { ...opts, signatureData: [opts] })).signatures.replace(/\r?\n/g, '\r\n'));
  const tag = (s: string, k: string) => new RegExp(`[;:]\\s*${k}=([^;]*)`).exec(s)![1]!.replace(/\s+/g, '');
  assert.equal(tag(ours, 'bh'), tag(theirs, 'bh'));
  assert.equal(tag(ours, 'h').toLowerCase(), tag(theirs, 'h').toLowerCase());
});

test('single keys and several keys of each type', async () => {
  const raw = HEAD + '\r\nshort body\r\n';
  const msg = () => new MessageSource([Buffer.from(raw, 'latin1')]);
  assert.deepEqual((await verify(await dkimSignatures([edCfg], DOMAIN, msg()), raw)).map((r) => [r.a, r.result]), [['ed25519-sha256', 'pass']]);
  assert.deepEqual((await verify(await dkimSignatures([rsaCfg], DOMAIN, msg()), raw)).map((r) => [r.a, r.result]), [['rsa-sha256', 'pass']]);
  const cfgs = [edCfg, rsaCfg, keyFile(gen2[0]!), keyFile(gen2[1]!)];
  const sigs = await dkimSignatures(cfgs, DOMAIN, msg());
  assert.equal(fieldsOf(sigs).length, 4);
  assert.deepEqual(
    (await verify(sigs, raw)).map((r) => [r.s, r.result]),
    cfgs.map((c) => [c.selector, 'pass']),
  );
});

test('awkward messages verify: duplicates, folding, WSP, empty and unterminated bodies', async () => {
  const heads = [
    HEAD,
    // Duplicates of a signed field: both signed, bottom-up.
    HEAD + 'Subject: second subject\r\nCc: x@example.net\r\ncc: y@example.net\r\n',
    // Folded and WSP-heavy fields, odd name case, WSP before the colon.
    'FROM:alice@example.org\r\nsubject \t:\r\n  folded\r\n\t\tsubject   \r\nTO: \t b@example.net \r\nReferences: <a@x>\r\n <b@x>\r\n\t<c@x>\r\n',
    // 8-bit (SMTPUTF8) header text.
    'From: =?utf-8?q?x?= <alice@example.org>\r\nSubject: Gr\u00c3\u00bc\u00c3\u009fe\r\n',
  ];
  const bodies = ['', '\r\n', '\r\n\r\n\r\n', 'no final crlf', 'trailing wsp  \t', 'x\r\n\r\n \t \r\n\r\n', '  lead\r\n\tand\t\ttabs\t\r\n', '.\r\n..\r\n'];
  for (const head of heads) {
    for (const body of bodies) {
      const raw = head + '\r\n' + body;
      const sigs = await dkimSignatures([edCfg, rsaCfg], DOMAIN, new MessageSource([Buffer.from(raw, 'latin1')]));
      assert.deepEqual((await verify(sigs, raw)).map((r) => r.result), ['pass', 'pass'], JSON.stringify(raw));
    }
  }
  // Two Subject fields: h= names both, the lower one first.
  const dup = await dkimSignatures([edCfg], DOMAIN, new MessageSource([Buffer.from(heads[1]! + '\r\nb\r\n', 'latin1')]));
  assert.equal(hTag(dup), 'cc:Cc:Subject:Content-Type:MIME-Version:Message-ID:Date:Subject:To:From');
  // A message without a body separator at all: the whole thing is header.
  const noBody = 'From: alice@example.org\r\nSubject: only a header\r\n';
  const sigs = await dkimSignatures([edCfg], DOMAIN, new MessageSource([Buffer.from(noBody, 'latin1')]));
  // mailauth wants the empty line; header plus empty line plus empty body canonicalizes the same.
  assert.deepEqual((await verify(sigs, noBody + '\r\n')).map((r) => r.result), ['pass']);
  assert.match(unfold(sigs), /bh=47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU=;/, 'empty body hash');
});

test('chunk boundaries anywhere give the same signature input', async () => {
  const raw = HEAD + '\r\n' + 'a  \t b\r\n\r\n  c \r\n\r\n\r\n';
  const whole = await dkimSignatures([edCfg, rsaCfg], DOMAIN, new MessageSource([Buffer.from(raw, 'latin1')]));
  const bh = (s: string) => /bh=([^;]+);/.exec(unfold(s))![1];
  // One byte per chunk: every CR/LF pair and WSP run is split.
  const bytes = new MessageSource([...Buffer.from(raw, 'latin1')].map((b) => Buffer.from([b])));
  const sigs = await dkimSignatures([edCfg, rsaCfg], DOMAIN, bytes);
  assert.equal(bh(sigs), bh(whole));
  assert.deepEqual((await verify(sigs, raw)).map((r) => r.result), ['pass', 'pass']);
  for (let i = 0; i < raw.length; i += 7) {
    const two = new MessageSource([Buffer.from(raw.slice(0, i), 'latin1'), Buffer.from(raw.slice(i), 'latin1')]);
    const s = await dkimSignatures([edCfg], DOMAIN, two);
    assert.equal(bh(s), bh(whole), `split at ${i}`);
    assert.deepEqual((await verify(s, raw)).map((r) => r.result), ['pass'], `split at ${i}`);
  }
});

test('tampering is caught by the verifier', async () => {
  const raw = HEAD + '\r\nthe body\r\n';
  const sigs = await dkimSignatures([edCfg, rsaCfg], DOMAIN, new MessageSource([Buffer.from(raw, 'latin1')]));
  // mailauth reports a body hash mismatch as neutral (RFC 6376 6.3 leaves it to the verifier).
  assert.deepEqual(
    (await verify(sigs, raw.replace('the body', 'the b0dy'))).map((r) => [r.result, r.comment]),
    [['neutral', 'body hash did not verify'], ['neutral', 'body hash did not verify']],
  );
  assert.deepEqual((await verify(sigs, raw.replace('Hello', 'Hullo'))).map((r) => r.result), ['fail', 'fail']);
  // Relaxed canonicalization tolerates whitespace changes.
  assert.deepEqual((await verify(sigs, raw.replace('the body', 'the   body  '))).map((r) => r.result), ['pass', 'pass']);
  // A changed From fails.
  assert.deepEqual((await verify(sigs, raw.replace('alice@', 'mallory@'))).map((r) => r.result), ['fail', 'fail']);
});

test('no keys: no signatures; a bad key file or a message without From: an error', async () => {
  const raw = Buffer.from(HEAD + '\r\nx\r\n', 'latin1');
  assert.equal(await dkimSignatures(undefined, DOMAIN, new MessageSource([raw])), '');
  assert.equal(await dkimSignatures([], DOMAIN, new MessageSource([raw])), '');
  await assert.rejects(dkimSignatures([{ selector: 'x', keyFile: join(dir, 'missing.pem') }], DOMAIN, new MessageSource([raw])), /ENOENT/);
  const bad = join(dir, 'bad.pem');
  writeFileSync(bad, 'not a key');
  await assert.rejects(dkimSignatures([{ selector: 'x', keyFile: bad }], DOMAIN, new MessageSource([raw])));
  await assert.rejects(dkimSignatures([edCfg], DOMAIN, new MessageSource([Buffer.from('Subject: x\r\n\r\nb\r\n')])), /no From/);
});

test('a rotated key file is picked up without a restart', async () => {
  const raw = HEAD + '\r\nrotation\r\n';
  const file = join(dir, 'rotating.pem');
  const cfg = { selector: 'rot', keyFile: file };
  const [k1] = generateDkimKeys(DOMAIN);
  const [k2] = generateDkimKeys(DOMAIN);
  writeFileSync(file, k1!.privateKeyPem);
  const sign = () => dkimSignatures([cfg], DOMAIN, new MessageSource([Buffer.from(raw, 'latin1')]));
  const check = async (sigs: string, record: string) => {
    published.set(`rot._domainkey.${DOMAIN}`, record);
    return (await verify(sigs, raw)).map((r) => r.result);
  };
  const s1 = await sign();
  assert.deepEqual(await check(s1, k1!.dnsRecord), ['pass']);
  // Past the recheck interval, a rewrite of the file (same size, same inode) is noticed.
  await sleep(1100);
  writeFileSync(file, k2!.privateKeyPem);
  const s2 = await sign();
  assert.deepEqual(await check(s2, k2!.dnsRecord), ['pass']);
  assert.deepEqual(await check(s2, k1!.dnsRecord), ['fail']);
  published.delete(`rot._domainkey.${DOMAIN}`);
});

test('signing runs in a worker: big streamed messages and many at once, interleaved', async () => {
  // 3 MiB from a file: sent in chunks, with the sender waiting for the worker past 1 MiB.
  let big = '';
  while (big.length < 3 * 1024 * 1024) big += body4k();
  const bigMsg = source(HEAD, big);
  const bigRaw = (await bigMsg.toBuffer()).toString('latin1');
  const small = Array.from({ length: 24 }, (_, i) => HEAD.replace('Hello', `Hello ${i}`) + `\r\nbody ${i}\r\n`);
  const [bigSigs, ...smallSigs] = await Promise.all([
    dkimSignatures([edCfg, rsaCfg], DOMAIN, bigMsg),
    ...small.map((raw, i) =>
      dkimSignatures([rsaCfg, edCfg], DOMAIN, i % 2 ? new MessageSource([Buffer.from(raw, 'latin1')]) : source(raw.slice(0, raw.indexOf('\r\n\r\n') + 2), raw.slice(raw.indexOf('\r\n\r\n') + 4))),
    ),
  ]);
  assert.deepEqual((await verify(bigSigs!, bigRaw)).map((r) => r.result), ['pass', 'pass']);
  for (const [i, sigs] of smallSigs.entries()) assert.deepEqual((await verify(sigs, small[i]!)).map((r) => r.result), ['pass', 'pass'], `message ${i}`);
  // In memory, 200 KiB: sent to the worker in one piece.
  const mid = HEAD + '\r\n' + big.slice(0, 200 * 1024);
  const midSigs = await dkimSignatures([edCfg, rsaCfg], DOMAIN, new MessageSource([Buffer.from(mid, 'latin1')]));
  assert.deepEqual((await verify(midSigs, mid)).map((r) => r.result), ['pass', 'pass']);
  // An error found before the stream ends (a missing key) is still reported, at its end.
  await assert.rejects(dkimSignatures([{ selector: 'x', keyFile: join(dir, 'missing.pem') }], DOMAIN, source(HEAD, big)), /ENOENT/);
});
