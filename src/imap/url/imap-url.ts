// IMAP URLs (RFC 5092) naming a message or a part of one: the absolute form
// `imap://user;AUTH=mech@host:port/mailbox;UIDVALIDITY=n/;UID=n/;SECTION=s/;PARTIAL=o.l` with the
// URLAUTH tail `;EXPIRE=date-time;URLAUTH=access:mech:token` (RFC 4467 3, RFC 5092 3.1), and the
// relative forms CATENATE takes (RFC 4469 3, RFC 5092 7): `/mailbox;UIDVALIDITY=n/;UID=n...` (no
// server) and `;UID=n...` (the selected mailbox). URLs naming a server or a mailbox only (no UID)
// are not message references and are refused. Pure: no store, no I/O; errors are values.
import { Cursor } from '../proto/cursor.js';
import { parseFetchItems } from '../proto/parse-fetch.js';
import type { SectionSpec } from '../proto/types.js';
import { ImapSyntaxError } from '../proto/syntax-error.js';
import { MAX_IMAP_URL_LENGTH } from './limits.js';

export interface ImapUrl {
  /** Absent in relative URLs. */
  user?: string;
  authMech?: string;
  host?: string;
  port?: number;
  /** Decoded (UTF-8); '' when relative to the selected mailbox without a relativeTo. */
  mailbox: string;
  uidValidity?: number;
  uid: number;
  /** The IMAP section-spec, decoded and upper-cased (e.g. `1.2.MIME`, `HEADER.FIELDS (TO FROM)`). */
  section?: string;
  partial?: { offset: number; length?: number };
  /** `;EXPIRE=` (RFC 4467 3). */
  expire?: Date;
  /** The access identifier of `;URLAUTH=`: 'submit+fred', 'user+fred', 'authuser' or 'anonymous'. */
  access?: string;
  /** The verifier of `;URLAUTH=access:mech:token`; absent for a rump URL (`;URLAUTH=access` alone). */
  urlauth?: { mechanism: string; token: string };
}

export type ImapUrlError = { code: 'BADURL'; reason: string };

export interface ParseImapUrlOptions {
  /** The base for `;UID=n` URLs (RFC 5092 7.1): the selected mailbox. Without it they are refused. */
  relativeTo?: { mailbox: string; uidValidity?: number };
}

const badUrl = (reason: string): ImapUrlError => ({ code: 'BADURL', reason });

export function isImapUrlError(x: unknown): x is ImapUrlError {
  return typeof x === 'object' && x !== null && (x as { code?: unknown }).code === 'BADURL' && typeof (x as { reason?: unknown }).reason === 'string';
}

/** Thrown inside the parser only; parseImapUrl turns it into an ImapUrlError. */
class UrlSyntax extends Error {}

// RFC 5092 11 (with RFC 3986 2): unreserved / sub-delims-sh / ":" / "@" are uchar; achar adds
// "&" "=" "~"; bchar adds ":" "@" "/". "%" starts a pct-encoded octet. ";" is never part of a value.
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const SUB_DELIMS_SH = new Set([...`!$'()*+,`]);

function isUchar(ch: string): boolean {
  return UNRESERVED.test(ch) || SUB_DELIMS_SH.has(ch) || ch === ':' || ch === '@';
}
const isAchar = (ch: string): boolean => isUchar(ch) || ch === '&' || ch === '=' || ch === '~';
const isBchar = (ch: string): boolean => isAchar(ch) || ch === '/';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decodes `s` (every other character must satisfy `ok`) to UTF-8 text. */
function decode(s: string, ok: (ch: string) => boolean, what: string): string {
  if (s === '') throw new UrlSyntax(`empty ${what}`);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new UrlSyntax(`bad percent-encoding in the ${what}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ok(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      throw new UrlSyntax(`character ${JSON.stringify(ch)} not allowed in the ${what}`);
    }
  }
  try {
    const text = utf8.decode(Uint8Array.from(bytes));
    // No control characters in names (a NUL or CR in a mailbox name is no name at all).
    if (/[\x00-\x1f\x7f]/.test(text)) throw new UrlSyntax(`control character in the ${what}`);
    return text;
  } catch (err) {
    if (err instanceof UrlSyntax) throw err;
    throw new UrlSyntax(`the ${what} is not UTF-8`);
  }
}

/** RFC 5092: nz-number = digit-nz *DIGIT, a 32-bit unsigned value. */
function nzNumber(s: string, what: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(s) || Number(s) > 0xffffffff) throw new UrlSyntax(`bad ${what} ${JSON.stringify(s)}`);
  return Number(s);
}

function number32(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s) || Number(s) > 0xffffffff) throw new UrlSyntax(`bad ${what} ${JSON.stringify(s)}`);
  return Number(s);
}

/** RFC 3339 5.6 date-time (RFC 4467 3: the EXPIRE value). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseExpire(s: string): Date {
  const m = RFC3339.exec(s);
  if (!m) throw new UrlSyntax('bad EXPIRE date-time');
  const [mon, day, h, min, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) throw new UrlSyntax('bad EXPIRE date-time');
  const d = new Date(s.toUpperCase());
  if (Number.isNaN(d.getTime())) throw new UrlSyntax('bad EXPIRE date-time');
  return d;
}

/**
 * The IMAP section-spec of `;SECTION=` (RFC 5092 3.2: enc-section is a percent-encoded IMAP
 * section), checked with the FETCH section parser; canonical (upper-case) text back.
 */
export function sectionSpecOf(section: string): SectionSpec | null {
  try {
    const c = new Cursor([{ text: Buffer.from(`BODY.PEEK[${section}]`, 'utf8') }]);
    const items = parseFetchItems(c);
    const a = items[0];
    if (items.length !== 1 || !c.atEnd() || a?.kind !== 'body' || a.partial) return null;
    return a.section;
  } catch (err) {
    if (err instanceof ImapSyntaxError) return null;
    throw err;
  }
}

function formatSection(s: SectionSpec): string {
  const parts: string[] = [];
  if (s.part.length) parts.push(s.part.join('.'));
  if (s.text) parts.push(s.text);
  let out = parts.join('.');
  // Field names as IMAP astrings: atoms as they are, anything else quoted.
  if (s.fields) out += ` (${s.fields.map((f) => (/^[\x21-\x7e]+$/.test(f) && !/[(){%*"\\\]]/.test(f) ? f.toUpperCase() : JSON.stringify(f.toUpperCase()))).join(' ')})`;
  return out;
}

/** RFC 5092 3.1 access identifiers. */
function parseAccess(s: string): string {
  const lower = s.toLowerCase();
  if (lower === 'authuser' || lower === 'anonymous') return lower;
  const m = /^(submit|user)\+(.*)$/i.exec(s);
  if (!m) throw new UrlSyntax(`unknown URLAUTH access ${JSON.stringify(s)}`);
  return `${m[1]!.toLowerCase()}+${decode(m[2]!, isAchar, 'access user')}`;
}

/** `access[:mech:token]`: the mechanism and token are the last two ":" fields (enc-user may hold ":"). */
function parseUrlauth(s: string, url: ImapUrl): void {
  const tail = /:([A-Za-z0-9\-.]+):([0-9A-Fa-f]*)$/.exec(s);
  if (tail) {
    // RFC 4467 3: enc-urlauth = 32*HEXDIG.
    if (tail[2]!.length < 32) throw new UrlSyntax('URLAUTH token shorter than 32 hex digits');
    url.access = parseAccess(s.slice(0, tail.index));
    url.urlauth = { mechanism: tail[1]!.toUpperCase(), token: tail[2]!.toLowerCase() };
  } else {
    url.access = parseAccess(s);
  }
}

/** `iserver` (RFC 5092 3): [iuserinfo "@"] host [":" port]. */
function parseServer(s: string, url: ImapUrl): void {
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    const info = s.slice(0, at);
    const semi = info.indexOf(';');
    const user = semi < 0 ? info : info.slice(0, semi);
    if (user !== '') url.user = decode(user, isAchar, 'user name');
    if (semi >= 0) {
      const auth = info.slice(semi);
      if (!/^;AUTH=/i.test(auth)) throw new UrlSyntax('expected ";AUTH=" in the user information');
      const mech = auth.slice(6);
      if (mech === '*') url.authMech = '*';
      else url.authMech = decode(mech, isAchar, 'authentication mechanism').toUpperCase();
    }
    if (url.user === undefined && url.authMech === undefined) throw new UrlSyntax('empty user information');
  }
  const hp = s.slice(at + 1);
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::([0-9]*))?$/.exec(hp);
  if (!m) throw new UrlSyntax('bad host');
  // Kept as written (lower case): a host is compared, not displayed; pct-encoding must be well formed.
  if (/%(?![0-9A-Fa-f]{2})/.test(m[1]!) || m[1]!.includes(';')) throw new UrlSyntax('bad host');
  url.host = m[1]!.toLowerCase();
  if (m[2] !== undefined && m[2] !== '') {
    const port = Number(m[2]);
    if (!/^[0-9]{1,5}$/.test(m[2]) || port < 1 || port > 65535) throw new UrlSyntax('bad port');
    url.port = port;
  }
}

/**
 * The parameters after the mailbox: [";UIDVALIDITY=" n] "/;UID=" n ["/;SECTION=" s] ["/;PARTIAL="
 * o["." l]] [";EXPIRE=" t] [";URLAUTH=" access[":" mech ":" token]] (RFC 5092 3, 11; RFC 4467 3).
 * `rest` starts at the ";" of the first; `afterMailbox` says whether ";UIDVALIDITY=" may come first,
 * `slashFirst` whether a "/" came before that ";".
 */
function parseParams(rest: string, url: ImapUrl, afterMailbox: boolean, slashFirst: boolean): void {
  // Split at ";": each field is NAME=value, optionally ending in the "/" that separates it from the
  // next path segment. A field's value never holds ";" (not a bchar), so the split is exact.
  const fields = rest.split(';').slice(1);
  const order = ['UIDVALIDITY', 'UID', 'SECTION', 'PARTIAL', 'EXPIRE', 'URLAUTH'];
  let at = afterMailbox ? 0 : 1;
  // The "/" before the first field ended the mailbox text, or `;UID=` opens a relative URL.
  let slashBefore = slashFirst;
  let seenUid = false;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const eq = f.indexOf('=');
    if (eq < 0) throw new UrlSyntax(`expected NAME= in ${JSON.stringify(f)}`);
    const name = f.slice(0, eq).toUpperCase();
    const idx = order.indexOf(name);
    if (idx < at) throw new UrlSyntax(idx < 0 ? `unknown parameter ;${name}=` : `;${name}= out of place`);
    at = idx + 1;
    let value = f.slice(eq + 1);
    const last = i === fields.length - 1;
    // UID, SECTION and PARTIAL are path segments of their own ("/;UID="); the others are not.
    const slashAfter = !last && value.endsWith('/');
    if (slashAfter) value = value.slice(0, -1);
    const needsSlash = name === 'UID' || name === 'SECTION' || name === 'PARTIAL';
    if (needsSlash !== slashBefore) throw new UrlSyntax(needsSlash ? `expected "/" before ;${name}=` : `unexpected "/" before ;${name}=`);
    if (name !== 'UIDVALIDITY' && name !== 'UID' && !seenUid) throw new UrlSyntax(`;${name}= without ;UID=`);
    slashBefore = slashAfter;
    switch (name) {
      case 'UIDVALIDITY':
        url.uidValidity = nzNumber(value, 'UIDVALIDITY');
        break;
      case 'UID':
        url.uid = nzNumber(value, 'UID');
        seenUid = true;
        break;
      case 'SECTION': {
        const spec = sectionSpecOf(decode(value, isBchar, 'section'));
        if (!spec || (!spec.part.length && !spec.text)) throw new UrlSyntax('bad SECTION');
        url.section = formatSection(spec);
        break;
      }
      case 'PARTIAL': {
        const m = /^([^.]*)(?:\.(.*))?$/.exec(value)!;
        url.partial = { offset: number32(m[1]!, 'PARTIAL offset') };
        if (m[2] !== undefined) url.partial.length = nzNumber(m[2], 'PARTIAL length');
        break;
      }
      case 'EXPIRE':
        url.expire = parseExpire(decode(value, isBchar, 'EXPIRE'));
        break;
      case 'URLAUTH':
        parseUrlauth(value, url);
        break;
    }
  }
  if (slashBefore && fields.length) throw new UrlSyntax('trailing "/"');
  if (!seenUid) throw new UrlSyntax('the URL names no message (;UID= missing)');
  if (url.expire && !url.access) throw new UrlSyntax(';EXPIRE= without ;URLAUTH=');
}

/** The mailbox path and parameters: `enc-mailbox ( ";UIDVALIDITY=" / "/;UID=" ) ...`. */
function parsePath(path: string, url: ImapUrl): void {
  const semi = path.indexOf(';');
  if (semi < 0) throw new UrlSyntax('the URL names no message (;UID= missing)');
  let mb = path.slice(0, semi);
  // "INBOX/;UID=1": the "/" is the segment separator, not part of the name.
  const slash = mb.endsWith('/') && /^;UID=/i.test(path.slice(semi));
  if (slash) mb = mb.slice(0, -1);
  url.mailbox = decode(mb, isBchar, 'mailbox name');
  parseParams(path.slice(semi), url, true, slash);
}

/**
 * Parses an IMAP URL naming a message or part (RFC 5092; URLAUTH form RFC 4467; relative forms of
 * RFC 4469 3 / RFC 5092 7). Never throws: malformed input gives an ImapUrlError.
 */
export function parseImapUrl(text: string, opts: ParseImapUrlOptions = {}): ImapUrl | ImapUrlError {
  if (typeof text !== 'string' || text === '') return badUrl('empty URL');
  if (text.length > MAX_IMAP_URL_LENGTH) return badUrl('URL too long');
  // Only printable US-ASCII: everything else must be percent-encoded (RFC 3986 2).
  if (!/^[\x21-\x7e]+$/.test(text)) return badUrl('URL holds characters that must be percent-encoded');
  if (text.includes('#')) return badUrl('fragment not allowed');
  const url: ImapUrl = { mailbox: '', uid: 0 };
  try {
    if (/^imap:\/\//i.test(text)) {
      const rest = text.slice(7);
      const slash = rest.indexOf('/');
      if (slash < 0) throw new UrlSyntax('the URL names no message');
      parseServer(rest.slice(0, slash), url);
      if (rest[slash + 1] === '/') throw new UrlSyntax('empty mailbox name');
      parsePath(rest.slice(slash + 1), url);
    } else if (/^[a-z][a-z0-9+\-.]*:/i.test(text)) {
      throw new UrlSyntax('not an imap: URL');
    } else if (text.startsWith('//')) {
      throw new UrlSyntax('network-path references are not supported');
    } else if (text.startsWith('/')) {
      if (text[1] === ';') throw new UrlSyntax('empty mailbox name');
      parsePath(text.slice(1), url);
    } else if (/^;UID=/i.test(text)) {
      // RFC 5092 7.1: relative to the selected mailbox (RFC 4469 3: the base URL is that mailbox).
      if (!opts.relativeTo) throw new UrlSyntax('relative URL without a selected mailbox');
      url.mailbox = opts.relativeTo.mailbox;
      if (opts.relativeTo.uidValidity !== undefined) url.uidValidity = opts.relativeTo.uidValidity;
      parseParams(text, url, false, true);
    } else {
      throw new UrlSyntax('unsupported relative URL form');
    }
  } catch (err) {
    if (err instanceof UrlSyntax) return badUrl(err.message);
    throw err;
  }
  return url;
}

/** RFC 4467 3: the rump URL (the text the token is computed over) is the URL without ":mech:token". */
export function rumpUrl(text: string): string | null {
  const u = parseImapUrl(text);
  if (isImapUrlError(u) || !u.urlauth) return null;
  const tail = /:[A-Za-z0-9\-.]+:[0-9A-Fa-f]+$/.exec(text);
  return tail ? text.slice(0, tail.index) : null;
}

/** pct-encodes what is not a bchar (and `extra`), UTF-8 first (RFC 5092 3.2 enc-mailbox). */
function encode(s: string, ok: (ch: string) => boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && ok(ch) && ch !== '%' ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** "/" separates hierarchy levels as it is; one that would read as something else (first, last, or
 * next to another "/": a network path, the segment before ";UID=", an empty level) is encoded. */
function encodeMailbox(name: string): string {
  let out = '';
  for (let j = 0; j < name.length; j++) {
    const ch = name[j]!;
    if (ch !== '/') out += encode(ch, (c) => c !== '/' && isBchar(c));
    else out += j > 0 && j < name.length - 1 && name[j - 1] !== '/' && name[j + 1] !== '/' ? '/' : '%2F';
  }
  return out;
}

/**
 * The URL as text: absolute when it has a host, `/mailbox...` without one, `;UID=...` with an empty
 * mailbox. parseImapUrl(formatImapUrl(u)) gives u back.
 */
export function formatImapUrl(url: ImapUrl): string {
  let out = '';
  if (url.host !== undefined) {
    out = 'imap://';
    if (url.user !== undefined || url.authMech !== undefined) {
      if (url.user !== undefined) out += encode(url.user, isAchar);
      if (url.authMech !== undefined) out += `;AUTH=${url.authMech === '*' ? '*' : encode(url.authMech, isAchar)}`;
      out += '@';
    }
    out += url.host;
    if (url.port !== undefined) out += `:${url.port}`;
    out += '/';
  } else if (url.mailbox !== '') {
    out = '/';
  }
  if (url.mailbox !== '' || url.host !== undefined) {
    out += encodeMailbox(url.mailbox);
    if (url.uidValidity !== undefined) out += `;UIDVALIDITY=${url.uidValidity}`;
    out += '/';
  }
  out += `;UID=${url.uid}`;
  if (url.section !== undefined) out += `/;SECTION=${encode(url.section, isBchar)}`;
  if (url.partial) out += `/;PARTIAL=${url.partial.offset}${url.partial.length !== undefined ? `.${url.partial.length}` : ''}`;
  if (url.expire) out += `;EXPIRE=${url.expire.toISOString()}`;
  if (url.access !== undefined) {
    const plus = url.access.indexOf('+');
    // ":" in the user is encoded: raw, it could read as the ":mech:token" that follows.
    out += `;URLAUTH=${plus < 0 ? url.access : url.access.slice(0, plus + 1) + encode(url.access.slice(plus + 1), (ch) => ch !== ':' && isAchar(ch))}`;
    if (url.urlauth) out += `:${url.urlauth.mechanism}:${url.urlauth.token}`;
  }
  return out;
}
