// NOTIFY (RFC 5465) over real sockets: one session asks for notifications, another changes the
// account (mailboxes created, renamed, deleted, subscribed; messages appended, flagged, expunged;
// METADATA set), and the first is told without asking: LIST with OLDNAME or \NonExistent, STATUS
// for other mailboxes, EXISTS/FETCH/EXPUNGE for the selected one, unsolicited METADATA (RFC 5464
// 4.4.2). Also selected-delayed, the STATUS indicator, NOTIFY NONE, the overflow limit, BADEVENT
// and bad syntax with the session going on, and python3 imaplib as a real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';
import { until, silent } from './notify-support.js';

/** Small so that the overflow test reaches it. */
const QUEUE_LIMIT = 4;

/** IDLE while `act` runs, nothing may arrive; after DONE, the untagged lines of IDLE's reply. */
async function quietIdle(c: Client, act: () => Promise<unknown>): Promise<string[]> {
  const tag = c.nextTag();
  c.write(`${tag} IDLE\r\n`);
  assert.match(await c.readLine(), /^\+ /);
  await act();
  await silent(c);
  c.write('DONE\r\n');
  return (await c.reply(tag)).untagged;
}

describe('NOTIFY (RFC 5465)', () => {
  let h: Harness;
  let a: Client;
  let b: Client;
  before(async () => {
    h = await startHarness({ notifyQueueLimit: QUEUE_LIMIT });
    a = await h.client();
    b = await h.client();
  });
  after(async () => {
    await h?.close();
  });

  it('is advertised after login', async () => {
    const r = await a.ok('CAPABILITY');
    assert.ok(r.untagged.find((l) => l.startsWith('* CAPABILITY '))!.split(' ').includes('NOTIFY'));
  });

  it('bad syntax is BAD, forbidden combinations BAD, unsupported events NO [BADEVENT]; the session goes on', async () => {
    await a.bad('NOTIFY');
    await a.bad('NOTIFY FOO');
    await a.bad('NOTIFY SET');
    await a.bad('NOTIFY SET (bogus (MessageNew MessageExpunge))');
    await a.bad('NOTIFY SET (personal (MessageNew MessageExpunge)');
    // RFC 5465 5: MessageNew and MessageExpunge together; FlagChange needs both.
    await a.bad('NOTIFY SET (personal (MessageNew))');
    await a.bad('NOTIFY SET (personal (FlagChange))');
    // RFC 5465 6.1: message events only with selected; only one selected specifier.
    await a.bad('NOTIFY SET (selected (MailboxName))');
    await a.bad('NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))');
    // RFC 5465 3.1: NO (not BAD), naming every supported event.
    const r = await a.no('NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))', 'BADEVENT');
    assert.match(r.text, /^\[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange\)\]/);
    await a.no('NOTIFY SET (personal (SomethingElse))', 'BADEVENT');
    await a.ok('NOOP');
  });

  it('another session\'s mailbox, message, flag and METADATA changes reach a NOTIFY session unasked', async () => {
    await a.ok('SELECT INBOX');
    await a.ok('NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))');
    await b.ok('CREATE Lists/Lemonade');
    // The parent is created too (RFC 9051 6.3.4).
    // The parent's attributes are as they are when its line is written.
    const created = await until(a, /Lemonade/);
    assert.equal(created.length, 2, created.join('\n'));
    assert.match(created[0]!, /^\* LIST \(\\Has(No)?Children\) "\/" Lists$/);
    assert.equal(created[1], '* LIST (\\HasNoChildren) "/" Lists/Lemonade');
    await b.ok('RENAME Lists/Lemonade Lists/Notify');
    assert.deepEqual(await until(a, /OLDNAME/), ['* LIST (\\HasNoChildren) "/" Lists/Notify ("OLDNAME" (Lists/Lemonade))']);
    await b.append('Lists/Notify', message('elsewhere'));
    const status = await until(a, /^\* STATUS/);
    assert.match(status.at(-1)!, /^\* STATUS Lists\/Notify \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    await b.ok('SUBSCRIBE Lists/Notify');
    assert.deepEqual(await until(a, /Subscribed/), ['* LIST (\\HasNoChildren \\Subscribed) "/" Lists/Notify']);
    await b.ok('SETMETADATA Lists/Notify (/private/comment "watched")');
    assert.deepEqual(await until(a, /METADATA/), ['* METADATA Lists/Notify /private/comment']);
    await b.ok('SETMETADATA "" (/shared/comment "server" /private/x "y")');
    assert.deepEqual(await until(a, /METADATA/), ['* METADATA "" /shared/comment /private/x']);
    // The selected mailbox: EXISTS, then the FETCH asked for (RFC 5465 5.2), without \Seen.
    await b.append('INBOX', message('pushed'));
    const fresh = await until(a, /FETCH/);
    assert.equal(fresh[0], '* 1 EXISTS');
    assert.match(fresh.at(-1)!, /^\* 1 FETCH \(UID 1 BODY\[HEADER\.FIELDS \(Subject\)\] \{\d+\}\r\nSubject: pushed\r\n\r\n\)$/);
    await b.ok('SELECT INBOX');
    await b.ok('STORE 1 +FLAGS (\\Flagged)');
    assert.match((await until(a, /FETCH/)).at(-1)!, /^\* 1 FETCH \((UID 1 )?FLAGS \((\\Recent )?\\Flagged\)\)$/);
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await until(a, /Deleted/);
    await b.ok('EXPUNGE');
    assert.deepEqual(await until(a, /EXPUNGE/), ['* 1 EXPUNGE']);
    await b.ok('CLOSE');
    await b.ok('DELETE Lists/Notify');
    assert.deepEqual(await until(a, /Notify/), ['* LIST (\\NonExistent) "/" Lists/Notify']);
    // The selected mailbox never gets a STATUS; its own changes came as above.
    await silent(a);
    await a.ok('NOOP');
  });

  it('RFC 5465 3.1 example: STATUS for a watched subtree, then EXISTS and the FETCH asked for', async () => {
    await b.ok('CREATE Lists/Lemonade');
    await b.ok('CREATE Lists/Im2000');
    await a.ok('SELECT INBOX');
    const r = await a.ok('notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))');
    const statuses = r.untagged.filter((l) => l.startsWith('* STATUS')).map((l) => l.replace(/UIDVALIDITY \d+/, 'UIDVALIDITY v')).sort();
    assert.deepEqual(statuses, [
      '* STATUS Lists (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0)',
      '* STATUS Lists/Im2000 (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0)',
      '* STATUS Lists/Lemonade (MESSAGES 0 UIDNEXT 1 UIDVALIDITY v UNSEEN 0)',
    ]);
    await b.append('INBOX', message('example'));
    const lines = await until(a, /FETCH/);
    assert.match(lines.at(-1)!, /^\* \d+ FETCH \(UID \d+ BODY\[HEADER\.FIELDS \(from to subject\)\] \{\d+\}\r\nFrom: Alice <alice@example.org>\r\nTo: mjl@example.org\r\nSubject: example\r\n\r\n\)$/);
    // RFC 5465 5.2: the session's own APPEND gets its EXISTS, not the FETCH.
    const own = await a.append('INBOX', message('own'));
    assert.ok(own.untagged.some((l) => / EXISTS$/.test(l)), own.untagged.join('\n'));
    assert.ok(!own.untagged.some((l) => l.includes('FETCH')), own.untagged.join('\n'));
    await b.append('Lists/Lemonade', message('list mail'));
    assert.match((await until(a, /STATUS/)).at(-1)!, /^\* STATUS Lists\/Lemonade \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    await b.ok('DELETE Lists/Lemonade');
    await b.ok('DELETE Lists/Im2000');
    // INBOX empty again for the tests below.
    await b.ok('SELECT INBOX');
    await b.ok('STORE 1:* +FLAGS.SILENT (\\Deleted)');
    await b.ok('EXPUNGE');
    await b.ok('CLOSE');
    await until(a, /EXPUNGE/);
  });

  it('filters: only the mailboxes and events asked for', async () => {
    await b.ok('CREATE f1');
    await b.ok('CREATE f2');
    await b.ok('CREATE tree/one/two');
    await a.ok('NOTIFY SET (mailboxes f1 (MessageNew MessageExpunge)) (subtree-one tree (MailboxName)) (inboxes (MessageNew MessageExpunge))');
    await b.append('f2', message('not watched'));
    await b.ok('CREATE tree/one/three/four');
    await silent(a);
    await b.append('f1', message('watched'));
    assert.match((await until(a, /STATUS/))[0]!, /^\* STATUS f1 \(MESSAGES 1 UIDNEXT 2 /);
    await b.ok('CREATE tree/direct');
    assert.deepEqual(await until(a, /tree/), ['* LIST (\\HasNoChildren) "/" tree/direct']);
    // A flag change in another mailbox: STATUS only with FlagChange (RFC 5465 5.1).
    await b.ok('SELECT f1');
    await b.ok('STORE 1 +FLAGS (\\Seen)');
    await silent(a);
    await a.ok('NOTIFY SET (mailboxes f1 (MessageNew MessageExpunge FlagChange))');
    await b.ok('STORE 1 -FLAGS (\\Seen)');
    assert.match((await until(a, /STATUS/)).at(-1)!, /^\* STATUS f1 \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    await b.ok('CLOSE');
  });

  it('STATUS indicator: a STATUS for each watched mailbox but the selected one before the tagged OK', async () => {
    await a.ok('SELECT INBOX (CONDSTORE)');
    const r = await a.ok('NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (subtree tree (MessageNew MessageExpunge)) (inboxes (MessageNew MessageExpunge))');
    const names = r.untagged.filter((l) => l.startsWith('* STATUS ')).map((l) => l.split(' ')[2]);
    assert.deepEqual(names.sort(), ['tree', 'tree/direct', 'tree/one', 'tree/one/three', 'tree/one/three/four', 'tree/one/two']);
    assert.match(r.untagged[0]!, /^\* STATUS \S+ \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0 HIGHESTMODSEQ \d+\)$/);
  });

  it('selected-delayed: new messages at once, expunges only at a command that allows them', async () => {
    await a.ok('NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange))');
    await b.ok('SELECT INBOX');
    await b.append('INBOX', message('one'));
    await b.append('INBOX', message('two'));
    await until(a, /^\* 2 EXISTS/);
    await b.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.ok('EXPUNGE');
    await b.append('INBOX', message('three'));
    // The new message is pushed; the expunged one keeps its number.
    assert.deepEqual((await until(a, /EXISTS/)).filter((l) => /EXISTS|EXPUNGE/.test(l)), ['* 3 EXISTS']);
    const fetch = await a.ok('FETCH 1:* (UID)');
    assert.ok(!fetch.untagged.some((l) => l.includes('EXPUNGE')), fetch.untagged.join('\n'));
    assert.equal(fetch.untagged.filter((l) => /FETCH \(UID \d+\)$/.test(l)).length, 3, fetch.untagged.join('\n'));
    const noop = await a.ok('NOOP');
    assert.deepEqual(noop.untagged, ['* 1 EXPUNGE']);
    await b.ok('CLOSE');
  });

  it('NOTIFY NONE: nothing unasked, not even in IDLE', async () => {
    await a.ok('NOTIFY NONE');
    await b.ok('CREATE none-1');
    await b.append('INBOX', message('quiet'));
    await silent(a);
    // The base protocol still reports them at the end of a command (RFC 9051 7.3.1).
    const idle = await quietIdle(a, () => b.append('INBOX', message('quiet too')));
    assert.ok(idle.includes('* 4 EXISTS'), JSON.stringify(idle));
    // NOTIFY NONE as a session's first NOTIFY has the same effect.
    const c = await h.client();
    await c.ok('SELECT INBOX');
    await c.ok('NOTIFY NONE');
    assert.ok((await quietIdle(c, () => b.append('INBOX', message('quiet as well')))).includes('* 5 EXISTS'));
    c.destroy();
  });

  it('more queued notifications than the limit: * OK [NOTIFICATIONOVERFLOW], then NOTIFY NONE applies', async () => {
    await a.ok('NOTIFY SET (personal (MailboxName))');
    // While A is inside an APPEND, notifications are held for it.
    const data = Buffer.from(message('held'));
    const tag = a.nextTag();
    a.write(`${tag} APPEND INBOX {${data.length}}\r\n`);
    assert.match(await a.readLine(), /^\+/);
    for (let i = 0; i <= QUEUE_LIMIT; i++) await b.ok(`CREATE over-${i}`);
    a.write(Buffer.concat([data, Buffer.from('\r\n')]));
    const r = await a.reply(tag);
    assert.equal(r.status, 'OK');
    const lines = r.untagged.some((l) => l.includes('NOTIFICATIONOVERFLOW')) ? r.untagged : [...r.untagged, ...(await until(a, /NOTIFICATIONOVERFLOW/))];
    assert.ok(lines.includes('* OK [NOTIFICATIONOVERFLOW] too many notifications queued; NOTIFY NONE now applies'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('* LIST')), lines.join('\n'));
    await b.ok('CREATE over-after');
    await silent(a);
    await a.ok('NOOP');
  });

  it('python3 imaplib: NOTIFY SET, then LIST and STATUS responses another session caused', async () => {
    const script = `
import imaplib, ssl, time
imaplib.Commands['NOTIFY'] = ('AUTH', 'SELECTED')
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
print('caps', 'NOTIFY' in m.capabilities)
print('notify', m._simple_command('NOTIFY', 'SET', '(personal (MessageNew MessageExpunge MailboxName))')[0])
print('ready', flush=True)
import sys; sys.stdin.readline()
m.noop()
print('list', m.untagged_responses.get('LIST'))
print('status', m.untagged_responses.get('STATUS'))
try:
    m._simple_command('NOTIFY', 'SET', '(selected (MailboxName))')
except m.error as e:
    print('bad', e)
m.logout()
`;
    const child = execFile('python3', ['-c', script], { timeout: 20000 });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    await b.ok('CREATE from-python-peer');
    await b.append('from-python-peer', message('p'));
    await new Promise((r) => setTimeout(r, 200));
    child.stdin!.end('\n');
    assert.equal(await done, 0, out);
    assert.match(out, /^caps True$/m);
    assert.match(out, /^notify OK$/m);
    assert.match(out, /^list \[b'\(\\\\HasNoChildren\) "\/" from-python-peer'\]$/m);
    assert.match(out, /^status \[b'from-python-peer \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)'\]$/m);
    assert.match(out, /^bad NOTIFY command error: BAD /m);
  });

  it('hidden from an account (postern account capabilities): not advertised, and the command is BAD', async () => {
    await h.store.setHiddenCapabilities('mjl', ['NOTIFY']);
    const c = await h.client();
    const caps = (await c.ok('CAPABILITY')).untagged.find((l) => l.startsWith('* CAPABILITY '))!.split(' ');
    assert.ok(!caps.includes('NOTIFY'));
    await c.bad('NOTIFY SET (personal (MailboxName))');
    await c.ok('NOOP');
    c.destroy();
    await h.store.setHiddenCapabilities('mjl', []);
  });
});
