import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { scramKeysFromSaltedPassword, scramSaltedPassword, type ScramHash } from '../auth/password-scram.js';
import type { StoredCredentials } from '../auth/password.js';
import { createScramClient } from './scram-client.js';
import { createScramServer, type ScramMechanism } from './scram-server.js';
import { createSaslClient } from './client.js';
import { createSaslServer } from './server.js';
import { credentialsFor, runExchange, testContext } from './test-support.js';
import { SaslClientError, type ChannelBinding, type SaslStep } from './types.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const s = (x: Buffer) => x.toString('utf8');

/** Stored credentials whose SCRAM part uses a fixed salt and iteration count (test vectors). */
async function withScram(hash: ScramHash, password: string, saltB64: string, iterations: number): Promise<StoredCredentials> {
  const base = await credentialsFor(password);
  const keys = scramKeysFromSaltedPassword(hash, await scramSaltedPassword(hash, password, Buffer.from(saltB64, 'base64'), iterations));
  const stored = { salt: saltB64, iterations, storedKey: keys.storedKey.toString('base64'), serverKey: keys.serverKey.toString('base64') };
  return hash === 'sha1' ? { ...base, scramSha1: stored } : { ...base, scramSha256: stored };
}

const vectors = [
  {
    rfc: 'RFC 5802 5',
    mech: 'SCRAM-SHA-1' as const,
    hash: 'sha1' as const,
    clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
    serverNonce: '3rfcNHYJY1ZVvWVs7j',
    salt: 'QSXCR+Q6sek8bf92',
    clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    rfc: 'RFC 7677 3',
    mech: 'SCRAM-SHA-256' as const,
    hash: 'sha256' as const,
    clientNonce: 'rOprNGfwEbeRWgbNEkqO',
    serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
    clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
];

for (const v of vectors) {
  test(`${v.rfc} test vector: client half`, () => {
    const client = createScramClient(v.mech, { username: 'user', password: 'pencil' }, { clientNonce: v.clientNonce });
    assert.equal(s(client.step(null)), v.clientFirst);
    assert.equal(s(client.step(b(v.serverFirst))), v.clientFinal);
    assert.equal(client.done, false);
    assert.equal(client.step(b(v.serverFinal)).length, 0);
    assert.equal(client.done, true);
  });

  test(`${v.rfc} test vector: server half`, async () => {
    const ctx = testContext({ user: await withScram(v.hash, 'pencil', v.salt, 4096) }, { tls: false });
    const server = createScramServer(v.mech, ctx, { serverNonce: v.serverNonce });
    assert.deepEqual(await server.step(b(v.clientFirst)), { kind: 'challenge', data: b(v.serverFirst) });
    assert.deepEqual(await server.step(b(v.clientFinal)), { kind: 'success', authcid: 'user', authzid: '', data: b(v.serverFinal) });
  });

  test(`${v.rfc}: client refuses a tampered server signature`, () => {
    const client = createScramClient(v.mech, { username: 'user', password: 'pencil' }, { clientNonce: v.clientNonce });
    client.step(null);
    client.step(b(v.serverFirst));
    const bad = v.serverFinal.slice(0, 3) + (v.serverFinal[3] === 'A' ? 'B' : 'A') + v.serverFinal.slice(4);
    assert.throws(() => client.step(b(bad)), (e) => e instanceof SaslClientError && /server signature/.test(e.message));
    assert.equal(client.done, false);
  });
}

const cb = (data: string, type: ChannelBinding['type'] = 'tls-exporter'): ChannelBinding => ({ type, data: b(data) });

for (const mech of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS'] as const) {
  test(`${mech} round trip, with and without SASL initial response, with authzid`, async () => {
    const creds = await credentialsFor('sekrit pass');
    const plus = mech.endsWith('-PLUS');
    const binding = cb('exporter-bytes-0123456789abcdef');
    for (const authzid of ['', 'other,user=x@example.org']) {
      const ctx = testContext({ 'alice@example.org': creds }, { tls: true, channelBinding: binding });
      const client = createSaslClient(mech, {
        username: 'alice@example.org',
        password: 'sekrit pass',
        authzid,
        channelBinding: plus ? binding : undefined,
      });
      const step = await runExchange(client, createSaslServer(mech, ctx));
      assert.equal(step.kind, 'success', JSON.stringify(step));
      assert.equal(step.kind === 'success' && step.authzid, authzid);
      assert.equal(step.kind === 'success' && step.authcid, 'alice@example.org');
      assert.equal(client.done, true);
    }
    // Without SASL-IR: the server starts with an empty challenge.
    const ctx = testContext({ bob: creds }, { tls: true, channelBinding: binding });
    const server = createSaslServer(mech, ctx);
    const client = createSaslClient(mech, { username: 'bob', password: 'sekrit pass', channelBinding: plus ? binding : undefined });
    const first = await server.step(null);
    assert.deepEqual(first, { kind: 'challenge', data: Buffer.alloc(0) });
    let step = await server.step(client.step(first.kind === 'challenge' ? first.data : null));
    step = await server.step(client.step(step.kind === 'challenge' ? step.data : Buffer.alloc(0)));
    assert.equal(step.kind, 'success');
  });
}

test('user names with "," and "=" are escaped and unescaped (RFC 5802 5.1)', async () => {
  const creds = await credentialsFor('pw12345678');
  const ctx = testContext({ 'a,b=c': creds });
  const client = createSaslClient('SCRAM-SHA-256', { username: 'a,b=c', password: 'pw12345678' });
  const first = s(client.step(null));
  assert.match(first, /^n,,n=a=2Cb=3Dc,r=/);
  const server = createSaslServer('SCRAM-SHA-256', ctx);
  let step = await server.step(b(first));
  step = await server.step(client.step(step.kind === 'challenge' ? step.data : null));
  assert.equal(step.kind === 'success' && step.authcid, 'a,b=c');
});

test('user name is NFC-normalised before lookup', async () => {
  const creds = await credentialsFor('pw12345678');
  const ctx = testContext({ 'j\u00F6rg': creds });
  const step = await runExchange(
    createSaslClient('SCRAM-SHA-256', { username: 'jo\u0308rg', password: 'pw12345678' }),
    createSaslServer('SCRAM-SHA-256', ctx),
  );
  assert.equal(step.kind, 'success');
});

function failureOf(step: SaslStep) {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  return step.kind === 'failure' ? step : assert.fail();
}

test('mismatching channel binding is detected and flagged', async () => {
  const creds = await credentialsFor('sekrit pass');
  const ctx = testContext({ alice: creds }, { channelBinding: cb('server-side-view') });
  const client = createSaslClient('SCRAM-SHA-256-PLUS', { username: 'alice', password: 'sekrit pass', channelBinding: cb('client-side-view') });
  const f = failureOf(await runExchange(client, createSaslServer('SCRAM-SHA-256-PLUS', ctx)));
  assert.equal(f.reason, 'channel-binding-mismatch');
  assert.equal(f.saslError, 'channel-bindings-dont-match');
  assert.equal(s(f.data!), 'e=channel-bindings-dont-match');
  assert.equal(f.authcid, 'alice');
});

test('channel-binding type the server cannot provide is refused', async () => {
  const ctx = testContext({}, { channelBinding: cb('x', 'tls-exporter') });
  const client = createSaslClient('SCRAM-SHA-256-PLUS', { username: 'alice', password: 'pw', channelBinding: cb('x', 'tls-unique') });
  const f = failureOf(await createSaslServer('SCRAM-SHA-256-PLUS', ctx).step(client.step(null)));
  assert.equal(f.saslError, 'unsupported-channel-binding-type');
  assert.equal(f.reason, 'channel-binding-unavailable');
});

test('gs2 flag "y" is refused: the client was told we do not do -PLUS', async () => {
  const ctx = testContext({}, { channelBinding: cb('x') });
  const client = createSaslClient('SCRAM-SHA-256', { username: 'alice', password: 'pw', channelBinding: cb('x'), serverOffersPlus: false });
  const first = client.step(null);
  assert.match(s(first), /^y,,/);
  const f = failureOf(await createSaslServer('SCRAM-SHA-256', ctx).step(first));
  assert.equal(f.reason, 'channel-binding-downgrade');
  assert.equal(f.saslError, 'server-does-support-channel-binding');
});

test('client sends "n" when the server offers -PLUS but it chose plain SCRAM, or has no TLS', () => {
  const withPlus = createSaslClient('SCRAM-SHA-1', { username: 'u', password: 'pw', channelBinding: cb('x'), serverOffersPlus: true });
  assert.match(s(withPlus.step(null)), /^n,,/);
  const noTls = createSaslClient('SCRAM-SHA-1', { username: 'u', password: 'pw' });
  assert.match(s(noTls.step(null)), /^n,,/);
  const plus = createSaslClient('SCRAM-SHA-1-PLUS', { username: 'u', password: 'pw', channelBinding: cb('x', 'tls-unique') });
  assert.match(s(plus.step(null)), /^p=tls-unique,,/);
  assert.throws(() => createSaslClient('SCRAM-SHA-1-PLUS', { username: 'u', password: 'pw' }), /channel-binding/);
});

test('-PLUS without TLS, and "p" with a non-PLUS mechanism, are refused', async () => {
  const client = createSaslClient('SCRAM-SHA-256-PLUS', { username: 'u', password: 'pw', channelBinding: cb('x') });
  const first = client.step(null);
  const noTls = failureOf(await createSaslServer('SCRAM-SHA-256-PLUS', testContext({}, { tls: false })).step(first));
  assert.equal(noTls.reason, 'channel-binding-unavailable');
  const noCb = failureOf(await createSaslServer('SCRAM-SHA-256-PLUS', testContext({}, { tls: true })).step(first));
  assert.equal(noCb.saslError, 'channel-binding-not-supported');
  const pOnPlain = failureOf(await createSaslServer('SCRAM-SHA-256', testContext({}, { channelBinding: cb('x') })).step(first));
  assert.equal(pOnPlain.reason, 'malformed');
  const nOnPlus = failureOf(await createSaslServer('SCRAM-SHA-256-PLUS', testContext({}, { channelBinding: cb('x') })).step(b('n,,n=u,r=abcdefghij')));
  assert.equal(nOnPlus.reason, 'malformed');
});

test('short client nonce and "m=" extension are refused', async () => {
  const ctx = testContext({});
  assert.equal(failureOf(await createSaslServer('SCRAM-SHA-1', ctx).step(b('n,,n=u,r=1234567'))).reason, 'malformed');
  const m = failureOf(await createSaslServer('SCRAM-SHA-1', ctx).step(b('n,,m=x,n=u,r=12345678')));
  assert.equal(m.saslError, 'extensions-not-supported');
});

test('unknown user and wrong password fail identically, and the fake salt is stable', async () => {
  const creds = await credentialsFor('right password');
  const ctx = testContext({ alice: creds });
  const attempt = async (username: string, password: string) => {
    const client = createSaslClient('SCRAM-SHA-256', { username, password });
    const server = createSaslServer('SCRAM-SHA-256', ctx);
    const c1 = await server.step(client.step(null));
    assert.equal(c1.kind, 'challenge');
    const serverFirst = s(c1.kind === 'challenge' ? c1.data : Buffer.alloc(0));
    const final = await server.step(client.step(b(serverFirst)));
    return { serverFirst, final: failureOf(final) };
  };
  const wrong = await attempt('alice', 'wrong password');
  const unknown = await attempt('mallory', 'wrong password');
  const unknownAgain = await attempt('mallory', 'other');
  const shape = (sf: string) => sf.replace(/=[^,]*/g, (v) => `=<${Buffer.from(v.slice(1), 'base64').length}:${v.length}>`).replace(/i=<[^>]*>/, '');
  assert.equal(shape(unknown.serverFirst), shape(wrong.serverFirst));
  assert.equal(/i=(\d+)/.exec(unknown.serverFirst)![1], /i=(\d+)/.exec(wrong.serverFirst)![1]);
  const salt = (sf: string) => /s=([^,]*)/.exec(sf)![1];
  assert.equal(salt(unknown.serverFirst), salt(unknownAgain.serverFirst), 'fake salt is deterministic');
  assert.notEqual(salt(unknown.serverFirst), salt(wrong.serverFirst));
  const strip = (f: ReturnType<typeof failureOf>) => ({ ...f, authcid: undefined });
  assert.deepEqual(strip(unknown.final), strip(wrong.final));
  assert.equal(wrong.final.saslError, 'invalid-proof');
  assert.equal(wrong.final.reason, 'bad-credentials');
  // The fake salt depends on the server secret.
  const other = { ...ctx, scramFakeSecret: randomBytes(32) };
  const client = createSaslClient('SCRAM-SHA-256', { username: 'mallory', password: 'x' });
  const c1 = await createSaslServer('SCRAM-SHA-256', other).step(client.step(null));
  assert.notEqual(salt(s(c1.kind === 'challenge' ? c1.data : Buffer.alloc(0))), salt(unknown.serverFirst));
});

test('client refuses too few iterations, a foreign nonce and server errors', () => {
  const mk = () => {
    const c = createScramClient('SCRAM-SHA-256', { username: 'u', password: 'pw' }, { clientNonce: 'clientnonce1' });
    c.step(null);
    return c;
  };
  assert.throws(() => mk().step(b('r=clientnonce1xyz,s=QSXCR+Q6sek8bf92,i=4095')), /iterations/);
  assert.throws(() => mk().step(b('r=othernonce1xyz,s=QSXCR+Q6sek8bf92,i=4096')), /nonce/);
  assert.throws(() => mk().step(b('r=clientnonce1,s=QSXCR+Q6sek8bf92,i=4096')), /nonce/, 'no server part');
  assert.throws(() => mk().step(b('r=clientnonce1xyz,s=!!!,i=4096')), SaslClientError);
  assert.throws(() => mk().step(b('m=ext,r=clientnonce1xyz,s=QSXCR+Q6sek8bf92,i=4096')), SaslClientError);
  const c = mk();
  c.step(b('r=clientnonce1xyz,s=QSXCR+Q6sek8bf92,i=4096'));
  assert.throws(() => c.step(b('e=invalid-proof')), (e) => e instanceof SaslClientError && e.serverError === 'invalid-proof');
});

test('steps after the end are failures, not exceptions', async () => {
  const server = createScramServer('SCRAM-SHA-1' as ScramMechanism, testContext({}));
  failureOf(await server.step(b('garbage')));
  assert.equal(failureOf(await server.step(b('n,,n=u,r=12345678'))).detail, 'exchange already finished');
});
