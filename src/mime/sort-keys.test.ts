import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessageAndFields } from './mime-tree.js';
import { parseMessageDate } from './message-date.js';
import { MAX_REFERENCES } from './limits.js';
import { messageIds, sortKeys } from './sort-keys.js';

const keys = (header: string) => {
  const buf = Buffer.from(header + '\r\nbody\r\n');
  return sortKeys(buf, parseMessageAndFields(buf).fields);
};

describe('parseMessageDate (RFC 5322 3.3, 4.3)', () => {
  it('reads the usual forms and converts to UTC', () => {
    assert.equal(parseMessageDate('Mon, 1 Jan 2024 10:00:00 +0000'), Date.UTC(2024, 0, 1, 10));
    assert.equal(parseMessageDate('1 Jan 2024 04:00:00 -0500'), Date.UTC(2024, 0, 1, 9));
    assert.equal(parseMessageDate('Mon, 01 Jan 2024 10:00 +0130'), Date.UTC(2024, 0, 1, 8, 30));
    assert.equal(parseMessageDate('Mon, 1 Jan 24 10:00:00 GMT'), Date.UTC(2024, 0, 1, 10));
    assert.equal(parseMessageDate('1 Jan 99 10:00:00 EST'), Date.UTC(1999, 0, 1, 15));
    assert.equal(parseMessageDate('Mon (day), 1 Jan 2024 10:00:00 +0000 (UTC)'), Date.UTC(2024, 0, 1, 10));
    assert.equal(parseMessageDate('Mon, 1 Jan 2024 10:00:00'), Date.UTC(2024, 0, 1, 10));
  });

  it('gives null for what is not a date', () => {
    for (const v of ['', 'not a date at all', '1 Foo 2024 10:00:00 +0000', '32 Jan 2024 10:00:00 +0000', '1 Jan 2024 25:00:00 +0000', '1 Jan 2024']) {
      assert.equal(parseMessageDate(v), null, v);
    }
  });
});

describe('sortKeys', () => {
  it('takes the first address of From, To and Cc; display names decoded, else the address', () => {
    const k = keys('From: "Bob Beta" <bob@example.org>, carl@example.org\r\nTo: =?utf-8?q?=C3=89mile?= <emile@x>\r\nCc: undisclosed:;, dora@x\r\n');
    assert.equal(k.f, 'BOB');
    assert.equal(k.df, 'BOB BETA');
    assert.equal(k.t, 'EMILE');
    assert.equal(k.dt, 'E\u0301MILE');
    // A group first: its name, as the ENVELOPE's group start shows it.
    assert.equal(k.c, 'UNDISCLOSED');
    const q = keys('From: "quoted local"@example.org\r\n');
    assert.equal(q.f, 'QUOTED LOCAL');
    assert.equal(q.df, 'QUOTED LOCAL@EXAMPLE.ORG');
  });

  it('no fields: no keys', () => {
    assert.deepEqual(keys('X-Other: 1\r\n'), {});
  });

  it('sent date, base subject and reply marker', () => {
    const k = keys('Subject: Re: [list] Hello\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n');
    assert.equal(k.s, 'HELLO');
    assert.equal(k.r, 1);
    assert.equal(k.d, Date.UTC(2024, 0, 2, 10));
    assert.equal(keys('Date: garbage\r\n').d, undefined);
  });

  it('Message-ID and parents: References first, else the first In-Reply-To', () => {
    const k = keys('Message-ID: <a@x>\r\nReferences: <r1@x> (comment <no@x>)\r\n <r2@x>\r\nIn-Reply-To: <i@x>\r\n');
    assert.equal(k.m, 'a@x');
    assert.deepEqual(k.p, ['r1@x', 'r2@x']);
    assert.deepEqual(keys('In-Reply-To: <i1@x> <i2@x>\r\n').p, ['i1@x']);
    assert.deepEqual(keys('References: garbage\r\nIn-Reply-To: Your message of <i1@x>\r\n').p, ['i1@x']);
    assert.equal(keys('Message-ID: no-brackets@x\r\n').m, undefined);
    assert.deepEqual(messageIds('<a@b> <not-an-id> <c\r\n @d>'), ['a@b', 'c@d']);
    const many = Array.from({ length: 150 }, (_, i) => `<r${i}@x>`).join(' ');
    const p = keys(`References: ${many}\r\n`).p!;
    assert.equal(p.length, MAX_REFERENCES);
    assert.equal(p[p.length - 1], 'r149@x');
  });
});
