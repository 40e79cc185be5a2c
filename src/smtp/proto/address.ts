// RFC 5321 4.1.2 mailboxes and paths, with the RFC 6531 3.3 UTF-8 extensions. Pure: the caller
// decides policy (is UTF-8 allowed, is this our domain).

import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { MAX_DOMAIN, MAX_LABEL, MAX_LOCAL_PART, MAX_PATH } from './limits.js';

export type AddressLiteral =
  | { readonly kind: 'ipv4'; readonly address: string }
  | { readonly kind: 'ipv6'; readonly address: string }
  /** General-address-literal: Standardized-tag ":" 1*dcontent. */
  | { readonly kind: 'general'; readonly tag: string; readonly address: string };

export interface Mailbox {
  /** Local part with quoting removed: `"a b"@x` gives `a b`, and `"ab"@x` equals `ab@x`
   * (RFC 5321 4.1.2 says they are the same). Case is kept (RFC 5321 2.4). */
  readonly localPart: string;
  /** Domain as written (IDN U-labels kept), or the literal with brackets, e.g. `[1.2.3.4]`. */
  readonly domain: string;
  /** Set when the domain is an address literal. */
  readonly literal?: AddressLiteral;
  /** Local part or domain contains non-ASCII characters (needs SMTPUTF8, RFC 6531 3.3). */
  readonly utf8: boolean;
}

export type AddressErrorReason = 'syntax' | 'too-long' | 'utf8';

/** Thrown by the address parsers; the command parser maps it to a reply. */
export class AddressError extends Error {
  constructor(readonly reason: AddressErrorReason, message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export interface AddressOptions {
  /** Permit UTF-8 (the transaction used SMTPUTF8). Without it a non-ASCII address fails with
   * reason 'utf8'. Default false. */
  smtputf8?: boolean;
  /** Local part limit in octets; default MAX_LOCAL_PART. Raise it for SRS/VERP senders. */
  maxLocalPart?: number;
}

// RFC 5322 3.2.3 atext, as RFC 5321 4.1.2 uses it.
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;
const isAtext = (ch: string, utf8: boolean): boolean => ATEXT.test(ch) || (utf8 && ch.codePointAt(0)! >= 0x80);

/** Parses `local@domain` (no angle brackets). */
export function parseMailbox(s: string, opts: AddressOptions = {}): Mailbox {
  const { mailbox, end } = parseMailboxAt(s, 0, opts);
  if (end !== s.length) throw new AddressError('syntax', `unexpected characters after address: ${JSON.stringify(s.slice(end))}`);
  return mailbox;
}

/** Parses a Mailbox starting at `pos`; returns it and the index after it. */
export function parseMailboxAt(s: string, pos: number, opts: AddressOptions = {}): { mailbox: Mailbox; end: number } {
  const utf8Allowed = opts.smtputf8 ?? false;
  let i = pos;
  let local = '';
  // Any non-ASCII is scanned as if allowed, then reported as 'utf8' so the caller can answer
  // 553 5.6.7 rather than a generic syntax error.
  if (s[i] === '"') {
    // RFC 5321 4.1.2 Quoted-string; qtextSMTP %d32-33 / %d35-91 / %d93-126, quoted-pairSMTP.
    i++;
    for (;;) {
      const ch = s[i];
      if (ch === undefined) throw new AddressError('syntax', 'unterminated quoted local part');
      if (ch === '"') { i++; break; }
      if (ch === '\\') {
        const n = s[i + 1];
        if (n === undefined || n.charCodeAt(0) < 32 || n.charCodeAt(0) > 126) throw new AddressError('syntax', 'bad quoted-pair in local part');
        local += n;
        i += 2;
        continue;
      }
      const c = ch.codePointAt(0)!;
      if (c < 32 || c === 127) throw new AddressError('syntax', 'control character in local part');
      local += String.fromCodePoint(c);
      i += c > 0xffff ? 2 : 1;
    }
  } else {
    // Dot-string = Atom *("." Atom)
    const start = i;
    let atomLen = 0;
    for (;;) {
      const c = s.codePointAt(i);
      if (c === undefined) break;
      const ch = String.fromCodePoint(c);
      if (ch === '.') {
        if (atomLen === 0) throw new AddressError('syntax', 'empty atom in local part');
        atomLen = 0;
        i++;
        continue;
      }
      if (!isAtext(ch, true)) break;
      atomLen++;
      i += ch.length;
    }
    if (i === start) throw new AddressError('syntax', 'empty local part');
    if (atomLen === 0) throw new AddressError('syntax', 'local part ends with a dot');
    local = s.slice(start, i);
  }
  const rawLocalLen = Buffer.byteLength(s.slice(pos, i));
  if (s[i] !== '@') throw new AddressError('syntax', 'missing @ in address');
  i++;
  const d = parseDomainOrLiteralAt(s, i);
  const mailbox: Mailbox = { localPart: local, domain: d.domain, literal: d.literal, utf8: hasNonAscii(local) || hasNonAscii(d.domain) };
  if (mailbox.utf8 && !utf8Allowed) throw new AddressError('utf8', 'non-ASCII address without SMTPUTF8');
  if (rawLocalLen > (opts.maxLocalPart ?? MAX_LOCAL_PART)) throw new AddressError('too-long', 'local part too long');
  return { mailbox, end: d.end };
}

function parseDomainOrLiteralAt(s: string, i: number): { domain: string; literal?: AddressLiteral; end: number } {
  if (s[i] === '[') {
    const close = s.indexOf(']', i);
    if (close < 0) throw new AddressError('syntax', 'unterminated address literal');
    const literal = parseAddressLiteral(s.slice(i, close + 1));
    return { domain: s.slice(i, close + 1), literal, end: close + 1 };
  }
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    // Domain characters: let-dig, hyphen, dot, and non-ASCII for U-labels (checked below).
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c >= 0x80) j++;
    else break;
  }
  const domain = s.slice(i, j);
  validateDomain(domain);
  return { domain, end: j };
}

/** RFC 5321 4.1.2 Domain, with RFC 6531 U-labels. Throws AddressError. */
export function validateDomain(domain: string): void {
  if (domain === '') throw new AddressError('syntax', 'empty domain');
  const ascii = hasNonAscii(domain) ? domainToASCII(domain) : domain;
  if (ascii === '') throw new AddressError('syntax', 'invalid internationalized domain');
  if (ascii.length > MAX_DOMAIN || Buffer.byteLength(domain) > MAX_DOMAIN) throw new AddressError('too-long', 'domain too long');
  for (const label of ascii.split('.')) {
    // sub-domain = Let-dig [Ldh-str]: no empty labels, no leading or trailing hyphen.
    if (label === '') throw new AddressError('syntax', 'empty label in domain');
    if (label.length > MAX_LABEL) throw new AddressError('too-long', 'domain label too long');
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label)) throw new AddressError('syntax', `invalid domain label ${JSON.stringify(label)}`);
  }
}

export function isValidDomain(domain: string): boolean {
  try {
    validateDomain(domain);
    return true;
  } catch {
    return false;
  }
}

/** RFC 5321 4.1.3 address-literal including brackets. Throws AddressError. */
export function parseAddressLiteral(s: string): AddressLiteral {
  if (s.length < 3 || s[0] !== '[' || s[s.length - 1] !== ']') throw new AddressError('syntax', 'address literal needs brackets');
  const inner = s.slice(1, -1);
  if (/^\d/.test(inner)) {
    // IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT with value 0-255.
    const parts = inner.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw new AddressError('syntax', 'invalid IPv4 address literal');
    return { kind: 'ipv4', address: parts.map(Number).join('.') };
  }
  const colon = inner.indexOf(':');
  if (colon <= 0) throw new AddressError('syntax', 'invalid address literal');
  const tag = inner.slice(0, colon);
  const value = inner.slice(colon + 1);
  if (tag.toLowerCase() === 'ipv6') {
    if (!isIpv6Literal(value)) throw new AddressError('syntax', 'invalid IPv6 address literal');
    return { kind: 'ipv6', address: value.toLowerCase() };
  }
  // Standardized-tag = Ldh-str; dcontent = %d33-90 / %d94-126.
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(tag) || !/^[\x21-\x5a\x5e-\x7e]+$/.test(value)) throw new AddressError('syntax', 'invalid address literal');
  return { kind: 'general', tag, address: value };
}

/** RFC 5321 4.1.3 IPv6-addr (full, compressed, with trailing IPv4); node:net knows the forms,
 * the character check keeps out zone ids, which SMTP does not allow. */
function isIpv6Literal(v: string): boolean {
  return /^[0-9A-Fa-f:.]+$/.test(v) && isIPv6(v);
}

export interface PathResult<T> {
  readonly path: T;
  /** Index after the closing `>`. */
  readonly end: number;
}

/** Parses a Reverse-path at `pos`: `<>` (null path, result null) or `<` [A-d-l ":"] Mailbox `>`.
 * RFC 5321 4.1.2; a source route is accepted and ignored (RFC 5321 C). */
export function parseReversePathAt(s: string, pos: number, opts: AddressOptions = {}): PathResult<Mailbox | null> {
  if (s.startsWith('<>', pos)) return { path: null, end: pos + 2 };
  return parsePathAt(s, pos, opts);
}

export type ForwardPath = { readonly kind: 'mailbox'; readonly mailbox: Mailbox } | { readonly kind: 'postmaster' };

/** Parses a Forward-path at `pos`: `<postmaster>` (any case, RFC 5321 4.1.1.3) or a Path. */
export function parseForwardPathAt(s: string, pos: number, opts: AddressOptions = {}): PathResult<ForwardPath> {
  if (s.slice(pos, pos + 12).toLowerCase() === '<postmaster>') return { path: { kind: 'postmaster' }, end: pos + 12 };
  const r = parsePathAt(s, pos, opts);
  return { path: { kind: 'mailbox', mailbox: r.path }, end: r.end };
}

/** Path = "<" [ A-d-l ":" ] Mailbox ">". */
export function parsePathAt(s: string, pos: number, opts: AddressOptions = {}): PathResult<Mailbox> {
  if (s[pos] !== '<') throw new AddressError('syntax', 'path must start with <');
  let i = pos + 1;
  if (s[i] === '@') {
    // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
    for (;;) {
      if (s[i] !== '@') throw new AddressError('syntax', 'bad source route');
      const d = parseDomainOrLiteralAt(s, i + 1);
      i = d.end;
      if (s[i] === ',') { i++; continue; }
      if (s[i] === ':') { i++; break; }
      throw new AddressError('syntax', 'bad source route');
    }
  }
  const { mailbox, end } = parseMailboxAt(s, i, opts);
  if (s[end] !== '>') throw new AddressError('syntax', 'path must end with >');
  if (Buffer.byteLength(s.slice(pos, end + 1)) > MAX_PATH) throw new AddressError('too-long', 'path too long');
  return { path: mailbox, end: end + 1 };
}

/** Local part for the wire: dot-string when it is one, else a quoted string (RFC 5321 4.1.2
 * says quoting SHOULD only be used when needed). */
export function formatLocalPart(local: string): string {
  if (/^[^.\s"(),:;<>@[\\\]\x00-\x1f\x7f]+(?:\.[^.\s"(),:;<>@[\\\]\x00-\x1f\x7f]+)*$/u.test(local)) return local;
  return '"' + local.replace(/(["\\])/g, '\\$1') + '"';
}

export function formatMailbox(m: Mailbox): string {
  return `${formatLocalPart(m.localPart)}@${m.domain}`;
}

/** Domain for comparison: lower-case A-labels (IDNA via node:url), literals normalised. */
export function normalizeDomain(domain: string): string {
  if (domain.startsWith('[')) {
    try {
      const lit = parseAddressLiteral(domain);
      return lit.kind === 'general' ? `[${lit.tag.toLowerCase()}:${lit.address}]` : lit.kind === 'ipv6' ? `[ipv6:${lit.address}]` : `[${lit.address}]`;
    } catch {
      return domain.toLowerCase();
    }
  }
  const ascii = hasNonAscii(domain) ? domainToASCII(domain) : domain;
  return (ascii || domain).toLowerCase();
}

/** Comparison key: local part as is (its case may matter, RFC 5321 2.4), domain normalised.
 * Callers that treat local parts case-insensitively lower-case the local part themselves. */
export function mailboxKey(m: Mailbox): string {
  return `${m.localPart}@${normalizeDomain(m.domain)}`;
}

export function hasNonAscii(s: string): boolean {
  return /[^\x00-\x7f]/.test(s);
}
