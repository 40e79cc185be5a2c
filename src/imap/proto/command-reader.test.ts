import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type ReaderEvent } from './command-reader.js';
import { DEFAULT_READER_LIMITS } from './limits.js';

function drain(r: CommandReader): ReaderEvent[] {
  const out: ReaderEvent[] = [];
  for (let e = r.next(); e; e = r.next()) out.push(e);
  return out;
}

describe('CommandReader', () => {
  it('splits lines and collects literals across pushes', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a LOGIN {3}\r\nab'));
    assert.deepEqual(drain(r).map((e) => e.kind), ['continue']);
    r.push(Buffer.from('c "pw"\r\nb NOOP\r\n'));
    const ev = drain(r);
    assert.equal(ev.length, 2);
    assert.equal(ev[0]!.kind, 'command');
    const parts = (ev[0] as Extract<ReaderEvent, { kind: 'command' }>).parts;
    assert.equal(parts[0]!.text.toString(), 'a LOGIN ');
    assert.deepEqual(parts[0]!.literal, { kind: 'data', data: Buffer.from('abc'), binary: false });
    assert.equal(parts[1]!.text.toString(), ' "pw"');
  });

  it('refuses a sync literal over the size limit without a continuation and goes on', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a LOGIN {102401}\r\nb NOOP\r\n'));
    const ev = drain(r);
    assert.deepEqual(ev[0], { kind: 'toobig', tag: 'a', sync: true, message: 'literal of 102401 bytes is over the limit of 102400' });
    assert.equal(ev[1]!.kind, 'command');
  });

  it('before login the literals of one command total at most maxLiteralBytesBeforeAuth; after login maxLiteralBytesPerCommand', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    const big = 'x'.repeat(60 * 1024);
    r.push(Buffer.from(`a LOGIN {${big.length}}\r\n`));
    assert.deepEqual(drain(r).map((e) => e.kind), ['continue']);
    r.push(Buffer.from(`${big} {${big.length}}\r\n`));
    assert.deepEqual(drain(r), [{ kind: 'toobig', tag: 'a', sync: true, message: 'literals of one command over 102400 bytes before login' }]);
    r.authenticated = true;
    r.push(Buffer.from(`b SEARCH TEXT {${big.length}}\r\n`));
    assert.deepEqual(drain(r).map((e) => e.kind), ['continue']);
    r.push(Buffer.from(`${big} TEXT {${big.length}}\r\n`));
    assert.deepEqual(drain(r).map((e) => e.kind), ['continue']);
  });

  it('a message literal rejected as fatal leaves the reader dead (nothing of it is read)', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a APPEND INBOX {4294967296+}\r\nxxxx'));
    assert.equal(drain(r)[0]!.kind, 'message-literal');
    r.rejectMessage(true);
    assert.equal(r.dead, true);
    assert.equal(r.buffered, 0);
    r.push(Buffer.from('b NOOP\r\n'));
    assert.deepEqual(drain(r), []);
  });

  it('is dead after a non-sync literal over a limit', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a LOGIN {102401+}\r\nxxxx'));
    const ev = drain(r);
    assert.equal(ev[0]!.kind, 'toobig');
    assert.equal(r.dead, true);
  });

  it('counts literals and their total per command', () => {
    const r = new CommandReader({ ...DEFAULT_READER_LIMITS, maxLiteralsPerCommand: 2, maxLiteralBytesPerCommand: 10 });
    r.push(Buffer.from('a X {1+}\r\nx {1+}\r\ny {1}\r\n'));
    const ev = drain(r);
    assert.equal(ev.at(-1)!.kind, 'toobig');
    assert.match((ev.at(-1) as { message: string }).message, /more than 2 literals/);
    r.push(Buffer.from('b X {6+}\r\nxxxxxx {5}\r\n'));
    assert.match((drain(r).at(-1) as { message: string }).message, /over 10 bytes/);
  });

  it('streams APPEND message literals after a decision', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a APPEND INBOX (\\Seen) {5}\r\n'));
    const [ev] = drain(r);
    assert.equal(ev!.kind, 'message-literal');
    assert.equal(r.next(), null);
    r.acceptMessage();
    r.push(Buffer.from('hel'));
    r.push(Buffer.from('lo\r\n'));
    const kinds = drain(r).map((e) => (e.kind === 'message-data' ? e.chunk.toString() : e.kind));
    assert.deepEqual(kinds, ['hel', 'lo', 'message-end', 'command']);
  });

  it('treats the mailbox literal of APPEND as a string', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a APPEND {5}\r\n'));
    assert.equal(drain(r)[0]!.kind, 'continue');
  });

  it('streams REPLACE and UID REPLACE message literals; their mailbox literal is a string (RFC 8508)', () => {
    const kindOf = (line: string): string => {
      const r = new CommandReader(DEFAULT_READER_LIMITS);
      r.push(Buffer.from(line));
      return drain(r)[0]!.kind;
    };
    assert.equal(kindOf('a REPLACE 4 Drafts (\\Seen) {5}\r\n'), 'message-literal');
    assert.equal(kindOf('a uid replace 4 Drafts ~{5}\r\n'), 'message-literal');
    assert.equal(kindOf('a REPLACE 4 {6}\r\n'), 'continue');
    assert.equal(kindOf('a UID REPLACE * {6}\r\n'), 'continue');
    // After the mailbox literal, the next literal is the message.
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a REPLACE 1 {6}\r\nDrafts {5}\r\n'));
    assert.deepEqual(drain(r).map((e) => e.kind), ['continue', 'message-literal']);
  });

  it('CATENATE (RFC 4469 5): a TEXT literal is message data, a URL literal a string', () => {
    const kinds = (line: string): string[] => {
      const r = new CommandReader(DEFAULT_READER_LIMITS);
      r.push(Buffer.from(line));
      return drain(r).map((e) => e.kind);
    };
    assert.deepEqual(kinds('a APPEND Drafts CATENATE (TEXT {5}\r\n'), ['message-literal']);
    assert.deepEqual(kinds('a APPEND Drafts CATENATE (URL {7}\r\n'), ['continue']);
    assert.deepEqual(kinds('a REPLACE 1 Drafts CATENATE (TEXT {1+}\r\nx url {7}\r\n'), ['message-literal']);
    // A mailbox named "url": the literal after it is the message.
    assert.deepEqual(kinds('a APPEND url {5}\r\n'), ['message-literal']);
    assert.deepEqual(kinds('a APPEND url CATENATE (URL {5}\r\n'), ['continue']);
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a APPEND Drafts CATENATE (url {7+}\r\n;UID=1 TEXT {2+}\r\nab)\r\n'));
    const [lit] = drain(r);
    assert.equal(lit!.kind, 'message-literal');
    assert.ok(lit!.kind === 'message-literal' && lit!.prefix[0]!.literal?.kind === 'data');
  });

  it('rejects over-long lines', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.alloc(DEFAULT_READER_LIMITS.maxLineLength + 100, 0x61));
    assert.equal(drain(r)[0]!.kind, 'line-too-long');
  });

  it('takeUnread hands back the bytes after the command just read (COMPRESS: they are compressed)', () => {
    const r = new CommandReader(DEFAULT_READER_LIMITS);
    r.push(Buffer.from('a COMPRESS DEFLATE\r\n\x01\x02'));
    r.push(Buffer.from('\x03'));
    const ev = r.next();
    assert.equal(ev?.kind, 'command');
    assert.deepEqual(Buffer.concat(r.takeUnread()), Buffer.from([1, 2, 3]));
    assert.equal(r.buffered, 0);
    assert.equal(r.next(), null);
    r.push(Buffer.from('b NOOP\r\n'));
    assert.equal(r.next()?.kind, 'command');
  });
});
