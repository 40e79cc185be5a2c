// METADATA (RFC 5464) command arguments and the LIST-METADATA return option (RFC 9590).
// Entry names are checked here (RFC 5464 3.2: an invalid name is BAD in any command) and
// lower-cased, since entry names are case-insensitive.
import type { Cursor } from './cursor.js';
import { MAX_METADATA_ENTRIES_PER_COMMAND, MAX_METADATA_ENTRY_NAME } from './limits.js';
import type { CommandBody, ListMetadataReturn, MetadataDepth } from './types.js';

/** Why an entry name is invalid (RFC 5464 3.2), or null when it is valid. */
export function entryNameProblem(name: string): string | null {
  if (name.length > MAX_METADATA_ENTRY_NAME) return 'entry name too long';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // RFC 5464 3.2: no non-ASCII, no octets 0x00-0x19 (DEL is a control character too).
    if (c < 0x20 || c >= 0x7f) return 'entry names are printable ASCII';
    if (c === 0x2a || c === 0x25) return 'entry names cannot contain * or %';
  }
  const lower = name.toLowerCase();
  if (lower !== '/private' && lower !== '/shared' && !lower.startsWith('/private/') && !lower.startsWith('/shared/')) {
    return 'entry names start with /private or /shared';
  }
  if (name.includes('//')) return 'entry names cannot contain //';
  if (name.endsWith('/')) return 'entry names cannot end with /';
  return null;
}

/** Why a name cannot be set (beyond entryNameProblem): RFC 5464 3.2 component counts. */
export function settableEntryProblem(name: string): string | null {
  const parts = name.split('/').slice(1);
  if (parts.length < 2) return 'an entry name has at least two components';
  if (parts[1] === 'vendor' && parts.length < 4) return 'vendor entry names have at least four components';
  return null;
}

function entry(c: Cursor): string {
  const name = c.astring('an entry name');
  const problem = entryNameProblem(name);
  if (problem) c.fail(problem);
  return name.toLowerCase();
}

/** entries = entry / "(" entry *(SP entry) ")"; further entries after a space are accepted too (RFC 5464 4.4.1 examples). */
function entries(c: Cursor): string[] {
  const out = c.peek() === 0x28 ? c.list(() => entry(c), false) : [entry(c)];
  while (c.maybeSp()) out.push(entry(c));
  if (out.length > MAX_METADATA_ENTRIES_PER_COMMAND) c.fail('too many entry names');
  return out;
}

/** getmetadata-options (RFC 5464 5): MAXSIZE and DEPTH. */
function options(c: Cursor, into: { maxSize: number | null; depth: MetadataDepth }): void {
  c.list(() => {
    const w = c.atom('a GETMETADATA option').toUpperCase();
    c.sp();
    if (w === 'MAXSIZE') into.maxSize = c.number('a MAXSIZE');
    else if (w === 'DEPTH') {
      if (c.take('infinity')) into.depth = 'infinity';
      else if (c.take('0')) into.depth = 0;
      else if (c.take('1')) into.depth = 1;
      else c.fail('expected DEPTH 0, 1 or infinity');
    } else c.fail(`unknown GETMETADATA option ${w}`);
  }, false);
}

const OPTION_START = ['(MAXSIZE ', '(DEPTH '];

/**
 * "GETMETADATA" [SP options] SP mailbox SP entries (RFC 5464 5). The RFC's own examples put the
 * options after the mailbox; clients follow either, so both places are accepted.
 */
export function parseGetMetadata(c: Cursor): CommandBody {
  const opts: { maxSize: number | null; depth: MetadataDepth } = { maxSize: null, depth: 0 };
  c.sp();
  if (c.peek() === 0x28) {
    options(c, opts);
    c.sp();
  }
  const mailbox = c.astring('a mailbox name');
  c.sp();
  if (OPTION_START.some((w) => c.peekWord(w))) {
    options(c, opts);
    c.sp();
  }
  return { name: 'GETMETADATA', mailbox, entries: entries(c), ...opts };
}

/** "SETMETADATA" SP mailbox SP entry-values; value = nstring / literal8 (RFC 5464 5). */
export function parseSetMetadata(c: Cursor): CommandBody {
  c.sp();
  const mailbox = c.astring('a mailbox name');
  c.sp();
  const seen = new Set<string>();
  const list = c.list(() => {
    const name = entry(c);
    const problem = settableEntryProblem(name);
    if (problem) c.fail(problem);
    if (seen.has(name)) c.fail(`entry ${name} given twice`);
    seen.add(name);
    c.sp();
    let value: Buffer | null;
    if (c.atLiteral() || c.peek() === 0x22) value = c.stringBytes('a value');
    else {
      c.expect('NIL', 'a value');
      value = null;
    }
    return { name, value };
  }, false);
  if (list.length > MAX_METADATA_ENTRIES_PER_COMMAND) c.fail('too many entries');
  return { name: 'SETMETADATA', mailbox, entries: list };
}

/**
 * RFC 9590 3: return option `METADATA (entry ...)`, with MAXSIZE as in GETMETADATA, given
 * as `(MAXSIZE n)` or `MAXSIZE n` before the entries; the cursor is after "METADATA".
 */
export function parseListMetadataReturn(c: Cursor): ListMetadataReturn {
  c.sp();
  const opts: { maxSize: number | null; depth: MetadataDepth } = { maxSize: null, depth: 0 };
  c.expect('(');
  if (c.peek() === 0x28) {
    options(c, opts);
    if (opts.depth !== 0) c.fail('DEPTH is not a LIST-METADATA option');
    c.sp();
  } else if (c.take('MAXSIZE ')) {
    opts.maxSize = c.number('a MAXSIZE');
    c.sp();
  }
  const out: string[] = [entry(c)];
  while (c.maybeSp()) out.push(entry(c));
  c.expect(')');
  if (out.length > MAX_METADATA_ENTRIES_PER_COMMAND) c.fail('too many entry names');
  return { entries: out, maxSize: opts.maxSize };
}
