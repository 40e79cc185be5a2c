// Found by the soak (bench/soak.ts): a session reading a message that another session has just
// expunged gets `NO [SERVERBUG]`. The expunging session's commit removes the message file at once;
// the other session still lists the message (it learns of the expunge only at its next command
// that may send EXPUNGE, RFC 9051 7.5.1), and message-loader.ts readBlob() fails with ENOENT, which
// connection.ts answers as an internal error. RFC 9051 allows answering with the data or with
// `NO [EXPUNGEISSUED]`; an internal error is neither.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImapClient, ImapClientError } from '../../src/imap/client/index.js';
import { ADDRESS, PASSWORD, startTestServer, type TestServer } from '../e2e/server-harness.js';

describe('reading a message another session expunged', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ services: ['imaps'] });
  });
  after(async () => s?.stop());

  const connect = (): Promise<ImapClient> => ImapClient.connect({ host: '127.0.0.1', port: s.ports.imaps!, tls: 'implicit', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });

  for (const [what, command] of [
    ['SEARCH HEADER', 'UID SEARCH HEADER Subject "race"'],
    ['SEARCH BODY', 'UID SEARCH BODY "content"'],
    ['FETCH BODY[]', 'UID FETCH 1:* (BODY.PEEK[])'],
  ] as const) {
    it(`${what}: the data or NO [EXPUNGEISSUED], never NO [SERVERBUG]`, async () => {
      const a = await connect();
      const b = await connect();
      try {
        await b.select('INBOX');
        if (b.mailbox!.exists) {
          await b.store('1:*', { add: ['\\Deleted'] }, { silent: true });
          await b.expunge();
        }
        await b.append('INBOX', `From: ${ADDRESS}\r\nSubject: race\r\n\r\ncontent\r\n`);
        await a.select('INBOX');
        await b.noop();
        await b.store('1:*', { add: ['\\Deleted'] }, { silent: true });
        await b.expunge();
        await new Promise((r) => setTimeout(r, 200));
        // `a` has not been told yet: the message is still in its view.
        try {
          await a.raw(command).then((r) => {
            if (r.status.status !== 'OK') throw new ImapClientError('no', r.status.text, { response: r.status });
          });
        } catch (err) {
          assert.ok(err instanceof ImapClientError, String(err));
          assert.notEqual(err.code?.name, 'SERVERBUG', `${command}: ${err.message}`);
        }
      } finally {
        a.close();
        b.close();
      }
    });
  }
});
