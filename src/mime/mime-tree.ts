// The MIME tree with byte offsets (RFC 2045, RFC 2046). One pass per nesting level, Buffer.indexOf only.
import { fieldValue, findHeaderEnd, headerFields, type HeaderField } from './header-fields.js';
import { parseParamValue, stripComments } from './header-params.js';
import { MAX_MIME_DEPTH } from './limits.js';
import type { MimeParam, MimePart } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a message into its MIME tree. Never throws; broken structure degrades as RFC 2045/2046 suggest. */
export function parseMessage(buf: Buffer): MimePart {
  return parseEntity(buf, 0, buf.length, 0, false);
}

/** parseMessage, and the root's header fields with it (ENVELOPE reads the same fields). */
export function parseMessageAndFields(buf: Buffer): { part: MimePart; fields: HeaderField[] } {
  let fields: HeaderField[] = [];
  const part = parseEntity(buf, 0, buf.length, 0, false, (f) => (fields = f));
  return { part, fields };
}

/** True for message/rfc822 and message/global (RFC 6532 3.7), whose body is a message of its own. */
export function isMessagePart(part: MimePart): boolean {
  return part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global');
}

function parseEntity(buf: Buffer, start: number, end: number, depth: number, inDigest: boolean, onFields?: (fields: HeaderField[]) => void): MimePart {
  // RFC 2046 5.1.1: a body part starts with its header section, which ends at the first empty line; a
  // part that starts with a non-field line ("two\r\n--b") has that line as a (broken) header and an
  // empty body, as Dovecot reads it.
  const { headerEnd, bodyStart } = findHeaderEnd(buf, start, end);
  const seen = new Map<string, string>();
  const fields = headerFields(buf, start, headerEnd);
  onFields?.(fields);
  for (const f of fields) {
    // The first occurrence of each MIME field wins, as in most parsers.
    if (f.name.startsWith('content-') && !seen.has(f.name)) seen.set(f.name, fieldValue(buf, f));
  }

  // RFC 2045 5.2: missing or invalid Content-Type means text/plain; charset=us-ascii,
  // except in multipart/digest where it means message/rfc822 (RFC 2046 5.1.5).
  let type = inDigest ? 'message' : 'text';
  let subtype = inDigest ? 'rfc822' : 'plain';
  let params: MimeParam[] = inDigest ? [] : [{ name: 'charset', value: 'US-ASCII' }];
  const ct = seen.get('content-type');
  if (ct !== undefined) {
    const parsed = parseParamValue(ct);
    const slash = parsed.value.indexOf('/');
    const t = parsed.value.slice(0, slash).trim();
    const s = parsed.value.slice(slash + 1).trim();
    if (slash > 0 && TOKEN.test(t) && TOKEN.test(s)) {
      type = t.toLowerCase();
      subtype = s.toLowerCase();
      params = parsed.params;
    }
  }

  const enc = seen.get('content-transfer-encoding');
  const disp = seen.get('content-disposition');
  const dispParsed = disp === undefined ? null : parseParamValue(disp);
  const lang = seen.get('content-language');
  const part: MimePart = {
    headerStart: start,
    headerEnd,
    bodyStart,
    bodyEnd: end,
    type,
    subtype,
    params,
    id: seen.get('content-id') ?? null,
    description: seen.get('content-description') ?? null,
    encoding: enc === undefined ? null : stripComments(enc).trim().toLowerCase(),
    disposition: dispParsed && dispParsed.value ? dispParsed.value.toLowerCase() : null,
    dispositionParams: dispParsed && dispParsed.value ? dispParsed.params : [],
    // RFC 3282 2: a comma-separated list of language tags.
    language:
      lang === undefined
        ? null
        : stripComments(lang)
            .split(',')
            .map((l) => l.trim())
            .filter((l) => l),
    location: seen.get('content-location') ?? null,
    md5: seen.get('content-md5') ?? null,
  };

  if (type === 'multipart') {
    const boundary = params.find((p) => p.name === 'boundary')?.value ?? '';
    if (!boundary) {
      // A multipart without a boundary cannot be split: treat it as text (RFC 2045 5.2 spirit).
      part.type = 'text';
      part.subtype = 'plain';
      part.params = [{ name: 'charset', value: 'US-ASCII' }];
    } else if (depth < MAX_MIME_DEPTH) {
      const digest = subtype === 'digest';
      part.children = splitMultipart(buf, bodyStart, end, boundary).map(([s, e]) =>
        parseEntity(buf, s, e, depth + 1, digest),
      );
    }
  } else if (isMessagePart(part) && depth < MAX_MIME_DEPTH && isIdentityEncoding(part.encoding)) {
    // RFC 2046 5.2.1: only 7bit, 8bit or binary are allowed on message/rfc822.
    part.message = parseEntity(buf, bodyStart, end, depth + 1, false);
  }
  // RFC 2046 4.1.2: text without a charset parameter is US-ASCII. Shown explicitly (as Dovecot does)
  // so clients need not know the default; not added next to an RFC 2231 `charset*`.
  if (part.type === 'text' && !part.params.some((p) => p.name === 'charset')) {
    part.params = [...part.params, { name: 'charset', value: 'US-ASCII' }];
  }
  if (part.type === 'text' || isMessagePart(part)) part.lines = countLines(buf, bodyStart, end);
  return part;
}

function isIdentityEncoding(enc: string | null): boolean {
  return enc === null || enc === '' || enc === '7bit' || enc === '8bit' || enc === 'binary';
}

/**
 * Finds the body parts of a multipart body [start, end). RFC 2046 5.1.1: a delimiter is "--boundary" at
 * the start of a line, and the line break before it belongs to the delimiter, not to the part before.
 * "An exact match of the entire candidate line is not required; it is sufficient that the boundary
 * appear in its entirety following the CRLF": so "--b-x" is a delimiter of "b" too (as in Dovecot),
 * unless a longer boundary declared inside this body matches the line (Dovecot picks the longest
 * active boundary; nested parts declare theirs in their own Content-Type). "--boundary--" closes.
 * A missing close delimiter ends the last part at `end`.
 */
export function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const region = buf.subarray(start, end);
  const delim = Buffer.from('--' + boundary, /[^\x00-\xff]/.test(boundary) ? 'utf8' : 'latin1');
  const parts: [number, number][] = [];
  let nested: ((lineStart: number) => boolean) | null = null; // lazily: only for lines with text after "--b"
  let partStart = -1; // -1: still in the preamble
  let pos = 0;
  while (pos <= region.length - delim.length) {
    const idx = region.indexOf(delim, pos);
    if (idx < 0) break;
    pos = idx + 1;
    if (idx > 0 && region[idx - 1] !== LF) continue;
    let after = idx + delim.length;
    const close = region[after] === 0x2d && region[after + 1] === 0x2d;
    if (!close) {
      while (after < region.length && (region[after] === 0x20 || region[after] === 0x09)) after++;
      if (after < region.length && region[after] !== LF && region[after] !== CR) {
        nested ??= nestedBoundaryCheck(region);
        if (nested(idx)) continue;
      }
    }
    if (partStart >= 0) {
      let e = idx;
      if (e > 0 && region[e - 1] === LF) e--;
      if (e > 0 && region[e - 1] === CR) e--;
      parts.push([start + partStart, start + Math.max(partStart, e)]);
    }
    if (close) return parts;
    const nl = region.indexOf(LF, after);
    partStart = nl < 0 ? region.length : nl + 1;
    pos = partStart;
  }
  if (partStart >= 0) parts.push([start + partStart, end]);
  return parts;
}

/** Distinct candidate boundaries looked up per multipart; beyond it lines count as delimiters. */
const MAX_NESTED_LOOKUPS = 32;

/**
 * Decides whether a delimiter line with text after "--boundary" belongs to a nested multipart instead:
 * true when the line's token (without "--", padding and a closing "--") is declared as
 * `boundary=<token>` somewhere in this body. Memoised; bounded by MAX_NESTED_LOOKUPS.
 */
function nestedBoundaryCheck(region: Buffer): (lineStart: number) => boolean {
  const memo = new Map<string, boolean>();
  return (lineStart) => {
    let e = lineStart + 2;
    while (e < region.length && region[e]! > 0x20) e++;
    let token = region.toString('latin1', lineStart + 2, e);
    if (token.endsWith('--')) token = token.slice(0, -2);
    let known = memo.get(token);
    if (known === undefined) {
      known = memo.size < MAX_NESTED_LOOKUPS && declaresBoundary(region, token);
      memo.set(token, known);
    }
    return known;
  };
}

function declaresBoundary(region: Buffer, token: string): boolean {
  const t = Buffer.from(token, 'latin1');
  const ws = (c: number | undefined) => c === 0x20 || c === 0x09;
  let tries = 0;
  for (let i = region.indexOf(t); i >= 0 && tries++ < 1000; i = region.indexOf(t, i + 1)) {
    let j = i - 1;
    const quoted = region[j] === 0x22;
    if (quoted) j--;
    while (ws(region[j])) j--;
    if (region[j] !== 0x3d) continue;
    j--;
    while (ws(region[j])) j--;
    if (j < 7 || region.toString('latin1', j - 7, j + 1).toLowerCase() !== 'boundary') continue;
    const next = region[i + t.length];
    if (quoted ? next === 0x22 : next === undefined || next === 0x3b || next <= 0x20) return true;
  }
  return false;
}

/**
 * Body lines as IMAP counts them (RFC 9051 body-fld-lines): the line breaks in [start, end). A body
 * part ends before the CRLF of the next delimiter (RFC 2046 5.1.1), so its last line has no line
 * break of its own and is not counted: "one\r\n--b" is 0 lines, as in Dovecot.
 */
export function countLines(buf: Buffer, start: number, end: number): number {
  const body = buf.subarray(start, Math.max(start, end));
  let n = 0;
  for (let i = body.indexOf(LF); i >= 0; i = body.indexOf(LF, i + 1)) n++;
  return n;
}
