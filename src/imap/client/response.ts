// The response model: what the parser makes of one server response (RFC 9051 7).

/** An atom or number as the server sent it (numbers stay text: MODSEQ needs 63 bits). */
export interface Atom {
  readonly atom: string;
}

/**
 * A parsed value: NIL is null, strings (quoted or literal) are bytes (8-bit data stays exact),
 * atoms and numbers are {@link Atom}, parenthesised lists are arrays.
 */
export type Value = null | Buffer | Atom | Value[];

/** A response code in brackets, e.g. `[UIDVALIDITY 3857529045]` (RFC 9051 7.1). */
export interface ResponseCode {
  /** Upper-cased name: `UIDVALIDITY`, `CAPABILITY`, `APPENDUID`, ... */
  name: string;
  /** The arguments as parsed values (empty when there are none). */
  args: Value[];
}

/** A status response: tagged, or untagged OK/NO/BAD/BYE/PREAUTH. */
export interface StatusResponse {
  kind: 'status';
  /** The command's tag, or `*`. */
  tag: string;
  status: 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';
  code?: ResponseCode;
  text: string;
}

/** `+ ...`: the server waits for more (literal, AUTHENTICATE challenge, IDLE). */
export interface ContinuationResponse {
  kind: 'continuation';
  /** The text after `+ ` (for AUTHENTICATE: base64). */
  text: string;
}

/** Any other untagged response: `* 3 EXISTS`, `* 1 FETCH (...)`, `* LIST ...`, `* SEARCH 1 2`. */
export interface DataResponse {
  kind: 'data';
  /** Upper-cased response name: EXISTS, EXPUNGE, FETCH, FLAGS, LIST, STATUS, SEARCH, ESEARCH, ... */
  name: string;
  /** The number before the name (`* 3 EXISTS`), if any. */
  number?: number;
  /** Everything after the name. */
  values: Value[];
}

export type Response = StatusResponse | ContinuationResponse | DataResponse;

export function isAtom(v: Value | undefined): v is Atom {
  return v !== null && v !== undefined && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** Text of an atom or string, or undefined for NIL/lists. */
export function valueText(v: Value | undefined): string | undefined {
  if (v === null || v === undefined || Array.isArray(v)) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : v.atom;
}

/** Text or null (NIL); lists give null too. */
export function nstring(v: Value | undefined): string | null {
  return valueText(v) ?? null;
}

/** A number value; throws when it is not one. */
export function numberOf(v: Value | undefined): number {
  const t = isAtom(v) ? v.atom : undefined;
  if (t === undefined || !/^\d+$/.test(t)) throw new ImapParseError(`expected a number, got ${describe(v)}`);
  return Number(t);
}

/** A 63-bit number (MODSEQ, RFC 7162 7) as bigint. */
export function bigNumberOf(v: Value | undefined): bigint {
  const t = isAtom(v) ? v.atom : undefined;
  if (t === undefined || !/^\d+$/.test(t)) throw new ImapParseError(`expected a number, got ${describe(v)}`);
  return BigInt(t);
}

export function listOf(v: Value | undefined): Value[] {
  if (!Array.isArray(v)) throw new ImapParseError(`expected a list, got ${describe(v)}`);
  return v;
}

function describe(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'NIL';
  if (Array.isArray(v)) return 'a list';
  return Buffer.isBuffer(v) ? 'a string' : `"${v.atom}"`;
}

/** The server sent something we cannot parse. */
export class ImapParseError extends Error {
  override name = 'ImapParseError';
}
