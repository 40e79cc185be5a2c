// `postern sendmail` as scripts use it: the real executable in a shell pipeline, against a running
// Postern (issue 6): a key+cert PEM, -t with Bcc, and a server that is down (exit 75, dead letter).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTERN } from './run-cli.js';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { deriveCredentials } from '../../src/auth/password.js';

let srv: TestServer;
let home: string;

before(async () => {
  srv = await startTestServer({ services: ['submission', 'submissions'] });
  home = mkdtempSync(join(tmpdir(), 'postern-sendmail-home-'));
  const bob = await srv.server.ctx.store.createAccount('bob', 'bob@example.test');
  await srv.server.ctx.store.setCredentials(bob.id, await deriveCredentials('bobpassword'));
  await srv.server.ctx.store.createAccount('carol', 'carol@example.test');
});

after(async () => {
  await srv.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Runs a shell command line with the postern executable as $POSTERN. */
function sh(script: string, conf: string): Promise<{ code: number | null; stderr: string }> {
  const confFile = join(home, `sendmail-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(confFile, conf);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script], {
      env: { ...process.env, HOME: home, POSTERN: `${process.execPath} ${POSTERN}`, POSTERN_SENDMAIL_CONFIG: confFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function inbox(account: string): Promise<string[]> {
  const store = srv.server.ctx.store;
  const a = (await store.getAccount(account))!;
  const mb = (await store.getMailbox(a.id, 'INBOX'))!;
  const msgs = await store.listMessages(mb.id);
  return Promise.all(msgs.map(async (m) => (await store.readBlob(m.fileId)).toString('utf8')));
}

test("printf 'Subject: hi\\n\\nbody\\n' | postern sendmail user@domain delivers", async () => {
  const conf = `host: 127.0.0.1\nport: ${srv.ports.submissions}\ntls: implicit\ntlsInsecure: true\nusername: ${ADDRESS}\npassword: ${PASSWORD}\nfrom: ${ADDRESS}\n`;
  const r = await sh(`printf 'Subject: hi\\n\\nbody\\n' | $POSTERN sendmail bob@example.test`, conf);
  assert.equal(r.code, 0, r.stderr);
  const got = await inbox('bob');
  assert.equal(got.length, 1);
  assert.match(got[0]!, /\r\nSubject: hi\r\n/);
  assert.match(got[0]!, /\r\nMessage-ID: </i);
  assert.match(got[0]!, /\r\nDate: /);
  assert.match(got[0]!, /\r\n\r\nbody\r\n$/);
});

test('a key+cert PEM as the only credential, -t with Cc and Bcc (Bcc removed), over STARTTLS', async () => {
  const k = generateClientCertificate('cron host');
  await srv.server.ctx.store.addTlsPubKey((await srv.server.ctx.store.getAccount('alice'))!.id, {
    fingerprint: k.fingerprint, type: 'ed25519', name: 'cron host', loginAddress: ADDRESS, noImapPreauth: false, certDer: k.certDer,
  });
  const keycert = join(home, 'cron.keycert.pem');
  writeFileSync(keycert, k.keyPem + k.certPem, { mode: 0o600 });
  const conf = `host: 127.0.0.1\nport: ${srv.ports.submission}\ntls: starttls\ntlsInsecure: true\nclientKeyCertFile: ${keycert}\nfrom: ${ADDRESS}\n`;
  const r = await sh(`printf 'To: bob@example.test\\nCc: carol@example.test\\nBcc: alice@example.test\\nSubject: report\\n\\nnightly\\n' | $POSTERN sendmail -t`, conf);
  assert.equal(r.code, 0, r.stderr);
  for (const who of ['bob', 'carol', 'alice']) {
    const m = (await inbox(who)).find((t) => /Subject: report/.test(t));
    assert.ok(m, `${who} got the message`);
    assert.doesNotMatch(m!, /^Bcc:/im, 'Bcc removed');
  }
});

test('server down: exit 75, the cause on stderr, the message in ~/dead.letter, no secret printed', async () => {
  const conf = `host: 127.0.0.1\nport: 1\ntls: implicit\ntlsInsecure: true\nusername: ${ADDRESS}\npassword: s3cret-do-not-print\n`;
  const r = await sh(`printf 'Subject: lost\\n\\nkeep me\\n' | $POSTERN sendmail bob@example.test`, conf);
  assert.equal(r.code, 75, r.stderr);
  assert.match(r.stderr, /refused|connect/i);
  assert.doesNotMatch(r.stderr, /s3cret/);
  const dead = join(home, 'dead.letter');
  assert.ok(existsSync(dead));
  assert.match(readFileSync(dead, 'utf8'), /keep me/);
});
