import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type CommandPart } from './command-reader.js';
import { DEFAULT_READER_LIMITS } from './limits.js';
import { parseCommand } from './parse-command.js';
import { ImapSyntaxError } from './syntax-error.js';

function parts(s: string): CommandPart[] {
  const r = new CommandReader(DEFAULT_READER_LIMITS);
  r.push(Buffer.from(s + '\r\n'));
  const e = r.next();
  assert.ok(e && e.kind === 'command');
  return e.parts;
}
const parse = (s: string) => parseCommand(parts(s));

describe('SORT and THREAD parsing (RFC 5256 5, RFC 5267 3.2)', () => {
  it('criteria with REVERSE, charset, search keys, RETURN with PARTIAL', () => {
    const c = parse('a UID SORT RETURN (MIN COUNT PARTIAL 10:1) (REVERSE DATE subject DISPLAYFROM) utf-8 SUBJECT x NOT SEEN');
    assert.equal(c.name, 'SORT');
    if (c.name !== 'SORT') return;
    assert.equal(c.uid, true);
    assert.deepEqual(c.returnOpts, { opts: ['MIN', 'COUNT'], partial: { first: 1, last: 10 } });
    assert.deepEqual(c.criteria, [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }, { key: 'DISPLAYFROM', reverse: false }]);
    assert.equal(c.charset, 'utf-8');
    assert.deepEqual(c.key, { op: 'and', keys: [{ op: 'header', field: 'subject', value: 'x' }, { op: 'not', key: { op: 'flag', flag: '\\Seen', present: true } }] });
    const t = parse('b THREAD references US-ASCII ALL');
    assert.deepEqual(t, { tag: 'b', name: 'THREAD', uid: false, algorithm: 'REFERENCES', charset: 'US-ASCII', key: { op: 'all' } });
  });

  it('syntax errors; an unknown charset is BADCHARSET', () => {
    for (const bad of ['a SORT (DATE DATE', 'a SORT (REVERSE REVERSE DATE) UTF-8 ALL', 'a SORT (DATE) UTF-8 ALL)', 'a THREAD ORDEREDSUBJECT UTF-8 (', 'a SORT RETURN (PARTIAL 0:1) (DATE) UTF-8 ALL']) {
      assert.throws(() => parse(bad), (e: unknown) => e instanceof ImapSyntaxError && e.code === null, bad);
    }
    assert.throws(() => parse('a SORT (DATE) X-NOPE ALL'), (e: unknown) => e instanceof ImapSyntaxError && e.code === 'BADCHARSET (UTF-8 US-ASCII)');
  });

  it('SEARCH RETURN (PARTIAL)', () => {
    const c = parse('a SEARCH RETURN (PARTIAL 1:100 COUNT) ALL');
    assert.ok(c.name === 'SEARCH');
    if (c.name !== 'SEARCH') return;
    assert.deepEqual(c.returnOpts, ['COUNT']);
    assert.deepEqual(c.partial, { first: 1, last: 100 });
  });
});
