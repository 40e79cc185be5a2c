import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatThreads, threadOrderedSubject, threadReferences, type ThreadInput, type ThreadNode } from './thread-algorithms.js';

/** Message n (1-based) with a date in minutes, base subject, Message-ID and parents. */
function m(n: number, date: number, subject: string, id: string | null, parents: string[] = [], replyOrForward = parents.length > 0): ThreadInput {
  return { n, date: date * 60_000, subject, replyOrForward, messageId: id, parents };
}

const refs = (msgs: ThreadInput[]) => formatThreads(threadReferences(msgs), (i) => msgs[i]!.n);
const ordered = (msgs: ThreadInput[]) => formatThreads(threadOrderedSubject(msgs), (i) => msgs[i]!.n);

describe('THREAD=REFERENCES (RFC 5256 4)', () => {
  it('links replies, forks and chains; siblings by date', () => {
    const msgs = [
      m(1, 1, 'A', 'a'),
      m(2, 5, 'A', 'b', ['a']),
      m(3, 3, 'A', 'c', ['a']),
      m(4, 4, 'A', 'd', ['a', 'c']),
      m(5, 2, 'B', 'e'),
    ];
    assert.equal(refs(msgs), '(1 (3 4)(2))(5)');
  });

  it('missing parents: a dummy with one child is dropped, with several it groups them', () => {
    // 1 and 2 both reply to a message not in the mailbox: they are grouped under a dummy.
    assert.equal(refs([m(1, 1, 'X', 'a', ['gone']), m(2, 2, 'Y', 'b', ['gone'])]), '((1)(2))');
    // One reply to a missing message: the reply is the root.
    assert.equal(refs([m(1, 1, 'X', 'a', ['gone']), m(2, 2, 'Y', 'b')]), '(1)(2)');
    // A missing message in the middle of a chain: the grandchild goes up to the grandparent.
    assert.equal(refs([m(1, 1, 'X', 'a'), m(2, 2, 'Y', 'c', ['a', 'gone'])]), '(1 2)');
  });

  it('loops in References do not hang nor lose messages', () => {
    // a says its parent is b, b says its parent is a.
    assert.equal(refs([m(1, 1, 'X', 'a', ['b']), m(2, 2, 'Y', 'b', ['a'])]), '(2 1)');
    // A message that names itself, and a References list that cycles.
    assert.equal(refs([m(1, 1, 'X', 'a', ['a']), m(2, 2, 'Y', 'b', ['c', 'b', 'c'])]), '(1)(2)');
    const out = refs([m(1, 1, 'X', 'a', ['c', 'b']), m(2, 2, 'Y', 'b', ['a', 'c']), m(3, 3, 'Z', 'c', ['b', 'a'])]);
    assert.deepEqual(out.match(/\d+/g)!.map(Number).sort(), [1, 2, 3]);
  });

  it('duplicate Message-IDs: the later message gets an id of its own', () => {
    const msgs = [m(1, 1, 'X', 'a'), m(2, 2, 'Y', 'a'), m(3, 3, 'X', 'r', ['a'])];
    assert.equal(refs(msgs), '(1 3)(2)');
    // Missing Message-IDs never match each other.
    assert.equal(refs([m(1, 1, 'P', null), m(2, 2, 'Q', null)]), '(1)(2)');
  });

  it('a parent guessed from a truncated References is replaced by the message\'s own', () => {
    // 2 says a <- b <- c; then c itself says its parent is a.
    assert.equal(refs([m(1, 1, 'X', 'a'), m(2, 2, 'X', 'b', ['a']), m(3, 3, 'X', 'd', ['a', 'b', 'c']), m(4, 4, 'X', 'c', ['a'])]), '(1 (2)(4 3))');
  });

  it('step 5: threads with one base subject are gathered', () => {
    // Not a reply (2) joins... a dummy made for two non-replies with one subject.
    assert.equal(refs([m(1, 1, 'S', 'a'), m(2, 2, 'S', 'b')]), '((1)(2))');
    // A reply without references goes under the original with its subject.
    assert.equal(refs([m(1, 1, 'S', 'a'), m(2, 2, 'S', 'b', [], true)]), '(1 2)');
    // The original arrives after the reply: the reply still goes under it.
    assert.equal(refs([m(1, 2, 'S', 'b', [], true), m(2, 1, 'S', 'a')]), '(2 1)');
    // Empty subjects are never gathered.
    assert.equal(refs([m(1, 1, '', 'a'), m(2, 2, '', 'b')]), '(1)(2)');
  });

  it('a chain as deep as the mailbox is no problem (no recursion)', () => {
    const msgs = Array.from({ length: 50_000 }, (_, i) => m(i + 1, i, 'D', `id${i}`, i ? [`id${i - 1}`] : []));
    const out = refs(msgs);
    assert.ok(out.startsWith('(1 2 3 '));
    assert.ok(out.endsWith(' 49999 50000)'));
  });

  it('empty input', () => {
    assert.equal(refs([]), '');
  });
});

describe('THREAD=ORDEREDSUBJECT (RFC 5256 4)', () => {
  it('groups by base subject under the oldest, threads by their first date', () => {
    const msgs = [m(1, 5, 'B', null), m(2, 1, 'A', null), m(3, 3, 'A', null), m(4, 2, 'A', null), m(5, 4, 'C', null)];
    assert.equal(ordered(msgs), '(2 (4)(3))(5)(1)');
    assert.equal(ordered([m(1, 1, 'A', null), m(2, 1, 'A', null)]), '(1 2)');
    assert.equal(ordered([]), '');
  });
});

describe('THREAD response format (RFC 5256 5)', () => {
  it('the RFC example: a chain, then a fork into two chains', () => {
    const node = (msg: number, ...children: ThreadNode[]): ThreadNode => ({ msg, children });
    const tree = node(3, node(6, node(4, node(23)), node(44, node(7, node(96)))));
    assert.equal(formatThreads([tree], (i) => i), '(3 6 (4 23)(44 7 96))');
    // A dummy root shows only its children; single messages are threads of their own.
    assert.equal(formatThreads([node(-1, node(1), node(2, node(5))), node(9)], (i) => i), '((1)(2 5))(9)');
  });
});
