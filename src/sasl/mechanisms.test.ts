import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SASL_MECHANISMS } from './types.js';
import { chooseClientMechanism, parseMechanism, serverMechanismAllowed, serverMechanisms, serverOffersPlus } from './mechanisms.js';

test('server advertising follows TLS and certificate state (spec 3.1)', () => {
  // Nothing before TLS, on any protocol and for any mechanism (spec 3.1).
  assert.deepEqual(serverMechanisms({ protocol: 'imap', tls: false, certificateMatched: false }), []);
  assert.deepEqual(serverMechanisms({ protocol: 'smtp', tls: false, certificateMatched: false }), []);
  for (const mech of SASL_MECHANISMS) {
    for (const protocol of ['imap', 'smtp'] as const) assert.equal(serverMechanismAllowed(mech, { protocol, tls: false, certificateMatched: false }), false, `${protocol} ${mech}`);
  }
  // The loopback setting: everything but what needs TLS (EXTERNAL, channel binding).
  assert.deepEqual(serverMechanisms({ protocol: 'smtp', tls: false, certificateMatched: false, cleartextAllowed: true }), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN', 'LOGIN']);
  assert.equal(serverMechanismAllowed('EXTERNAL', { protocol: 'imap', tls: false, certificateMatched: false, cleartextAllowed: true }), false);
  assert.equal(serverMechanismAllowed('SCRAM-SHA-256-PLUS', { protocol: 'smtp', tls: false, certificateMatched: false, cleartextAllowed: true }), false);
  assert.equal(serverMechanismAllowed('SCRAM-SHA-256', { protocol: 'smtp', tls: false, certificateMatched: false, cleartextAllowed: true }), true);
  assert.deepEqual(serverMechanisms({ protocol: 'imap', tls: true, certificateMatched: false }), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN']);
  assert.deepEqual(serverMechanisms({ protocol: 'smtp', tls: true, certificateMatched: true }), ['EXTERNAL', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN', 'LOGIN']);
  assert.equal(serverMechanismAllowed('PLAIN', { protocol: 'smtp', tls: false, certificateMatched: false }), false);
  assert.equal(serverMechanismAllowed('LOGIN', { protocol: 'imap', tls: true, certificateMatched: false }), false);
  assert.equal(serverMechanismAllowed('SCRAM-SHA-1-PLUS', { protocol: 'imap', tls: false, certificateMatched: false }), false);
  assert.equal(serverMechanismAllowed('EXTERNAL', { protocol: 'imap', tls: true, certificateMatched: false }), true, 'fails inside: AUTHENTICATIONFAILED');
});

test('parseMechanism is case-insensitive and rejects unknown names', () => {
  assert.equal(parseMechanism('scram-sha-256-plus'), 'SCRAM-SHA-256-PLUS');
  assert.equal(parseMechanism('GSSAPI'), null);
  assert.equal(parseMechanism(''), null);
});

test('client preference (spec 7)', () => {
  const all = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'scram-sha-1-plus', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'EXTERNAL'];
  const base = { offered: all, tls: true, channelBinding: true, clientCertificate: false, password: true };
  assert.equal(chooseClientMechanism({ ...base, clientCertificate: true }), 'EXTERNAL');
  assert.equal(chooseClientMechanism(base), 'SCRAM-SHA-256-PLUS');
  assert.equal(chooseClientMechanism({ ...base, channelBinding: false }), 'SCRAM-SHA-256');
  assert.equal(chooseClientMechanism({ ...base, offered: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'] }), 'SCRAM-SHA-1-PLUS');
  assert.equal(chooseClientMechanism({ ...base, offered: ['PLAIN', 'CRAM-MD5'] }), 'CRAM-MD5');
  assert.equal(chooseClientMechanism({ ...base, tls: false, offered: ['PLAIN', 'LOGIN'] }), null);
  assert.equal(chooseClientMechanism({ ...base, tls: false, offered: ['PLAIN'], allowPlaintextWithoutTls: true }), 'PLAIN');
  assert.equal(chooseClientMechanism({ ...base, offered: ['LOGIN'] }), 'LOGIN');
  assert.equal(chooseClientMechanism({ ...base, password: false }), null);
  assert.equal(serverOffersPlus(['SCRAM-SHA-1', 'scram-sha-256-plus']), true);
  assert.equal(serverOffersPlus(['SCRAM-SHA-1']), false);
});
