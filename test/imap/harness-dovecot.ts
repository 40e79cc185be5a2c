// The pair a comparison with Dovecot runs on: our harness and a real Dovecot, started before a
// suite's tests and stopped after them. A missing Dovecot fails the suite (CI installs it), never a
// silent skip.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { DOVECOT_BIN, dovecotAvailable, startDovecot, type Dovecot } from '../imap-client/dovecot.js';
import { startHarness, type Harness } from './harness.js';

export interface DovecotPair {
  h: Harness;
  d: Dovecot;
}

/** Call inside a describe(): `h` and `d` are set once its before hook ran. */
export function comparedWithDovecot(dovecot: Parameters<typeof startDovecot>[0] = {}): DovecotPair {
  const pair = {} as DovecotPair;
  before(async () => {
    assert.ok(dovecotAvailable(), `${DOVECOT_BIN} not found: install the Debian package dovecot-imapd`);
    pair.h = await startHarness();
    pair.d = await startDovecot(dovecot);
  });
  after(async () => {
    await pair.d?.stop();
    await pair.h?.close();
  });
  return pair;
}
