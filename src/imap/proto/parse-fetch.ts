// FETCH attributes (RFC 9051 6.4.5), BINARY (RFC 3516 4), MODSEQ and CHANGEDSINCE/VANISHED
// (RFC 7162 3.1.4, 3.2.6), SAVEDATE (RFC 8514), PREVIEW (RFC 8970).
import type { Cursor } from './cursor.js';
import type { FetchAtt, Partial, SectionSpec } from './types.js';

const SIMPLE = new Set([
  'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'SAVEDATE',
  'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
]);

const simple = (name: string): FetchAtt => ({ kind: 'simple', name: name as Extract<FetchAtt, { kind: 'simple' }>['name'] });

/** fetch-att list or one of the macros ALL, FAST, FULL (RFC 9051 6.4.5). */
export function parseFetchItems(c: Cursor): FetchAtt[] {
  if (c.peek() === 0x28) return c.list(() => parseFetchAtt(c), false);
  if (c.take('ALL')) return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'].map(simple);
  if (c.take('FAST')) return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'].map(simple);
  if (c.take('FULL')) return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'].map(simple);
  return [parseFetchAtt(c)];
}

function sectionPart(c: Cursor): number[] {
  const part: number[] = [];
  while (c.peek() >= 0x31 && c.peek() <= 0x39) {
    part.push(c.nzNumber('a part number'));
    if (c.peek() !== 0x2e) break;
    c.take('.');
    // "1.HEADER": a dot followed by text ends the part numbers.
    if (!(c.peek() >= 0x31 && c.peek() <= 0x39)) return [...part, -1];
  }
  return part;
}

function parseSection(c: Cursor): SectionSpec {
  c.expect('[');
  let part = sectionPart(c);
  const dotText = part[part.length - 1] === -1;
  if (dotText) part = part.slice(0, -1);
  const spec: SectionSpec = { part };
  if (c.take(']')) {
    if (dotText) c.fail('expected a section text after "."');
    return spec;
  }
  if (part.length && !dotText) c.fail('expected "." or "]" after the part number');
  const word = c.atom('a section text').toUpperCase();
  if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
    c.sp();
    spec.text = word;
    spec.fields = c.list(() => c.astring('a header field name'), false);
  } else if (word === 'HEADER' || word === 'TEXT') {
    spec.text = word;
  } else if (word === 'MIME' && part.length) {
    spec.text = 'MIME';
  } else {
    c.fail(`unknown section text ${word}`);
  }
  c.expect(']');
  return spec;
}

/**
 * partial = "<" number "." nz-number ">" (RFC 9051 9). `<n>` without a length, the response's form,
 * is taken as "from n to the end", as Dovecot does (imaptest's fetch-binary-mime-qp sends it).
 */
function parsePartial(c: Cursor): Partial | null {
  if (!c.take('<')) return null;
  const start = c.number('a partial start');
  if (c.take('>')) return { start, count: null };
  c.expect('.');
  const count = c.nzNumber('a partial length');
  c.expect('>');
  return { start, count };
}

function parseFetchAtt(c: Cursor): FetchAtt {
  const word = c.takeWhile((ch) => (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39) || ch === 0x2e).toUpperCase();
  if (!word) c.fail('expected a fetch attribute');
  if (SIMPLE.has(word)) return simple(word);
  switch (word) {
    case 'BODY':
    case 'BODY.PEEK':
      if (c.peek() !== 0x5b) {
        if (word === 'BODY.PEEK') c.fail('expected "[" after BODY.PEEK');
        return simple('BODY');
      }
      return { kind: 'body', peek: word === 'BODY.PEEK', section: parseSection(c), partial: parsePartial(c) };
    case 'BINARY':
    case 'BINARY.PEEK':
    case 'BINARY.SIZE': {
      // RFC 3516 4: section-binary is part numbers only; a section text as in BODY[...] is taken
      // too, as Dovecot does (imaptest's fetch-binary-mime asks for BINARY[2.HEADER], BINARY[TEXT]).
      const spec = parseSection(c);
      const section = spec.text ? spec : null;
      if (word === 'BINARY.SIZE') return { kind: 'binary.size', part: spec.part, section };
      return { kind: 'binary', peek: word === 'BINARY.PEEK', part: spec.part, section, partial: parsePartial(c) };
    }
    case 'PREVIEW': {
      // RFC 8970 3: PREVIEW [SP "(" "LAZY" ")"]
      if (c.take(' (LAZY)')) return { kind: 'preview', lazy: true };
      return { kind: 'preview', lazy: false };
    }
    default:
      c.fail(`unknown fetch attribute ${word}`);
  }
}

/** fetch-modifiers (RFC 7162 3.1.4, 3.2.6): "(" CHANGEDSINCE n [SP VANISHED] ")" */
export function parseFetchModifiers(c: Cursor): { changedSince: number | null; vanished: boolean } {
  let changedSince: number | null = null;
  let vanished = false;
  c.list(() => {
    const w = c.atom('a fetch modifier').toUpperCase();
    if (w === 'CHANGEDSINCE') {
      c.sp();
      changedSince = c.number64();
    } else if (w === 'VANISHED') {
      vanished = true;
    } else {
      c.fail(`unknown fetch modifier ${w}`);
    }
  }, false);
  return { changedSince, vanished };
}
