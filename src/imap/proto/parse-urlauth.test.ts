import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type CommandPart } from './command-reader.js';
import { DEFAULT_READER_LIMITS, MAX_URLAUTH_URLS_PER_COMMAND } from './limits.js';
import { parseCommand } from './parse-command.js';
import { ImapSyntaxError } from './syntax-error.js';

function parts(s: string): CommandPart[] {
  const r = new CommandReader({ ...DEFAULT_READER_LIMITS, maxLineLength: 1 << 20 });
  r.push(Buffer.from(s + '\r\n'));
  const e = r.next();
  if (e?.kind !== 'command') throw new Error('no command');
  return e.parts;
}
const parse = (s: string) => parseCommand(parts(s));
const U = 'imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred';

describe('URLAUTH command syntax (RFC 4467 9, RFC 5524)', () => {
  it('GENURLAUTH: url and mechanism pairs, mechanisms upper-cased', () => {
    assert.deepEqual(parse(`a GENURLAUTH "${U}" INTERNAL ${U} internal`), {
      tag: 'a', name: 'GENURLAUTH', urls: [{ url: U, mechanism: 'INTERNAL' }, { url: U, mechanism: 'INTERNAL' }],
    });
    for (const bad of ['a GENURLAUTH', `a GENURLAUTH "${U}"`, `a GENURLAUTH "${U}" INTERNAL "${U}"`, `a GENURLAUTH "${U}" IN_TERNAL`]) {
      assert.throws(() => parse(bad), ImapSyntaxError, bad);
    }
    const many = Array.from({ length: MAX_URLAUTH_URLS_PER_COMMAND + 1 }, () => `"${U}" INTERNAL`).join(' ');
    assert.throws(() => parse(`a GENURLAUTH ${many}`), ImapSyntaxError);
  });

  it('RESETKEY: no arguments, a mailbox, a mailbox and mechanisms', () => {
    assert.deepEqual(parse('a RESETKEY'), { tag: 'a', name: 'RESETKEY', mailbox: null, mechanisms: [] });
    assert.deepEqual(parse('a RESETKEY INBOX'), { tag: 'a', name: 'RESETKEY', mailbox: 'INBOX', mechanisms: [] });
    assert.deepEqual(parse('a RESETKEY "My Box" internal XSAMPLE'), { tag: 'a', name: 'RESETKEY', mailbox: 'My Box', mechanisms: ['INTERNAL', 'XSAMPLE'] });
    assert.throws(() => parse('a RESETKEY INBOX (INTERNAL)'), ImapSyntaxError);
  });

  it('URLFETCH: plain URLs and the parenthesized form of RFC 5524', () => {
    assert.deepEqual(parse(`a URLFETCH "${U}:internal:00" ${U}`), {
      tag: 'a', name: 'URLFETCH', urls: [{ url: `${U}:internal:00`, modifiers: null }, { url: U, modifiers: null }],
    });
    const x = parse(`a URLFETCH ("${U}" BINARY BODYPARTSTRUCTURE)`);
    assert.ok(x.name === 'URLFETCH');
    if (x.name === 'URLFETCH') assert.deepEqual(x.urls[0]!.modifiers, { body: false, binary: true, bodyPartStructure: true });
    for (const bad of ['a URLFETCH', `a URLFETCH ("${U}" BODY BINARY)`, `a URLFETCH ("${U}" FOO)`, `a URLFETCH ("${U}"`]) {
      assert.throws(() => parse(bad), ImapSyntaxError, bad);
    }
  });
});
