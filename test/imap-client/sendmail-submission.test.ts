// `postern sendmail` against Postern's own submission listeners (the SMTP harness): password
// login over implicit TLS and STARTTLS, and a bare Ed25519 seed as client certificate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runSendmail } from '../../src/sendmail/index.js';
import { generatePrivateKey } from '../../src/tls/generate.js';
import { certificateForKey } from '../../src/tls/generate.js';
import { keyFingerprint } from '../../src/tls/fingerprint.js';
import { PASSWORD, startHarness, type Harness } from '../smtp/harness.js';

describe('sendmail against Postern submission', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'postern-sendmail-e2e-'));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (conf: string, argv: string[], input: string) => {
    const path = join(dir, `conf-${Math.random().toString(36).slice(2)}.conf`);
    writeFileSync(path, conf);
    let stderr = '';
    const code = await runSendmail(argv, {
      stdin: Readable.from([Buffer.from(input)]),
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      env: { HOME: dir, POSTERN_SENDMAIL_CONFIG: path },
    });
    return { code, stderr };
  };

  test('password over implicit TLS and STARTTLS; the message arrives with Date and Message-ID', async () => {
    const r = await run(`host: 127.0.0.1\nport: ${h.ports.submissions}\ntls: implicit\ntlsInsecure: true\nusername: alice@example.test\npassword: ${PASSWORD}\nfrom: alice@example.test\n`, ['-t'], 'To: bob@example.test\nSubject: via sendmail\n\nhello bob\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const s = await run(`host: 127.0.0.1\nport: ${h.ports.submission}\ntls: starttls\ntlsInsecure: true\nusername: alice@example.test\npassword: ${PASSWORD}\n`, ['bob@example.test'], 'From: alice@example.test\nSubject: second\n\nagain\n');
    assert.equal(s.stderr, '');
    assert.equal(s.code, 0);
    const until = Date.now() + 5000;
    let inbox: Buffer[] = [];
    while (Date.now() < until && (inbox = await h.inbox(h.bob.id)).length < 2) await new Promise((res) => setTimeout(res, 50));
    const texts = inbox.map((m) => m.toString());
    assert.ok(texts.some((t) => /Subject: via sendmail\r\n/.test(t) && /\r\nDate: /.test(t) && /\r\nMessage-ID: </.test(t) && /hello bob\r\n/.test(t)), texts.join('\n---\n'));
    assert.ok(texts.some((t) => /Subject: second\r\n/.test(t)));
  });

  test('a bare Ed25519 seed as client certificate; a wrong password fails with 69', async () => {
    const key = generatePrivateKey('ed25519');
    const seed = key.export({ format: 'jwk' }).d!;
    await h.store.addTlsPubKey(h.alice.id, { fingerprint: keyFingerprint(key), type: 'ed25519', name: 'cron', loginAddress: 'alice@example.test', noImapPreauth: false, certDer: certificateForKey(key) });
    const r = await run(`host: 127.0.0.1\nport: ${h.ports.submissions}\ntlsInsecure: true\nclientEd25519Key: ${seed}\nfrom: alice@example.test\n`, ['bob@example.test'], 'Subject: by key\n\nsigned in by key\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const bad = await run(`host: 127.0.0.1\nport: ${h.ports.submissions}\ntlsInsecure: true\nusername: alice@example.test\npassword: not-the-password\n`, ['bob@example.test'], 'Subject: x\n\ny\n');
    assert.equal(bad.code, 69);
    assert.doesNotMatch(bad.stderr, /not-the-password/);
  });
});
