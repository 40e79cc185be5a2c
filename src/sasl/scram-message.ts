// SCRAM message syntax (RFC 5802 7). Pure parsers: they take the decoded text and throw
// ScramSyntaxError carrying the server-error-value to answer with.

import { MAX_SASL_MESSAGE } from './limits.js';
import { unescapeSaslname } from './saslname.js';

/** RFC 5802 7 server-error-value. */
export type ScramErrorValue =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'invalid-proof'
  | 'channel-bindings-dont-match'
  | 'server-does-support-channel-binding'
  | 'channel-binding-not-supported'
  | 'unsupported-channel-binding-type'
  | 'unknown-user'
  | 'invalid-username-encoding'
  | 'no-resources'
  | 'other-error';

export class ScramSyntaxError extends Error {
  override name = 'ScramSyntaxError';
  constructor(
    message: string,
    readonly saslError: ScramErrorValue = 'invalid-encoding',
  ) {
    super(message);
  }
}

export type Gs2CbindFlag = { flag: 'n' } | { flag: 'y' } | { flag: 'p'; cbName: string };

export interface ClientFirstMessage {
  cbind: Gs2CbindFlag;
  /** Decoded authzid from "a=", empty when absent. */
  authzid: string;
  /** The gs2-header text exactly as sent, including its final ",". */
  gs2Header: string;
  /** Decoded user name from "n=". */
  username: string;
  nonce: string;
  /** client-first-message-bare exactly as sent (part of AuthMessage). */
  bare: string;
}

export interface ServerFirstMessage {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

export interface ClientFinalMessage {
  /** Decoded c= (gs2-header plus channel-binding data). */
  channelBinding: Buffer;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof exactly as sent (part of AuthMessage). */
  withoutProof: string;
}

export type ServerFinalMessage = { error: string } | { verifier: Buffer };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PRINTABLE = /^[\x21-\x2B\x2D-\x7E]+$/; // RFC 5802 7 printable: no ","
const CB_NAME = /^[A-Za-z0-9.-]+$/;
const ATTR_VAL = /^[A-Za-z]=[^\0,]*$/s;

/** Decodes base64 strictly (node's decoder ignores junk). */
export function decodeBase64Strict(value: string): Buffer | null {
  return BASE64.test(value) ? Buffer.from(value, 'base64') : null;
}

function checkText(text: string): void {
  if (text.length > MAX_SASL_MESSAGE) throw new ScramSyntaxError('message too long');
  if (text.includes('\0')) throw new ScramSyntaxError('NUL in message');
}

function attr(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) throw new ScramSyntaxError(`expected attribute ${name}`);
  return part.slice(2);
}

function saslname(value: string): string {
  if (value.length === 0) throw new ScramSyntaxError('empty name', 'invalid-username-encoding');
  const decoded = unescapeSaslname(value);
  if (decoded === null) throw new ScramSyntaxError('bad "=" escape in name', 'invalid-username-encoding');
  return decoded;
}

function nonce(value: string): string {
  if (!PRINTABLE.test(value)) throw new ScramSyntaxError('nonce has non-printable characters');
  return value;
}

/** RFC 5802 7: reserved-mext "m=" must make authentication fail. */
function checkExtensions(parts: string[]): void {
  for (const p of parts) {
    if (!ATTR_VAL.test(p)) throw new ScramSyntaxError('malformed attribute');
  }
}

/** client-first-message = gs2-header client-first-message-bare */
export function parseClientFirst(text: string): ClientFirstMessage {
  checkText(text);
  const c1 = text.indexOf(',');
  const c2 = c1 < 0 ? -1 : text.indexOf(',', c1 + 1);
  if (c2 < 0) throw new ScramSyntaxError('missing gs2 header');
  const flagText = text.slice(0, c1);
  let cbind: Gs2CbindFlag;
  if (flagText === 'n' || flagText === 'y') cbind = { flag: flagText };
  else if (flagText.startsWith('p=') && CB_NAME.test(flagText.slice(2))) cbind = { flag: 'p', cbName: flagText.slice(2) };
  else throw new ScramSyntaxError('bad gs2 channel-binding flag');
  const authzText = text.slice(c1 + 1, c2);
  const authzid = authzText === '' ? '' : saslname(attr(authzText, 'a'));
  const bare = text.slice(c2 + 1);
  const parts = bare.split(',');
  if (parts[0]?.startsWith('m=')) throw new ScramSyntaxError('mandatory extension', 'extensions-not-supported');
  const username = saslname(attr(parts[0], 'n'));
  const clientNonce = nonce(attr(parts[1], 'r'));
  checkExtensions(parts.slice(2));
  return { cbind, authzid, gs2Header: text.slice(0, c2 + 1), username, nonce: clientNonce, bare };
}

/** server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions] */
export function parseServerFirst(text: string): ServerFirstMessage {
  checkText(text);
  const parts = text.split(',');
  if (parts[0]?.startsWith('m=')) throw new ScramSyntaxError('mandatory extension', 'extensions-not-supported');
  const serverNonce = nonce(attr(parts[0], 'r'));
  const salt = decodeBase64Strict(attr(parts[1], 's'));
  if (salt === null || salt.length === 0) throw new ScramSyntaxError('bad salt');
  const iterText = attr(parts[2], 'i');
  if (!/^[1-9][0-9]{0,9}$/.test(iterText)) throw new ScramSyntaxError('bad iteration count');
  checkExtensions(parts.slice(3));
  return { nonce: serverNonce, salt, iterations: Number(iterText) };
}

/** client-final-message = channel-binding "," nonce ["," extensions] "," proof */
export function parseClientFinal(text: string): ClientFinalMessage {
  checkText(text);
  const parts = text.split(',');
  if (parts.length < 3) throw new ScramSyntaxError('client-final-message too short');
  const cb = decodeBase64Strict(attr(parts[0], 'c'));
  if (cb === null) throw new ScramSyntaxError('bad channel-binding base64');
  const clientNonce = nonce(attr(parts[1], 'r'));
  const proofText = attr(parts[parts.length - 1], 'p');
  const proof = decodeBase64Strict(proofText);
  if (proof === null || proof.length === 0) throw new ScramSyntaxError('bad proof base64');
  checkExtensions(parts.slice(2, -1));
  return { channelBinding: cb, nonce: clientNonce, proof, withoutProof: parts.slice(0, -1).join(',') };
}

/** server-final-message = (server-error / verifier) ["," extensions] */
export function parseServerFinal(text: string): ServerFinalMessage {
  checkText(text);
  const parts = text.split(',');
  checkExtensions(parts.slice(1));
  if (parts[0].startsWith('e=')) {
    const value = parts[0].slice(2);
    if (value === '') throw new ScramSyntaxError('empty server error');
    return { error: value };
  }
  const verifier = decodeBase64Strict(attr(parts[0], 'v'));
  if (verifier === null || verifier.length === 0) throw new ScramSyntaxError('bad verifier base64');
  return { verifier };
}
