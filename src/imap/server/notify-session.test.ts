// The own-event window of a NOTIFY session (RFC 5465 5): changes a running command causes are held
// and dropped when it succeeds; when it fails they were another session's and are queued then.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type CommandPart } from '../proto/command-reader.js';
import { DEFAULT_READER_LIMITS } from '../proto/limits.js';
import { parseCommand } from '../proto/parse-command.js';
import type { Change } from '../../store/change-feed.js';
import { NotifySession, ownEventsOf } from './notify-session.js';
import { compileNotify } from './notify-spec.js';

function parse(line: string) {
  const r = new CommandReader(DEFAULT_READER_LIMITS);
  r.push(Buffer.from(`${line}\r\n`));
  const e = r.next();
  assert.ok(e?.kind === 'command');
  return parseCommand(e.parts as CommandPart[]);
}

function session(): NotifySession {
  const cmd = parse('a NOTIFY SET (personal (MailboxName SubscriptionChange MailboxMetadataChange))');
  assert.ok(cmd.name === 'NOTIFY' && cmd.set);
  return new NotifySession(compileNotify(cmd.set, (w) => w), 100);
}

const own = (line: string) => ownEventsOf(parse(line), (w) => w);
const created = (name: string): Change => ({ kind: 'mailbox-create', mailboxId: 1, name });

describe('NotifySession own events', () => {
  it('CREATE holds its own event and its parents, not others; success drops them', () => {
    const s = session();
    assert.ok(s.startOwn(own('a CREATE x/y/')));
    assert.equal(s.collect([created('x'), created('x/y')], null), false);
    assert.equal(s.hasPending, false);
    // Another name is not the command's: queued at once.
    assert.equal(s.collect([created('z')], null), true);
    assert.equal(s.endOwn(true, null), false);
  });

  it('a failed command queues what it held', () => {
    const s = session();
    assert.ok(s.startOwn(own('a CREATE x')));
    assert.equal(s.collect([created('x')], null), false);
    assert.equal(s.endOwn(false, null), true);
    assert.equal(s.hasPending, true);
  });

  it('RENAME, SUBSCRIBE, SETMETADATA and DELETE match their own kinds and names only', () => {
    const rename = own('a RENAME old new')!;
    assert.ok(rename({ kind: 'mailbox-rename', mailboxId: 1, name: 'new/sub', oldName: 'old/sub' }));
    assert.ok(!rename({ kind: 'mailbox-rename', mailboxId: 1, name: 'newer', oldName: 'x' }));
    const sub = own('a SUBSCRIBE box')!;
    assert.ok(sub({ kind: 'subscription', name: 'box', subscribed: true }));
    assert.ok(!sub(created('box')));
    assert.ok(!sub({ kind: 'subscription', name: 'box', subscribed: false }));
    const meta = own('a SETMETADATA "" (/private/comment "x")')!;
    assert.ok(meta({ kind: 'metadata', mailbox: null, entries: ['/private/comment'] }));
    assert.ok(!meta({ kind: 'metadata', mailbox: { id: 1, name: 'box' }, entries: ['/private/comment'] }));
    assert.ok(!meta({ kind: 'metadata', mailbox: null, entries: ['/private/other'] }));
    const del = own('a DELETE box')!;
    assert.ok(del({ kind: 'mailbox-delete', mailboxId: 1, name: 'box' }));
    assert.equal(own('a NOOP'), null);
  });
});
