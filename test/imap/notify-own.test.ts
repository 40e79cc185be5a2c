// RFC 5465 5: "The server SHOULD omit notifying the client if the event is caused by this client."
// A NOTIFY session's own CREATE (with the parents it makes), SUBSCRIBE, RENAME, SETMETADATA and
// DELETE are not reported back to it, neither in the command's reply nor after; the same changes
// made by a second session still are. (Dovecot 2.3 reports them to the session that made them:
// notify-dovecot.test.ts lists the difference.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Client, type Harness } from './harness.js';
import { silent } from './notify-support.js';

describe('NOTIFY: a session is not told of the mailbox events it caused (RFC 5465 5)', () => {
  let h: Harness;
  let a: Client;
  let b: Client;
  before(async () => {
    h = await startHarness();
    a = await h.client();
    b = await h.client();
    await a.ok('NOTIFY SET (personal (MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))');
  });
  after(async () => {
    a?.destroy();
    b?.destroy();
    await h?.close();
  });

  it('its own CREATE, SUBSCRIBE, RENAME, SETMETADATA and DELETE: nothing in the reply, nothing after', async () => {
    for (const cmd of [
      'CREATE own/child',
      'SUBSCRIBE own',
      'UNSUBSCRIBE own',
      'RENAME own mine',
      'SETMETADATA mine (/private/comment "x")',
      'SETMETADATA "" (/private/comment "y")',
      'DELETE mine/child',
      'DELETE mine',
    ]) {
      const r = await a.ok(cmd);
      assert.deepEqual(r.untagged, [], cmd);
      await silent(a, 150);
    }
  });

  it("the same changes by another session are reported", async () => {
    await b.ok('CREATE theirs/child');
    const lines = [await a.readLine(), await a.readLine()].sort();
    // The parent's children attribute is as it was when its LIST was made (the child may be newer).
    assert.match(lines[0]!, /^\* LIST \(\\Has(?:No)?Children\) "\/" theirs$/);
    assert.equal(lines[1], '* LIST (\\HasNoChildren) "/" theirs/child');
    await b.ok('SUBSCRIBE theirs');
    assert.equal(await a.readLine(), '* LIST (\\HasChildren \\Subscribed) "/" theirs');
    await b.ok('SETMETADATA theirs (/private/comment "z")');
    assert.equal(await a.readLine(), '* METADATA theirs /private/comment');
    await b.ok('RENAME theirs/child theirs/kid');
    assert.equal(await a.readLine(), '* LIST (\\HasNoChildren) "/" theirs/kid ("OLDNAME" (theirs/child))');
    // A's own command in between changes nothing for B's events.
    await a.ok('CREATE mine2');
    await b.ok('DELETE theirs/kid');
    assert.equal(await a.readLine(), '* LIST (\\NonExistent) "/" theirs/kid');
    await silent(a);
  });

  it("a failed command of its own swallows nothing", async () => {
    // CREATE of an existing name fails (NO): it caused no event, and the session goes on.
    await a.no('CREATE mine2', 'ALREADYEXISTS');
    await b.ok('DELETE mine2');
    assert.equal(await a.readLine(), '* LIST (\\NonExistent) "/" mine2');
  });
});
