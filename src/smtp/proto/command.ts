// SMTP command line parser (server side). Pure: takes one line without CRLF, returns a typed
// command or throws SmtpError with the reply to send. Grammar: RFC 5321 4.1.1 / 4.1.2, with
// the parameters of RFC 1870 (SIZE), 6152 (8BITMIME), 3030 (BINARYMIME, BDAT), 6531 (SMTPUTF8),
// 3461 (DSN), 4954 (AUTH) and 4468 (BURL, burl.ts).

import { isUtf8 } from 'node:buffer';
import {
  AddressError,
  hasNonAscii,
  isValidDomain,
  parseAddressLiteral,
  parseForwardPathAt,
  parseReversePathAt,
  type AddressLiteral,
  type ForwardPath,
  type Mailbox,
} from './address.js';
import { parseBurl, type BurlCommand } from './burl.js';
import { R } from './enhanced-status.js';
import { MAX_ENVID, MAX_ORCPT, MAX_SASL_MECHANISM, MAX_SIZE_DIGITS } from './limits.js';
import { withText, type Reply } from './reply.js';
import { SmtpError } from './smtp-error.js';
import { decodeXtext } from './xtext.js';

export type HeloHost =
  | { readonly kind: 'domain'; readonly domain: string }
  | { readonly kind: 'literal'; readonly literal: AddressLiteral; readonly raw: string }
  /** Not a valid domain or literal (e.g. `DESKTOP_1`, common from Windows clients). Postfix
   * accepts these unless configured otherwise; the server's policy decides. */
  | { readonly kind: 'other'; readonly raw: string };

export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';
export type DsnRet = 'FULL' | 'HDRS';

export interface MailParams {
  /** RFC 1870 declared size. */
  readonly size?: number;
  /** RFC 6152 / RFC 3030 body type. */
  readonly body?: BodyType;
  /** RFC 6531 3.4. */
  readonly smtputf8: boolean;
  /** RFC 3461 4.3. */
  readonly ret?: DsnRet;
  /** RFC 3461 4.4, xtext-decoded. */
  readonly envid?: string;
  /** RFC 4954 5: decoded AUTH= value; null for `AUTH=<>`. */
  readonly auth?: string | null;
  /** RFC 8689 4.1: relay only over verified TLS. */
  readonly requireTls?: boolean;
}

export interface DsnNotify {
  readonly never: boolean;
  readonly success: boolean;
  readonly failure: boolean;
  readonly delay: boolean;
}

export interface Orcpt {
  /** Address type, e.g. `rfc822` or `utf-8` (RFC 6533), as given. */
  readonly addrType: string;
  /** The address, decoded. */
  readonly address: string;
  /** The parameter value as received, to relay unchanged (RFC 3461 4.2). */
  readonly raw: string;
}

export interface RcptParams {
  /** RFC 3461 4.1. */
  readonly notify?: DsnNotify;
  /** RFC 3461 4.2. */
  readonly orcpt?: Orcpt;
}

export type SmtpCommand =
  | { readonly verb: 'EHLO' | 'HELO'; readonly host: HeloHost }
  | { readonly verb: 'MAIL'; readonly from: Mailbox | null; readonly params: MailParams }
  | { readonly verb: 'RCPT'; readonly to: ForwardPath; readonly params: RcptParams }
  | { readonly verb: 'DATA' }
  | { readonly verb: 'BDAT'; readonly size: number; readonly last: boolean }
  | BurlCommand
  | { readonly verb: 'RSET' }
  | { readonly verb: 'NOOP' }
  | { readonly verb: 'QUIT' }
  | { readonly verb: 'VRFY'; readonly arg: string }
  | { readonly verb: 'EXPN'; readonly arg: string }
  | { readonly verb: 'HELP'; readonly arg?: string }
  | { readonly verb: 'STARTTLS' }
  /** RFC 4954 4. initialResponse is the base64 text ("" for "="), undefined when absent. */
  | { readonly verb: 'AUTH'; readonly mechanism: string; readonly initialResponse?: string };

export type SmtpVerb = SmtpCommand['verb'];

/** Service extensions whose MAIL/RCPT parameters the server offers. A parameter of an
 * extension not offered is unknown (555, RFC 5321 4.1.1.11). Default: all on. */
export interface CommandExtensions {
  size?: boolean;
  eightBitMime?: boolean;
  binaryMime?: boolean;
  smtputf8?: boolean;
  dsn?: boolean;
  auth?: boolean;
  requireTls?: boolean;
}

export interface ParseCommandOptions {
  /** For RCPT: the transaction's MAIL had SMTPUTF8, so UTF-8 addresses are allowed. */
  smtputf8?: boolean;
  extensions?: CommandExtensions;
  /** Local part limit for addresses; default MAX_LOCAL_PART. */
  maxLocalPart?: number;
}

// Postfix's smtpd_forbidden_commands: a web or proxy client, not a mail client; hang up.
const FORBIDDEN_VERBS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'CONNECT', 'USER', 'PASS']);

function fail(r: Reply, text?: string, fatal = false): never {
  throw new SmtpError(text === undefined ? r : withText(r, text), fatal);
}

/** Parses one command line (without CRLF). Buffers must be UTF-8 (RFC 6531) without NUL. */
export function parseCommand(input: Buffer | string, opts: ParseCommandOptions = {}): SmtpCommand {
  let line: string;
  if (typeof input === 'string') {
    line = input;
  } else {
    if (!isUtf8(input)) fail(R.invalidUtf8);
    line = input.toString('utf8');
  }
  // RFC 5321 4.1.1: commands are printable text; CR, LF, NUL and other controls never belong.
  // TAB is tolerated as whitespace at the end only.
  line = line.replace(/[ \t]+$/, '');
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) fail(R.syntaxError, 'control character in command');
  if (line === '') fail(R.syntaxError, 'empty command');

  const sp = line.indexOf(' ');
  const word = sp < 0 ? line : line.slice(0, sp);
  const verb = word.toUpperCase();
  const rest = sp < 0 ? '' : line.slice(sp + 1);
  const noArgs = (v: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS'): SmtpCommand => {
    if (sp >= 0) fail(R.badArguments, `syntax: ${v} (no parameters allowed)`);
    return { verb: v };
  };

  switch (verb) {
    case 'EHLO':
    case 'HELO':
      return { verb, host: parseHeloArg(verb, rest, sp >= 0) };
    case 'MAIL':
      return parseMail(rest, opts);
    case 'RCPT':
      return parseRcpt(rest, opts);
    case 'DATA':
    case 'RSET':
    case 'QUIT':
    case 'STARTTLS':
      return noArgs(verb);
    case 'NOOP':
      // RFC 5321 4.1.1.9: a parameter may be given and is ignored.
      return { verb: 'NOOP' };
    case 'VRFY':
    case 'EXPN': {
      const arg = rest.trim();
      if (!arg) fail(R.badArguments, `syntax: ${verb} string`);
      return { verb, arg };
    }
    case 'HELP': {
      const arg = rest.trim();
      return arg ? { verb: 'HELP', arg } : { verb: 'HELP' };
    }
    case 'BDAT':
      return parseBdat(rest);
    case 'BURL':
      return parseBurl(rest);
    case 'AUTH':
      return parseAuth(rest);
  }
  if (FORBIDDEN_VERBS.has(verb) || /^[^A-Za-z]/.test(word)) fail(R.commandUnrecognized, 'not an SMTP client', true);
  return fail(R.commandUnrecognized);
}

function parseHeloArg(verb: 'EHLO' | 'HELO', rest: string, hadSpace: boolean): HeloHost {
  const arg = rest.trim();
  if (!hadSpace || !arg) fail(R.badArguments, `syntax: ${verb} hostname`);
  if (/\s/.test(arg)) fail(R.badArguments, `syntax: ${verb} hostname`);
  if (arg.startsWith('[')) {
    try {
      return { kind: 'literal', literal: parseAddressLiteral(arg), raw: arg };
    } catch {
      return { kind: 'other', raw: arg };
    }
  }
  return isValidDomain(arg) ? { kind: 'domain', domain: arg } : { kind: 'other', raw: arg };
}

/** Splits "FROM:" / "TO:" off, tolerating spaces after the colon as Postfix does. */
function afterKeyword(rest: string, keyword: 'FROM:' | 'TO:', usage: string): string {
  if (rest.slice(0, keyword.length).toUpperCase() !== keyword) fail(R.badArguments, `syntax: ${usage}`);
  const after = rest.slice(keyword.length).replace(/^ +/, '');
  if (after === '') fail(R.badArguments, `syntax: ${usage}`);
  return after;
}

interface RawParam {
  readonly keyword: string;
  readonly value?: string;
}

/** esmtp-param = esmtp-keyword ["=" esmtp-value], RFC 5321 4.1.2; values may be UTF-8 under
 * SMTPUTF8 (RFC 6531 3.3), which is checked by the caller once it knows. */
function splitParams(s: string): RawParam[] {
  if (s === '') return [];
  if (s[0] !== ' ') fail(R.badArguments, 'space required after address');
  const out: RawParam[] = [];
  for (const p of s.trim().split(/ +/)) {
    const eq = p.indexOf('=');
    const keyword = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? undefined : p.slice(eq + 1);
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(keyword)) fail(R.paramBad, `invalid parameter ${JSON.stringify(p)}`);
    if (value !== undefined && !/^[\x21-\x3c\x3e-\x7e\u0080-\u{10ffff}]+$/u.test(value)) fail(R.paramBad, `invalid value for ${keyword.toUpperCase()}`);
    out.push({ keyword: keyword.toUpperCase(), value });
  }
  return out;
}

function addressFailure(e: unknown, badSyntax: Reply): never {
  if (e instanceof AddressError) {
    if (e.reason === 'utf8') fail(R.utf8AddressNotPermitted);
    fail(badSyntax, `${badSyntax.lines[0]}: ${e.message}`);
  }
  throw e;
}

function parseMail(rest: string, opts: ParseCommandOptions): SmtpCommand {
  const ext = opts.extensions ?? {};
  const after = afterKeyword(rest, 'FROM:', 'MAIL FROM:<address>');
  let path;
  try {
    // UTF-8 is checked below once the SMTPUTF8 parameter is known.
    path = parseReversePathAt(after, 0, { smtputf8: true, maxLocalPart: opts.maxLocalPart });
  } catch (e) {
    addressFailure(e, R.badSenderSyntax);
  }
  const params = splitParams(after.slice(path.end));
  const seen = new Set<string>();
  let size: number | undefined;
  let body: BodyType | undefined;
  let smtputf8 = false;
  let ret: DsnRet | undefined;
  let envid: string | undefined;
  let auth: string | null | undefined;
  let requireTls = false;
  for (const { keyword, value } of params) {
    if (seen.has(keyword)) fail(R.paramBad, `duplicate ${keyword} parameter`);
    seen.add(keyword);
    switch (keyword) {
      case 'SIZE':
        // RFC 1870 5: size-value = 1*20DIGIT
        if (ext.size === false) break;
        if (value === undefined || !/^\d{1,20}$/.test(value)) fail(R.paramBad, 'syntax: SIZE=<digits>');
        if (value.replace(/^0+(?=\d)/, '').length > MAX_SIZE_DIGITS) fail(R.sizeExceedsLimit);
        size = Number(value);
        continue;
      case 'BODY': {
        const v = value?.toUpperCase();
        if (v === '7BIT' || (v === '8BITMIME' && ext.eightBitMime !== false) || (v === 'BINARYMIME' && ext.binaryMime !== false)) {
          body = v;
          continue;
        }
        if (ext.eightBitMime === false && ext.binaryMime === false) break;
        return fail(R.paramBad, `unsupported BODY=${value ?? ''}`);
      }
      case 'SMTPUTF8':
        if (ext.smtputf8 === false) break;
        if (value !== undefined) fail(R.paramBad, 'SMTPUTF8 takes no value');
        smtputf8 = true;
        continue;
      case 'RET': {
        if (ext.dsn === false) break;
        const v = value?.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') fail(R.paramBad, 'syntax: RET=FULL|HDRS');
        ret = v as DsnRet;
        continue;
      }
      case 'ENVID': {
        if (ext.dsn === false) break;
        const d = value === undefined ? undefined : decodeXtext(value);
        if (d === undefined || d.length > MAX_ENVID) fail(R.paramBad, 'invalid ENVID');
        envid = d;
        continue;
      }
      case 'REQUIRETLS':
        if (ext.requireTls !== true) break;
        if (value !== undefined) fail(R.paramBad, 'REQUIRETLS takes no value');
        requireTls = true;
        continue;
      case 'AUTH': {
        if (ext.auth === false) break;
        if (value === '<>') {
          auth = null;
          continue;
        }
        const d = value === undefined ? undefined : decodeXtext(value, true);
        if (d === undefined || d === '') fail(R.paramBad, 'invalid AUTH parameter');
        auth = d;
        continue;
      }
    }
    fail(R.paramUnknown, `unrecognized parameter ${keyword}`);
  }
  // RFC 6531 3.3: UTF-8 in the path or in parameter values only with SMTPUTF8.
  if (!smtputf8 && (path.path?.utf8 || params.some((p) => p.value !== undefined && hasNonAscii(p.value)))) {
    if (path.path?.utf8) fail(R.utf8AddressNotPermitted);
    fail(R.paramBad, 'non-ASCII parameter value requires SMTPUTF8');
  }
  const mp: MailParams = { smtputf8, ...(size !== undefined && { size }), ...(body && { body }), ...(ret && { ret }), ...(envid !== undefined && { envid }), ...(auth !== undefined && { auth }), ...(requireTls && { requireTls }) };
  return { verb: 'MAIL', from: path.path, params: mp };
}

function parseRcpt(rest: string, opts: ParseCommandOptions): SmtpCommand {
  const ext = opts.extensions ?? {};
  const utf8 = opts.smtputf8 ?? false;
  const after = afterKeyword(rest, 'TO:', 'RCPT TO:<address>');
  let path;
  try {
    path = parseForwardPathAt(after, 0, { smtputf8: utf8, maxLocalPart: opts.maxLocalPart });
  } catch (e) {
    addressFailure(e, R.badRecipientSyntax);
  }
  const params = splitParams(after.slice(path.end));
  const seen = new Set<string>();
  let notify: DsnNotify | undefined;
  let orcpt: Orcpt | undefined;
  for (const { keyword, value } of params) {
    if (seen.has(keyword)) fail(R.paramBad, `duplicate ${keyword} parameter`);
    seen.add(keyword);
    if (value !== undefined && !utf8 && hasNonAscii(value)) fail(R.paramBad, 'non-ASCII parameter value requires SMTPUTF8');
    if (keyword === 'NOTIFY' && ext.dsn !== false) {
      notify = parseNotify(value);
      continue;
    }
    if (keyword === 'ORCPT' && ext.dsn !== false) {
      orcpt = parseOrcpt(value, utf8);
      continue;
    }
    fail(R.paramUnknown, `unrecognized parameter ${keyword}`);
  }
  const rp: RcptParams = { ...(notify && { notify }), ...(orcpt && { orcpt }) };
  return { verb: 'RCPT', to: path.path, params: rp };
}

// RFC 3461 4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
function parseNotify(value: string | undefined): DsnNotify {
  if (!value) return fail(R.paramBad, 'syntax: NOTIFY=NEVER|SUCCESS,FAILURE,DELAY');
  const items = value.toUpperCase().split(',');
  if (items.length === 1 && items[0] === 'NEVER') return { never: true, success: false, failure: false, delay: false };
  const n = { never: false, success: false, failure: false, delay: false };
  for (const it of items) {
    if (it === 'SUCCESS') n.success = true;
    else if (it === 'FAILURE') n.failure = true;
    else if (it === 'DELAY') n.delay = true;
    else fail(R.paramBad, 'syntax: NOTIFY=NEVER|SUCCESS,FAILURE,DELAY (NEVER alone)');
  }
  return n;
}

// RFC 3461 4.2: orcpt-parameter = "ORCPT=" original-recipient-address;
// original-recipient-address = addr-type ";" xtext. RFC 6533 3: "utf-8" addr-type, whose
// address may carry \x{HEX} escapes (utf-8-addr-xtext) and raw UTF-8 (utf-8-addr-unitext).
function parseOrcpt(value: string | undefined, utf8: boolean): Orcpt {
  const bad = (): never => fail(R.paramBad, 'syntax: ORCPT=addr-type;address');
  if (!value || value.length > MAX_ORCPT) return bad();
  const semi = value.indexOf(';');
  if (semi <= 0) return bad();
  const addrType = value.slice(0, semi);
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/.test(addrType)) return bad();
  let address = decodeXtext(value.slice(semi + 1), utf8);
  if (address === undefined || address === '') return bad();
  if (addrType.toLowerCase() === 'utf-8') {
    address = address.replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (m, hex: string) => {
      const cp = parseInt(hex, 16);
      return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : m;
    });
  }
  return { addrType, address, raw: value };
}

// RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF
function parseBdat(rest: string): SmtpCommand {
  // The size tells where the next command starts; without it the stream cannot be followed.
  const m = /^(\d+)(?: +(LAST))?$/i.exec(rest);
  if (!m) return fail(R.badArguments, 'syntax: BDAT chunk-size [LAST]', true);
  const digits = m[1]!.replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_SIZE_DIGITS) return fail(R.messageTooBig, 'chunk size too large', true);
  return { verb: 'BDAT', size: Number(digits), last: m[2] !== undefined };
}

// RFC 4954 4: "AUTH" SP sasl-mech [SP initial-response]; initial-response = base64 / "="
function parseAuth(rest: string): SmtpCommand {
  const parts = rest === '' ? [] : rest.split(/ +/);
  if (parts.length < 1 || parts.length > 2 || !parts[0]) return fail(R.badArguments, 'syntax: AUTH mechanism [initial-response]');
  const mech = parts[0].toUpperCase();
  // RFC 4422 3.1: sasl-mech = 1*20mech-char; mech-char = UPPER-ALPHA / DIGIT / "-" / "_"
  if (mech.length > MAX_SASL_MECHANISM || !/^[A-Z0-9_-]+$/.test(mech)) return fail(R.badArguments, 'invalid mechanism name');
  const ir = parts[1];
  if (ir === undefined) return { verb: 'AUTH', mechanism: mech };
  if (ir === '=') return { verb: 'AUTH', mechanism: mech, initialResponse: '' };
  if (!isBase64(ir)) return fail(R.authBadBase64);
  return { verb: 'AUTH', mechanism: mech, initialResponse: ir };
}

/** Strict RFC 4648 4 base64 (padded), as SASL requires. */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s);
}
