// The IMAP client against a real Dovecot: every login path, TLS verification, and the mailbox
// commands, as a mail client would use them.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ImapClient, ImapClientError, type ImapClientOptions } from '../../src/imap/client/index.js';
import { spkiFingerprint } from '../../src/tls/fingerprint.js';
import { dovecotAvailable, startDovecot, DOVECOT_CERT_USER, DOVECOT_PASSWORD, DOVECOT_USER, type Dovecot } from './dovecot.js';

// Dovecot is IMAP4rev1: \Recent comes along (RFC 3501 2.3.2); IMAP4rev2 dropped it.
const noRecent = (flags: string[] | undefined) => flags?.filter((f) => f !== '\\Recent');

const skip = dovecotAvailable() ? false : 'dovecot is not installed (apt-get install dovecot-imapd)';

describe('IMAP client against Dovecot', { skip }, () => {
  let d: Dovecot;
  const opened: ImapClient[] = [];
  before(async () => {
    d = await startDovecot();
  });
  after(async () => {
    for (const c of opened) c.close();
    await d?.stop();
  });
  const connect = async (o: Partial<ImapClientOptions>): Promise<ImapClient> => {
    const c = await ImapClient.connect({ host: d.host, port: d.imapsPort, tls: 'implicit', ca: d.caPem, servername: 'localhost', ...o });
    opened.push(c);
    return c;
  };
  const password = { username: DOVECOT_USER, password: DOVECOT_PASSWORD };

  test('PLAIN over implicit TLS, verified against the CA', async () => {
    const c = await connect({ auth: { ...password, mechanism: 'PLAIN' } });
    assert.equal(c.authenticatedWith, 'PLAIN');
    assert.equal(c.state, 'authenticated');
    assert.ok(c.has('IMAP4rev1'));
    await c.logout();
  });

  test('SCRAM-SHA-256 chosen automatically, over STARTTLS', async () => {
    const c = await connect({ port: d.imapPort, tls: 'starttls', auth: password });
    assert.equal(c.secure, true);
    assert.equal(c.authenticatedWith, 'SCRAM-SHA-256'); // Dovecot 2.3 has no -PLUS
    await c.logout();
  });

  test('SCRAM-SHA-1, CRAM-MD5 and the LOGIN command', async () => {
    for (const mechanism of ['SCRAM-SHA-1', 'CRAM-MD5', 'LOGIN-COMMAND'] as const) {
      const c = await connect({ auth: { ...password, mechanism } });
      assert.equal(c.authenticatedWith, mechanism);
      await c.logout();
    }
  });

  test('wrong password: auth error with AUTHENTICATIONFAILED', async () => {
    await assert.rejects(connect({ auth: { username: DOVECOT_USER, password: 'wrong-password' } }), (e: ImapClientError) => {
      assert.equal(e.kind, 'auth');
      assert.equal(e.code?.name, 'AUTHENTICATIONFAILED');
      return true;
    });
  });

  test('EXTERNAL with a CA-issued client certificate', async () => {
    const c = await connect({ clientCertificate: { key: d.clientKeyPem, cert: d.clientCertPem } });
    assert.equal(c.authenticatedWith, 'EXTERNAL');
    const box = await c.select('INBOX');
    assert.equal(box.exists, 0);
    await c.logout();
    void DOVECOT_CERT_USER;
  });

  test('server verification: pin, wrong pin, unknown CA, insecure', async () => {
    const pem = (await import('node:fs')).readFileSync(`${d.dir}/server.crt`, 'utf8');
    const pin = spkiFingerprint(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }));
    const c = await connect({ ca: undefined, servername: undefined, pin, auth: password });
    await c.logout();
    await assert.rejects(connect({ ca: undefined, pin: 'A'.repeat(43) }), (e: ImapClientError) => e.kind === 'tls' && /pinned/.test(e.message));
    await assert.rejects(connect({ ca: undefined }), (e: ImapClientError) => e.kind === 'tls');
    await assert.rejects(connect({ port: d.imapPort, tls: 'starttls', ca: undefined }), (e: ImapClientError) => e.kind === 'tls');
    const insecure = await connect({ ca: undefined, insecure: true, auth: password });
    await insecure.logout();
  });

  test('plain connection: passwords are not sent in the clear', async () => {
    await assert.rejects(connect({ port: d.imapPort, tls: 'none', auth: { ...password, mechanism: 'PLAIN' } }), (e: ImapClientError) => e.kind === 'auth');
  });

  test('append, fetch, search, store, copy, move, expunge, status, list', async () => {
    const c = await connect({ auth: password });
    await c.create('Work/Entwürfe');
    const list = await c.list('', '*');
    assert.ok(list.some((e) => e.name === 'Work/Entwürfe' && e.delimiter === '/'));
    assert.equal(list.find((e) => e.name === 'Sent')?.specialUse, '\\Sent');
    const special = await c.list('', '*', { specialUse: true });
    assert.deepEqual(special.map((e) => e.name).sort(), ['Sent', 'Trash']);
    const withStatus = await c.list('', 'INBOX', { status: ['MESSAGES', 'UIDNEXT'] });
    assert.equal(withStatus[0].status?.messages, 0);

    const msg = (n: number, subject: string) =>
      `From: Ann <ann@example.org>\r\nTo: team: bob@example.net, carol@example.net;\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@example.org>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello ${n}, grüße\r\n`;
    const a1 = await c.append('INBOX', msg(1, 'first one'), { flags: ['\\Seen'], internalDate: new Date('2024-01-02T10:00:00Z') });
    assert.equal(a1.uid, 1);
    assert.ok(a1.uidValidity);
    await c.append('INBOX', msg(2, 'Grüße zwei'));
    await c.append('INBOX', Buffer.from(msg(3, 'third')), { flags: ['$Label1'] });

    const box = await c.select('INBOX', { condstore: true });
    assert.equal(box.exists, 3);
    assert.equal(box.uidValidity, a1.uidValidity);
    assert.equal(box.uidNext, 4);
    assert.ok(box.highestModseq && box.highestModseq > 0n);
    assert.ok(box.permanentFlags.includes('\\*'));

    const msgs = await c.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, size: true, modseq: true, body: ['TEXT', 'HEADER.FIELDS (Subject)', { section: '', start: 0, length: 6 }], binary: ['1'] });
    assert.equal(msgs.length, 3);
    const [m1, m2] = msgs;
    assert.equal(m1.uid, 1);
    assert.deepEqual(noRecent(m1.flags), ['\\Seen']);
    assert.equal(m1.internalDate?.toISOString(), '2024-01-02T10:00:00.000Z');
    assert.equal(m1.size, Buffer.byteLength(msg(1, 'first one')));
    assert.equal(m1.envelope?.subject, 'first one');
    assert.deepEqual(m1.envelope?.from.map((x) => [x.name, x.address]), [['Ann', 'ann@example.org']]);
    assert.deepEqual(m1.envelope?.to.map((x) => [x.address, x.group]), [
      ['bob@example.net', 'team'],
      ['carol@example.net', 'team'],
    ]);
    assert.equal(m1.envelope?.messageId, '<m1@example.org>');
    assert.deepEqual([m1.bodyStructure?.type, m1.bodyStructure?.subtype, m1.bodyStructure?.parameters.charset], ['text', 'plain', 'utf-8']);
    assert.equal(m1.body?.['TEXT']?.toString('utf8'), 'Hello 1, grüße\r\n');
    assert.equal(m1.body?.['HEADER.FIELDS (SUBJECT)']?.toString(), 'Subject: first one\r\n\r\n');
    assert.equal(m1.body?.['']?.toString(), 'From: ');
    assert.equal(m1.origin?.[''], 0);
    assert.equal(m1.binary?.['1']?.toString('utf8'), 'Hello 1, grüße\r\n');
    assert.ok(typeof m1.modseq === 'bigint');
    // 8-bit header text comes back as bytes, decoded as UTF-8.
    assert.equal(m2.envelope?.subject, 'Grüße zwei');

    assert.deepEqual((await c.search({ seen: false })).numbers, [2, 3]);
    assert.deepEqual((await c.search({ subject: 'grüße' }, { uid: true })).numbers, [2]);
    assert.deepEqual((await c.search({ or: [{ keyword: '$Label1' }, { header: [['Message-ID', 'm1@']] }] })).numbers, [1, 3]);
    assert.deepEqual(await c.search({ all: true }, { returns: ['COUNT', 'MIN', 'MAX'] }), { numbers: [], count: 3, min: 1, max: 3 });

    const before = (await c.fetch(2, { modseq: true }))[0].modseq!;
    const st = await c.store(2, { add: ['\\Flagged', '$Important'] }, { uid: true });
    assert.deepEqual(noRecent(st.messages[0].flags)?.sort(), ['$Important', '\\Flagged']);
    const cond = await c.store([1, 2], { remove: ['\\Flagged'] }, { unchangedSince: before, silent: true });
    assert.deepEqual(cond.modified, [2]); // message 2 changed after `before`
    const silent = await c.store(3, { set: ['\\Answered'] }, { silent: true });
    // .SILENT: no FLAGS back; with CONDSTORE the new MODSEQ still comes (RFC 7162 3.2).
    assert.ok(silent.messages.every((m) => m.flags === undefined));

    const copied = await c.copy([1, 3], 'Work/Entwürfe');
    assert.deepEqual(copied.sourceUids, [1, 3]);
    assert.deepEqual(copied.destinationUids, [1, 2]);
    const moved = await c.move(2, 'Trash', { uid: true });
    assert.deepEqual([moved.sourceUids, moved.destinationUids], [[2], [1]]);
    assert.equal(c.mailbox?.exists, 2);
    assert.deepEqual(await c.status('Trash', ['MESSAGES', 'UIDNEXT', 'SIZE']), { messages: 1, uidNext: 2, size: Buffer.byteLength(msg(2, 'Grüße zwei')) });
    assert.equal((await c.status('Work/Entwürfe')).messages, 2);

    await c.store(1, { add: ['\\Deleted'] }, { silent: true });
    assert.deepEqual(await c.expunge({ uids: 1 }), { expunged: [1], vanished: [] });
    assert.equal(c.mailbox?.exists, 1);
    await c.unselect();
    await c.delete('Work/Entwürfe');
    await c.logout();
  });

  test('IDLE sees another session append, flag and expunge', async () => {
    const watcher = await connect({ auth: password });
    const writer = await connect({ auth: password });
    await watcher.create('Watched');
    await watcher.select('Watched');
    const events: string[] = [];
    const seen = (want: (e: string) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (events.some(want) ? resolve() : setTimeout(check, 20));
        check();
      });
    watcher.on('exists', (n) => events.push(`exists ${n}`));
    watcher.on('expunge', (n) => events.push(`expunge ${n}`));
    watcher.on('fetch', (m) => events.push(`fetch ${m.seq} ${noRecent(m.flags)?.join(',')}`));
    const idle = await watcher.idle();
    await writer.append('Watched', 'Subject: x\r\n\r\nbody\r\n');
    await seen((e) => e === 'exists 1');
    await writer.select('Watched');
    await writer.store(1, { add: ['\\Flagged'] }, { silent: true });
    await seen((e) => e === 'fetch 1 \\Flagged');
    await writer.store(1, { add: ['\\Deleted'] }, { silent: true });
    await writer.expunge();
    await seen((e) => e === 'expunge 1');
    await idle.done();
    // Dovecot may fold the \Deleted change into the expunge.
    assert.deepEqual(events.filter((e) => !e.includes('Deleted')), ['exists 1', 'fetch 1 \\Flagged', 'expunge 1']);
    assert.equal(watcher.mailbox?.exists, 0);
    await watcher.noop();
    await writer.logout();
    await watcher.logout();
  });
});
