// Header section scanning with byte offsets (RFC 5322 2.2, 3.2.2). Pure, works on Buffers.
import { TextDecoder } from 'node:util';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** One header field: [start, end) covers the name, the value and every folded line with its line end. */
export interface HeaderField {
  start: number;
  /** Lower-cased field name ('' for a stray continuation line at the start). */
  name: string;
  /** First byte after the colon (or `end` when the line has no colon). */
  valueStart: number;
  end: number;
}

export interface HeaderBounds {
  /** End of the last field: start of the blank line (or `end` of the region when there is none). */
  headerEnd: number;
  /** First body byte: after the blank line. */
  bodyStart: number;
}

/** Finds where the header section that starts at `start` ends (RFC 5322 2.1: the first empty line). */
export function findHeaderEnd(buf: Buffer, start: number, end: number): HeaderBounds {
  let pos = start;
  while (pos < end) {
    const c = buf[pos];
    if (c === LF) return { headerEnd: pos, bodyStart: pos + 1 };
    if (c === CR && pos + 1 < end && buf[pos + 1] === LF) return { headerEnd: pos, bodyStart: pos + 2 };
    const nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) break;
    pos = nl + 1;
  }
  // No blank line: everything is header, the body is empty.
  return { headerEnd: end, bodyStart: end };
}

/** Lists the fields of the header section [start, headerEnd), joining folded lines (RFC 5322 2.2.3). */
export function headerFields(buf: Buffer, start: number, headerEnd: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  while (pos < headerEnd) {
    const nl = buf.indexOf(LF, pos);
    const lineEnd = nl < 0 || nl >= headerEnd ? headerEnd : nl + 1;
    const c = buf[pos];
    if ((c === SP || c === HT) && current) {
      current.end = lineEnd;
    } else {
      let colon = -1;
      if (c !== SP && c !== HT) {
        // Look for the colon within this line only: an unbounded indexOf would make many
        // colon-less lines quadratic.
        for (let i = pos; i < lineEnd; i++) {
          if (buf[i] === COLON) {
            colon = i;
            break;
          }
        }
      }
      const nameEnd = colon < 0 ? trimLineEnd(buf, pos, lineEnd) : colon;
      current = {
        start: pos,
        name: colon < 0 && (c === SP || c === HT) ? '' : buf.toString('latin1', pos, nameEnd).trim().toLowerCase(),
        valueStart: colon < 0 ? lineEnd : colon + 1,
        end: lineEnd,
      };
      fields.push(current);
    }
    pos = lineEnd;
  }
  return fields;
}

function trimLineEnd(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && (buf[e - 1] === LF || buf[e - 1] === CR)) e--;
  return e;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Header bytes as text: UTF-8 when valid (RFC 6532), otherwise Latin-1 so no byte is lost. */
export function headerBytesToString(buf: Buffer, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return buf.toString('latin1', start, end);
  try {
    return utf8Strict.decode(buf.subarray(start, end));
  } catch {
    return buf.toString('latin1', start, end);
  }
}

/** RFC 5322 2.2.3 unfolding: drop CRLF (or bare LF) line breaks, keep the whitespace after them. */
export function unfold(s: string): string {
  return s.replace(/\r?\n/g, '');
}

/** The unfolded value of a field, with the leading and trailing whitespace removed. */
export function fieldValue(buf: Buffer, field: HeaderField): string {
  return unfold(headerBytesToString(buf, field.valueStart, field.end)).trim();
}
