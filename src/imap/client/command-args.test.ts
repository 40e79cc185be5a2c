import assert from 'node:assert/strict';
import { test } from 'node:test';
import { astring, expandSequenceSet, listPattern, mailboxArg, sequenceSetArg } from './command-args.js';
import { compileSearch } from './search-query.js';

test('astrings: atoms, quoted strings, literals', () => {
  assert.equal(astring('INBOX', false), 'INBOX');
  assert.equal(astring('a b', false), '"a b"');
  assert.equal(astring('say "hi" \\o/', false), '"say \\"hi\\" \\\\o/"');
  assert.equal(astring('NIL', false), '"NIL"');
  assert.equal(astring('', false), '""');
  assert.deepEqual(astring('line\r\nbreak', true), { literal: Buffer.from('line\r\nbreak') });
  assert.deepEqual(astring('café', false), { literal: Buffer.from('café') });
  assert.equal(astring('café', true), '"café"');
});

test('mailbox names use modified UTF-7 unless UTF-8 is enabled', () => {
  assert.equal(mailboxArg('Entwürfe', false), 'Entw&APw-rfe');
  assert.equal(mailboxArg('Entwürfe', true), '"Entwürfe"');
  assert.equal(listPattern('*', false), '*');
  assert.equal(listPattern('Arch%', false), 'Arch%');
});

test('sequence sets compress and expand', () => {
  assert.equal(sequenceSetArg([5, 1, 2, 3, 9, 10, 3]), '1:3,5,9:10');
  assert.equal(sequenceSetArg('1:*'), '1:*');
  assert.equal(sequenceSetArg(7), '7');
  assert.throws(() => sequenceSetArg('1 OR 2'));
  assert.throws(() => sequenceSetArg([0]));
  assert.deepEqual(expandSequenceSet('3:1,7'), [1, 2, 3, 7]);
});

test('search queries compile to keys, grouping sub-queries', () => {
  const { parts, nonAscii } = compileSearch({ seen: false, from: 'alice', or: [{ subject: 'x y', larger: 10 }, { flagged: true }], not: { uid: '1:5' } }, false);
  assert.equal(parts.join(' ').replace(/ \)/g, ')'), 'UNSEEN FROM "alice" NOT (UID 1:5) OR (SUBJECT "x y" LARGER 10) FLAGGED');
  assert.equal(nonAscii, false);
  const u = compileSearch({ subject: 'Grüße', since: new Date('2024-03-05T12:00:00Z') }, false);
  assert.equal(u.nonAscii, true);
  assert.deepEqual(u.parts[1], { literal: Buffer.from('Grüße') });
  assert.deepEqual(u.parts.slice(2), ['SINCE', '5-Mar-2024']);
  assert.deepEqual(compileSearch({}, false).parts, ['ALL']);
});
