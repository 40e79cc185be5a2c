import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { credentialsFor } from '../../sasl/test-support.js';
import type { StoredCredentials } from '../../auth/password.js';
import { keyFingerprint } from '../../tls/fingerprint.js';
import { ed25519KeyFromSeed } from '../../tls/generate.js';
import { sendMail, SmtpClient, SmtpClientError, type SmtpClientOptions } from './index.js';
import { fakeServerCertificate, startFakeSmtpServer, type FakeSmtpOptions, type FakeSmtpServer } from './test-support.js';

const MSG = 'From: a@example.org\r\nTo: b@example.com\r\nSubject: test\r\n\r\nHello\r\n.leading dot\r\n..two\r\n';

async function withServer<T>(o: FakeSmtpOptions, fn: (s: FakeSmtpServer) => Promise<T>): Promise<T> {
  const s = await startFakeSmtpServer(o);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const base = (s: FakeSmtpServer, extra: Partial<SmtpClientOptions> = {}): SmtpClientOptions => ({
  host: '127.0.0.1',
  port: s.port,
  tls: 'none',
  clientName: 'client.example',
  ...extra,
});

async function rejects(p: Promise<unknown>, check: (e: SmtpClientError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SmtpClientError, `expected SmtpClientError, got ${String(e)}`);
    check(e);
    return true;
  });
}

describe('SMTP client: transactions', () => {
  it('pipelines MAIL and RCPT in one write and reports each recipient', async () => {
    await withServer(
      {
        onRcpt: (to) => (to.startsWith('gone') ? '550-5.1.1 no such user\r\n550 5.1.1 really not here' : to.startsWith('busy') ? '450 4.2.1 try later' : undefined),
      },
      async (s) => {
        const c = await SmtpClient.connect(base(s));
        assert.equal(c.capabilities?.pipelining, true);
        const r = await c.send({ from: 'a@example.org', to: ['b@example.com', 'gone@example.com', 'busy@example.com'] }, MSG);
        assert.deepEqual(r.accepted, ['b@example.com']);
        assert.equal(r.reply.code, 250);
        assert.equal(r.rejected.length, 2);
        const gone = r.recipients[1]!;
        assert.equal(gone.accepted, false);
        assert.equal(gone.permanent, true);
        assert.equal(gone.reply.enhanced, '5.1.1');
        assert.deepEqual(gone.reply.lines, ['no such user', 'really not here']);
        assert.equal(r.recipients[2]!.permanent, false);
        assert.equal(r.recipients[2]!.reply.code, 450);
        // One read held MAIL and every RCPT.
        assert.ok(s.reads.some((x) => x.startsWith('MAIL FROM:<a@example.org>') && (x.match(/RCPT TO:/g) ?? []).length === 3));
        // Dot-stuffing round-trips.
        assert.equal(s.transactions[0]!.data.toString(), MSG);
        assert.match(s.transactions[0]!.mailParams, /SIZE=\d+/);
        await c.quit();
      },
    );
  });

  it('sends one command at a time without PIPELINING, and a second transaction on the same connection', async () => {
    await withServer({ extensions: ['8BITMIME'] }, async (s) => {
      const c = await SmtpClient.connect(base(s));
      await c.send({ from: 'a@example.org', to: ['b@example.com', 'c@example.com'] }, MSG);
      await c.send({ from: '', to: ['d@example.com'] }, 'Subject: x\n\nbare LF\n');
      await c.quit();
      assert.ok(!s.reads.some((x) => /RCPT/.test(x) && /MAIL/.test(x)));
      assert.equal(s.transactions.length, 2);
      assert.equal(s.transactions[1]!.from, '');
      // Bare LF became CRLF.
      assert.equal(s.transactions[1]!.data.toString(), 'Subject: x\r\n\r\nbare LF\r\n');
    });
  });

  it('throws with per-recipient results when every recipient is refused, and stays usable', async () => {
    await withServer({ onRcpt: (to) => (to.startsWith('x') ? '550 5.1.1 unknown' : undefined) }, async (s) => {
      const c = await SmtpClient.connect(base(s));
      await rejects(c.send({ from: 'a@example.org', to: ['x1@example.com', 'x2@example.com'] }, MSG), (e) => {
        assert.equal(e.command, 'RCPT');
        assert.equal(e.permanent, true);
        assert.equal(e.code, 550);
        assert.equal(e.recipients?.length, 2);
      });
      const r = await c.send({ from: 'a@example.org', to: ['ok@example.com'] }, MSG);
      assert.deepEqual(r.accepted, ['ok@example.com']);
      assert.ok(s.commands.includes('RSET'));
      await c.quit();
    });
  });

  it('reports a refused MAIL and a refused DATA with their replies', async () => {
    await withServer({ onMail: (f) => (f === 'bad@example.org' ? '553 5.7.1 not yours' : undefined), onData: () => '452 4.3.1 disk full' }, async (s) => {
      const c = await SmtpClient.connect(base(s));
      await rejects(c.send({ from: 'bad@example.org', to: ['b@example.com'] }, MSG), (e) => {
        assert.equal(e.command, 'MAIL');
        assert.equal(e.enhancedCode, '5.7.1');
        assert.equal(e.permanent, true);
      });
      await rejects(c.send({ from: 'a@example.org', to: ['b@example.com'] }, MSG), (e) => {
        assert.equal(e.command, 'DATA');
        assert.equal(e.permanent, false);
        assert.equal(e.recipients?.[0]!.reply.code, 452);
        assert.equal(e.recipients?.[0]!.accepted, false);
      });
      await c.quit();
    });
  });

  it('streams an AsyncIterable through DATA', async () => {
    await withServer({}, async (s) => {
      async function* gen() {
        yield 'Subject: s\r\n\r\n';
        yield Buffer.from('.starts with dot\r');
        yield new Uint8Array(Buffer.from('\nend'));
      }
      await sendMail(base(s), { from: 'a@example.org', to: ['b@example.com'] }, gen());
      assert.equal(s.transactions[0]!.data.toString(), 'Subject: s\r\n\r\n.starts with dot\r\nend\r\n');
    });
  });

  it('uses BDAT with CHUNKING, pipelined or not, for large messages', async () => {
    const big = Buffer.from(('x'.repeat(70) + '\n').repeat(9000)); // over one chunk, bare LFs
    const expected = big.toString().replace(/\n/g, '\r\n');
    for (const pipelining of [true, false]) {
      await withServer({ extensions: ['CHUNKING', ...(pipelining ? ['PIPELINING'] : [])] }, async (s) => {
        const r = await sendMail(base(s), { from: 'a@example.org', to: ['b@example.com'] }, big);
        assert.equal(r.reply.code, 250);
        assert.equal(s.transactions[0]!.via, 'BDAT');
        assert.equal(s.transactions[0]!.data.toString(), expected);
        assert.ok(s.commands.filter((c) => c.startsWith('BDAT')).length >= 2);
        assert.ok(s.commands.some((c) => / LAST$/.test(c)));
      });
    }
  });

  it('falls back to HELO and refuses 8-bit data without 8BITMIME', async () => {
    await withServer({ extensions: null }, async (s) => {
      const c = await SmtpClient.connect(base(s));
      assert.equal(c.capabilities, null);
      assert.ok(s.commands.includes('HELO client.example'));
      await rejects(c.send({ from: 'a@example.org', to: ['b@example.com'] }, 'Subject: caf\u00e9\r\n\r\n'), (e) => {
        assert.equal(e.kind, 'capability');
        assert.equal(e.extension, '8BITMIME');
        assert.equal(e.permanent, true);
      });
      // A stream that turns out to be 8-bit is aborted.
      async function* gen() {
        yield Buffer.from('Subject: a\r\n\r\n');
        yield Buffer.from('caf\u00e9\r\n');
      }
      await rejects(c.send({ from: 'a@example.org', to: ['b@example.com'] }, gen()), (e) => assert.deepEqual([e.kind, e.extension], ['capability', '8BITMIME']));
      assert.equal(s.transactions.length, 0);
      c.close();
    });
  });

  it('declares BODY=8BITMIME and SMTPUTF8 when needed, and refuses SMTPUTF8 without support', async () => {
    await withServer({}, async (s) => {
      await sendMail(base(s), { from: 'j\u00f6rg@example.org', to: ['b@example.com'] }, 'Subject: caf\u00e9\r\n\r\n');
      assert.match(s.transactions[0]!.mailParams, /BODY=8BITMIME/);
      assert.match(s.transactions[0]!.mailParams, /SMTPUTF8/);
      assert.equal(s.transactions[0]!.from, 'j\u00f6rg@example.org');
    });
    await withServer({ extensions: ['8BITMIME'] }, async (s) => {
      await rejects(sendMail(base(s), { from: 'j\u00f6rg@example.org', to: ['b@example.com'] }, MSG), (e) => assert.deepEqual([e.kind, e.extension], ['capability', 'SMTPUTF8']));
    });
  });

  it('refuses a message over the SIZE limit before sending it, and bad addresses', async () => {
    await withServer({ extensions: ['SIZE 100'] }, async (s) => {
      const c = await SmtpClient.connect(base(s));
      await rejects(c.send({ from: 'a@example.org', to: ['b@example.com'] }, Buffer.alloc(200, 0x61)), (e) => {
        assert.equal(e.kind, 'capability');
        assert.equal(e.extension, 'SIZE');
        assert.equal(e.permanent, true);
      });
      await rejects(c.send({ from: 'a@example.org', to: ['b@exa mple.com>\r\nRSET'] }, MSG), (e) => assert.equal(e.kind, 'address'));
      assert.ok(!s.commands.some((x) => x.startsWith('MAIL')));
      c.close();
    });
  });

  it('reports a 554 greeting and times out a silent server', async () => {
    await withServer({ greeting: '554 5.3.2 no service' }, async (s) => {
      await rejects(SmtpClient.connect(base(s)), (e) => {
        assert.equal(e.code, 554);
        assert.equal(e.permanent, true);
      });
    });
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      await rejects(SmtpClient.connect({ host: '127.0.0.1', port, tls: 'none', timeouts: { greeting: 100 } }), (e) => {
        assert.equal(e.kind, 'timeout');
        assert.equal(e.permanent, false);
      });
    } finally {
      silent.close();
    }
  });

  it('reports a refused connection as temporary, and aborts on a signal', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await rejects(SmtpClient.connect({ host: '127.0.0.1', port, tls: 'none' }), (e) => {
      assert.equal(e.kind, 'connection');
      assert.equal(e.permanent, false);
    });
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const ac = new AbortController();
      const p = SmtpClient.connect({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, tls: 'none', signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await rejects(p, (e) => assert.equal(e.kind, 'aborted'));
    } finally {
      silent.close();
    }
  });
});

describe('SMTP client: TLS', () => {
  const ca = () => fakeServerCertificate().certPem;

  it('STARTTLS verified by CA, then EHLO again', async () => {
    await withServer({ starttls: true }, async (s) => {
      const c = await SmtpClient.connect(base(s, { tls: 'starttls', ca: ca(), servername: 'localhost' }));
      assert.equal(c.secure, true);
      assert.equal(c.capabilities?.startTls, false);
      assert.equal(s.commands.filter((x) => x.startsWith('EHLO')).length, 2);
      await c.send({ from: 'a@example.org', to: ['b@example.com'] }, MSG);
      await c.quit();
    });
  });

  it('fails verification of a certificate it cannot trust, or for the wrong name', async () => {
    await withServer({ starttls: true }, async (s) => {
      await rejects(SmtpClient.connect(base(s, { tls: 'starttls' })), (e) => assert.equal(e.kind, 'tls'));
      await rejects(SmtpClient.connect(base(s, { tls: 'starttls', ca: ca(), servername: 'other.example' })), (e) => assert.equal(e.kind, 'tls'));
    });
  });

  it('accepts a pinned SPKI fingerprint and refuses another', async () => {
    await withServer({ implicitTls: true }, async (s) => {
      const pin = fakeServerCertificate().fingerprint;
      const c = await SmtpClient.connect(base(s, { tls: 'implicit', pin }));
      assert.equal(c.secure, true);
      await c.quit();
      await rejects(SmtpClient.connect(base(s, { tls: 'implicit', pin: 'A'.repeat(43) })), (e) => {
        assert.equal(e.kind, 'tls');
        assert.match(e.message, /pinned/);
      });
    });
  });

  it('requires STARTTLS in starttls mode; opportunistic goes on without it', async () => {
    await withServer({}, async (s) => {
      await rejects(SmtpClient.connect(base(s, { tls: 'starttls', insecure: true })), (e) => {
        assert.equal(e.kind, 'tls');
        assert.equal(e.permanent, false);
      });
      const c = await SmtpClient.connect(base(s, { tls: 'opportunistic' }));
      assert.equal(c.secure, false);
      c.close();
    });
    await withServer({ starttls: true }, async (s) => {
      // Opportunistic: encrypted, not verified (self-signed certificate).
      const c = await SmtpClient.connect(base(s, { tls: 'opportunistic' }));
      assert.equal(c.secure, true);
      await c.quit();
    });
  });

  it('refuses data injected after the STARTTLS reply', async () => {
    await withServer({ starttls: true, injectAfterStartTls: '250 injected' }, async (s) => {
      await rejects(SmtpClient.connect(base(s, { tls: 'starttls', insecure: true })), (e) => assert.equal(e.kind, 'protocol'));
    });
  });
});

describe('SMTP client: AUTH with every mechanism', () => {
  let users: Record<string, StoredCredentials>;
  before(async () => {
    users = { 'alice@example.org': await credentialsFor('secret-password') };
  });
  const mechs = ['EXTERNAL', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN', 'LOGIN'];
  const auth = { username: 'alice@example.org', password: 'secret-password' };

  for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS'] as const) {
    for (const tls of ['implicit', 'starttls'] as const) {
      it(`${mechanism} over ${tls} TLS`, async () => {
        await withServer({ users, mechanisms: mechs, implicitTls: tls === 'implicit', starttls: tls === 'starttls', requireAuth: true }, async (s) => {
          const c = await SmtpClient.connect(base(s, { tls, insecure: true, auth: { ...auth, mechanism } }));
          assert.equal(c.authMechanism, mechanism);
          assert.equal(s.authenticated[0], 'alice@example.org');
          await c.send({ from: 'alice@example.org', to: ['b@example.com'] }, MSG);
          await c.quit();
        });
      });
    }
  }

  it('chooses SCRAM-SHA-256-PLUS automatically over TLS, SCRAM-SHA-256 without', async () => {
    await withServer({ users, mechanisms: mechs, starttls: true }, async (s) => {
      const c = await SmtpClient.connect(base(s, { tls: 'starttls', insecure: true, auth }));
      assert.equal(c.authMechanism, 'SCRAM-SHA-256-PLUS');
      await c.quit();
      const p = await SmtpClient.connect(base(s, { tls: 'none', auth }));
      assert.equal(p.authMechanism, 'SCRAM-SHA-256');
      await p.quit();
    });
  });

  it('accepts the SCRAM server-final-message with 235', async () => {
    await withServer({ users, mechanisms: ['SCRAM-SHA-256'], scramFinalWith235: true }, async (s) => {
      const c = await SmtpClient.connect(base(s, { auth }));
      assert.equal(c.authMechanism, 'SCRAM-SHA-256');
      await c.quit();
    });
  });

  it('does not send PLAIN without TLS unless allowed', async () => {
    await withServer({ users, mechanisms: ['PLAIN'] }, async (s) => {
      await rejects(SmtpClient.connect(base(s, { auth })), (e) => assert.equal(e.kind, 'auth'));
      // Also when PLAIN or LOGIN is asked for by name: nothing of the password goes out.
      for (const mechanism of ['PLAIN', 'LOGIN'] as const) {
        await rejects(SmtpClient.connect(base(s, { auth: { ...auth, mechanism } })), (e) => assert.equal(e.kind, 'auth'));
      }
      assert.ok(!s.commands.some((l) => l.startsWith('AUTH')), s.commands.join(' | '));
      const c = await SmtpClient.connect(base(s, { auth: { ...auth, allowPlaintext: true } }));
      assert.equal(c.authMechanism, 'PLAIN');
      c.close();
    });
  });

  it('reports a wrong password as a permanent auth error with the reply', async () => {
    await withServer({ users, mechanisms: mechs, implicitTls: true }, async (s) => {
      for (const mechanism of ['SCRAM-SHA-256', 'PLAIN', 'CRAM-MD5'] as const) {
        await rejects(SmtpClient.connect(base(s, { tls: 'implicit', insecure: true, auth: { ...auth, password: 'wrong-password', mechanism } })), (e) => {
          assert.equal(e.kind, 'auth');
          assert.equal(e.code, 535);
          assert.equal(e.permanent, true);
        });
      }
    });
  });

  it('authenticates with EXTERNAL from a bare Ed25519 seed (a certificate is made on the fly)', async () => {
    const seed = randomBytes(32).toString('base64url');
    await withServer({ users, mechanisms: mechs, implicitTls: true, requestCert: true }, async (s) => {
      const c = await SmtpClient.connect(base(s, { tls: 'implicit', insecure: true, clientCertificate: { key: seed }, auth: { username: 'alice@example.org' } }));
      assert.equal(c.authMechanism, 'EXTERNAL');
      assert.equal(s.authenticated[0], 'external:alice@example.org');
      assert.equal(s.clientCerts.length, 1);
      const { X509Certificate } = await import('node:crypto');
      assert.equal(keyFingerprint(new X509Certificate(s.clientCerts[0]!).publicKey), keyFingerprint(ed25519KeyFromSeed(seed)));
      await c.quit();
    });
  });

  it('fails clearly when a client certificate is set and EXTERNAL is not offered', async () => {
    await withServer({ users, mechanisms: ['PLAIN'], implicitTls: true, requestCert: true }, async (s) => {
      await rejects(SmtpClient.connect(base(s, { tls: 'implicit', insecure: true, clientCertificate: { key: randomBytes(32).toString('base64url') } })), (e) => {
        assert.equal(e.kind, 'auth');
        assert.match(e.message, /EXTERNAL/);
      });
    });
  });
});


describe('SMTP client: protocol trace', () => {
  it('logs commands and replies at debug level, never AUTH data', async () => {
    const { createLogger } = await import('../../log/logger.js');
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    const users = { 'alice@example.org': await credentialsFor('secret-password') };
    await withServer({ users, mechanisms: ['PLAIN', 'LOGIN'] }, async (s) => {
      for (const mechanism of ['PLAIN', 'LOGIN'] as const) {
        const c = await SmtpClient.connect(base(s, { log, auth: { username: 'alice@example.org', password: 'secret-password', mechanism, allowPlaintext: true } }));
        await c.send({ from: 'alice@example.org', to: ['b@example.com'] }, MSG);
        await c.quit();
      }
    });
    const all = lines.join('\n');
    assert.match(all, /command="MAIL FROM:<alice@example.org> SIZE=\d+"/);
    assert.match(all, /reply="250 2.0.0 queued"/);
    assert.match(all, /command="AUTH PLAIN \.\.\."/);
    assert.ok(!all.includes(Buffer.from('secret-password').toString('base64')), 'no password in the log');
    assert.ok(!all.includes(Buffer.from('\0alice@example.org\0secret-password').toString('base64')));
  });
});
