import assert from 'node:assert/strict';
import { test } from 'node:test';
import { opensslCommands } from './commands-view.js';
import { fileStem } from './generate-view.js';

test('openssl commands quote the name for the shell and for -subj', () => {
  const text = opensslCommands("bob's/laptop", 'ed25519');
  assert.match(text, /openssl genpkey -algorithm ed25519 -out bob-s-laptop\.key\.pem/);
  assert.ok(text.includes(`-subj '/CN=bob'\\''s\\/laptop'`), text);
  assert.ok(text.includes(`-name 'bob'\\''s/laptop'`));
  assert.match(opensslCommands('x', 'ecdsa-p256'), /ec_paramgen_curve:P-256/);
  assert.equal(fileStem('  ../etc/passwd '), 'etc-passwd');
  assert.equal(fileStem('***'), 'postern-key');
});
