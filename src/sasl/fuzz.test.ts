// Property tests: whatever a client sends, a server half answers with a SaslStep (usually a
// failure) and never throws; client halves only throw SaslClientError on server garbage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSaslServer } from './server.js';
import { createScramClient } from './scram-client.js';
import { credentialsFor, testContext } from './test-support.js';
import { SASL_MECHANISMS, SaslClientError } from './types.js';

const scramish = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc
    .array(fc.constantFrom('n', 'y', 'p=tls-exporter', 'p=tls-unique', ',', 'a=', 'n=', 'r=', 'c=', 'p=', 's=', 'i=', 'm=', 'e=', 'v=', '=2C', '=3D', '=', 'biws', 'abcdefghij', '4096', '\0', '\u00e9', '\uFFFD'), { maxLength: 25 })
    .map((parts) => Buffer.from(parts.join(''), 'utf8')),
);

test('server halves never throw on arbitrary client messages', async () => {
  const users = { u: await credentialsFor('pw12345678'), alice: await credentialsFor('pw12345678') };
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...SASL_MECHANISMS.filter((m) => m !== 'PLAIN' && m !== 'LOGIN')),
      fc.boolean(),
      fc.array(fc.option(scramish, { nil: null }), { minLength: 1, maxLength: 4 }),
      async (mech, tls, messages) => {
        const server = createSaslServer(mech, testContext(users, { tls, channelBinding: tls ? { type: 'tls-exporter', data: Buffer.alloc(32, 1) } : undefined }));
        for (const msg of messages) {
          const step = await server.step(msg);
          assert.ok(['challenge', 'success', 'failure'].includes(step.kind));
          if (step.kind === 'success') assert.equal(mech, 'EXTERNAL', 'only EXTERNAL succeeds without credentials');
          if (step.kind !== 'challenge') break;
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('PLAIN and LOGIN servers never throw (fewer runs: each check costs a scrypt)', async () => {
  const users = { u: await credentialsFor('pw12345678') };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('PLAIN' as const, 'LOGIN' as const), fc.array(fc.option(scramish, { nil: null }), { minLength: 1, maxLength: 3 }), async (mech, messages) => {
      const server = createSaslServer(mech, testContext(users));
      for (const msg of messages) {
        const step = await server.step(msg);
        assert.notEqual(step.kind, 'success');
        if (step.kind !== 'challenge') break;
      }
    }),
    { numRuns: 25 },
  );
});

test('SCRAM client throws only SaslClientError on arbitrary server messages', () => {
  fc.assert(
    fc.property(scramish, scramish, (serverFirst, serverFinal) => {
      const client = createScramClient('SCRAM-SHA-256', { username: 'u', password: 'pw' }, { clientNonce: 'abcdefghij' });
      client.step(null);
      try {
        client.step(serverFirst);
        client.step(serverFinal);
      } catch (e) {
        if (!(e instanceof SaslClientError)) throw e;
        return;
      }
      assert.fail('client accepted garbage');
    }),
    { numRuns: 400 },
  );
});
