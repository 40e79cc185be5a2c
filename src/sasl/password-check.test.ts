// PLAIN and LOGIN with the server's password checker (auth/password-verifier.ts): its verdict
// decides, and "busy" (hash queue full) is a temporary failure, not a wrong password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PasswordVerdict } from '../auth/password-verifier.js';
import { createSaslClient } from './client.js';
import { createSaslServer } from './server.js';
import { runExchange, testContext } from './test-support.js';

for (const mech of ['PLAIN', 'LOGIN'] as const) {
  test(`${mech}: the context's checker decides; busy is 'unavailable'`, async () => {
    const asked: string[] = [];
    const run = async (verdict: PasswordVerdict) => {
      const ctx = { ...testContext({}), checkPassword: async (u: string, p: string) => (asked.push(`${u}:${p}`), verdict) };
      return runExchange(createSaslClient(mech, { username: 'alice@example.org', password: 'pw 1' }), createSaslServer(mech, ctx));
    };
    assert.deepEqual(await run('ok'), { kind: 'success', authcid: 'alice@example.org', authzid: '' });
    const bad = await run('bad');
    assert.equal(bad.kind === 'failure' && bad.reason, 'bad-credentials');
    const busy = await run('busy');
    assert.equal(busy.kind === 'failure' && busy.reason, 'unavailable');
    assert.equal(busy.kind === 'failure' && busy.authcid, 'alice@example.org');
    assert.deepEqual(asked, Array(3).fill('alice@example.org:pw 1'));
  });
}
