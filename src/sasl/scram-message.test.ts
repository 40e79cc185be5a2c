import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientFinal, parseClientFirst, parseServerFinal, parseServerFirst, ScramSyntaxError } from './scram-message.js';
import { escapeSaslname, unescapeSaslname } from './saslname.js';

test('parseClientFirst: gs2 header variants', () => {
  const m = parseClientFirst('p=tls-exporter,a=bob=2Cx,n=al=3Dice,r=abcdefgh,x=ext');
  assert.deepEqual(m.cbind, { flag: 'p', cbName: 'tls-exporter' });
  assert.equal(m.authzid, 'bob,x');
  assert.equal(m.username, 'al=ice');
  assert.equal(m.gs2Header, 'p=tls-exporter,a=bob=2Cx,');
  assert.equal(m.bare, 'n=al=3Dice,r=abcdefgh,x=ext');
  assert.deepEqual(parseClientFirst('y,,n=u,r=abcdefgh').cbind, { flag: 'y' });
});

test('parseClientFirst: malformed input throws ScramSyntaxError with an e= value', () => {
  const cases: [string, string][] = [
    ['', 'invalid-encoding'],
    ['n', 'invalid-encoding'],
    ['x,,n=u,r=abc', 'invalid-encoding'],
    ['p=,,n=u,r=abc', 'invalid-encoding'],
    ['p=a b,,n=u,r=abc', 'invalid-encoding'],
    ['n,b=x,n=u,r=abc', 'invalid-encoding'],
    ['n,,r=abc', 'invalid-encoding'],
    ['n,,n=u', 'invalid-encoding'],
    ['n,,n=,r=abc', 'invalid-username-encoding'],
    ['n,,n=a=2x,r=abc', 'invalid-username-encoding'],
    ['n,a=,n=u,r=abc', 'invalid-username-encoding'],
    ['n,,n=u,r=ab c\u0001', 'invalid-encoding'],
    ['n,,m=1,n=u,r=abc', 'extensions-not-supported'],
    ['n,,n=u,r=abc,bad', 'invalid-encoding'],
    ['n,,n=u,r=abc,', 'invalid-encoding'],
    ['n,,n=u\0,r=abc', 'invalid-encoding'],
  ];
  for (const [text, err] of cases) {
    assert.throws(() => parseClientFirst(text), (e) => e instanceof ScramSyntaxError && e.saslError === err, JSON.stringify(text));
  }
});

test('parseServerFirst / parseClientFinal / parseServerFinal', () => {
  assert.deepEqual(parseServerFirst('r=abc,s=QSXCR+Q6sek8bf92,i=4096,z=1'), { nonce: 'abc', salt: Buffer.from('QSXCR+Q6sek8bf92', 'base64'), iterations: 4096 });
  for (const bad of ['r=abc,s=QSXCR+Q6sek8bf92', 'r=abc,s=,i=1', 'r=abc,s=QSXC,i=0', 'r=abc,s=QSXC,i=-1', 'r=abc,s=QSXC,i=1e3', 'r=abc,s=QSX,i=1', 's=QSXC,r=abc,i=1', 'r=abc,s=QSXC,i=99999999999']) {
    assert.throws(() => parseServerFirst(bad), ScramSyntaxError, bad);
  }
  const f = parseClientFinal('c=biws,r=abc,x=1,p=dGVzdA==');
  assert.equal(f.withoutProof, 'c=biws,r=abc,x=1');
  assert.equal(f.channelBinding.toString(), 'n,,');
  assert.equal(f.proof.toString(), 'test');
  for (const bad of ['c=biws,r=abc', 'c=biws,p=dGVzdA==', 'c=b!ws,r=abc,p=dGVzdA==', 'c=biws,r=abc,p=', 'c=biws,r=abc,p=dGVzdA', 'r=abc,c=biws,p=dGVzdA==']) {
    assert.throws(() => parseClientFinal(bad), ScramSyntaxError, bad);
  }
  assert.deepEqual(parseServerFinal('e=invalid-proof'), { error: 'invalid-proof' });
  assert.deepEqual(parseServerFinal('v=dGVzdA=='), { verifier: Buffer.from('test') });
  for (const bad of ['', 'e=', 'v=', 'v=***', 'x=1', 'v=dGVzdA==,junk']) assert.throws(() => parseServerFinal(bad), ScramSyntaxError, bad);
});

test('saslname escaping round trips and rejects stray "="', () => {
  assert.equal(escapeSaslname('a,b=c'), 'a=2Cb=3Dc');
  assert.equal(unescapeSaslname('a=2Cb=3Dc'), 'a,b=c');
  assert.equal(unescapeSaslname('a=2c'), null);
  assert.equal(unescapeSaslname('a='), null);
  for (const v of ['', '=', '==2C', ',,', 'x=3D2C']) assert.equal(unescapeSaslname(escapeSaslname(v)), v);
});
