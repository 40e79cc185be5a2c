// The MIME tree with byte offsets (RFC 2045, RFC 2046). One pass per nesting level, Buffer.indexOf only.
import { fieldValue, findHeaderEnd, headerFields } from './header-fields.js';
import { parseParamValue, stripComments } from './header-params.js';
import { MAX_MIME_DEPTH } from './limits.js';
import type { MimeParam, MimePart } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a message into its MIME tree. Never throws; broken structure degrades as RFC 2045/2046 suggest. */
export function parseMessage(buf: Buffer): MimePart {
  return parseEntity(buf, 0, buf.length, 0, false, false);
}

/** True for message/rfc822 and message/global (RFC 6532 3.7), whose body is a message of its own. */
export function isMessagePart(part: MimePart): boolean {
  return part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global');
}

function parseEntity(
  buf: Buffer,
  start: number,
  end: number,
  depth: number,
  inDigest: boolean,
  bodyPart: boolean,
): MimePart {
  // A body part whose first line is no header field has no header at all (RFC 2046 5.1.1 allows an
  // empty header; we read a missing blank line as that rather than swallowing text as a header).
  const { headerEnd, bodyStart } =
    bodyPart && !startsWithField(buf, start, end) ? { headerEnd: start, bodyStart: start } : findHeaderEnd(buf, start, end);
  const seen = new Map<string, string>();
  for (const f of headerFields(buf, start, headerEnd)) {
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
        parseEntity(buf, s, e, depth + 1, digest, true),
      );
    }
  } else if (isMessagePart(part) && depth < MAX_MIME_DEPTH && isIdentityEncoding(part.encoding)) {
    // RFC 2046 5.2.1: only 7bit, 8bit or binary are allowed on message/rfc822.
    part.message = parseEntity(buf, bodyStart, end, depth + 1, false, false);
  }
  if (part.type === 'text' || isMessagePart(part)) part.lines = countLines(buf, bodyStart, end);
  return part;
}

/** True when [start, end) begins with "name:" (or with the blank line that ends an empty header). */
function startsWithField(buf: Buffer, start: number, end: number): boolean {
  if (start >= end) return true;
  if (buf[start] === LF || buf[start] === CR) return true;
  // RFC 5322 2.2: a field name is printable US-ASCII without spaces, then ":". Stops at the first
  // other byte, so the scan never leaves the first line.
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x3a) return i > start;
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return false;
}

function isIdentityEncoding(enc: string | null): boolean {
  return enc === null || enc === '' || enc === '7bit' || enc === '8bit' || enc === 'binary';
}

/**
 * Finds the body parts of a multipart body [start, end). RFC 2046 5.1.1: a delimiter is "--boundary" at
 * the start of a line, optionally followed by white space; the line break before it belongs to the
 * delimiter. "--boundary--" closes. A missing close delimiter ends the last part at `end`.
 */
export function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const region = buf.subarray(start, end);
  const delim = Buffer.from('--' + boundary, /[^\x00-\xff]/.test(boundary) ? 'utf8' : 'latin1');
  const parts: [number, number][] = [];
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
      if (after < region.length && region[after] !== LF && region[after] !== CR) continue;
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

/** Text lines in [start, end): line feeds, plus a final line without one. */
export function countLines(buf: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  let n = 0;
  // A body always ends just before a line break or at the end of the buffer, so searching on from
  // the last line feed stays O(length).
  for (let i = buf.indexOf(LF, start); i >= 0 && i < end; i = buf.indexOf(LF, i + 1)) n++;
  if (buf[end - 1] !== LF) n++;
  return n;
}
