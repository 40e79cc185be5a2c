// EHLO reply to capabilities (client side). RFC 5321 4.1.1.1: the first line is the server's
// domain and greeting, each further line an ehlo-keyword with optional parameters.

import { MAX_MESSAGE_SIZE } from './limits.js';
import type { Reply } from './reply.js';

export interface EhloCapabilities {
  /** Domain the server named in the first line. */
  readonly domain: string;
  /** Rest of the first line. */
  readonly greeting: string;
  /** Every keyword (upper case) with its parameters, as advertised. */
  readonly keywords: ReadonlyMap<string, readonly string[]>;
  /** RFC 1870: declared maximum size; 0 when SIZE is given without a number (no fixed limit),
   * undefined when SIZE is not advertised. */
  readonly size?: number;
  /** RFC 4954: mechanisms, upper case; empty when AUTH is not offered. Old `AUTH=` lines count. */
  readonly auth: readonly string[];
  readonly pipelining: boolean;
  readonly startTls: boolean;
  readonly eightBitMime: boolean;
  readonly binaryMime: boolean;
  readonly chunking: boolean;
  readonly smtpUtf8: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly dsn: boolean;
  /** RFC 8689 3. */
  readonly requireTls: boolean;
}

export function parseEhloReply(r: Reply): EhloCapabilities {
  const [first = '', ...rest] = r.lines;
  const sp = first.indexOf(' ');
  const domain = sp < 0 ? first : first.slice(0, sp);
  const greeting = sp < 0 ? '' : first.slice(sp + 1);
  const keywords = new Map<string, string[]>();
  const auth = new Set<string>();
  for (const line of rest) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    const kw = words.shift();
    if (!kw) continue;
    let key = kw.toUpperCase();
    // Pre-RFC 4954 servers (and Outlook-era clients) use "AUTH=PLAIN LOGIN".
    if (key.startsWith('AUTH=')) {
      words.unshift(kw.slice(5));
      key = 'AUTH';
    }
    // ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); skip anything else.
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) continue;
    if (key === 'AUTH') for (const m of words) if (m) auth.add(m.toUpperCase());
    const prev = keywords.get(key);
    keywords.set(key, prev ? [...prev, ...words] : words);
  }
  let size: number | undefined;
  const sizeParams = keywords.get('SIZE');
  if (sizeParams) {
    const v = sizeParams[0];
    size = v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : 0;
  }
  return {
    domain,
    greeting,
    keywords,
    ...(size !== undefined && { size }),
    auth: [...auth],
    pipelining: keywords.has('PIPELINING'),
    startTls: keywords.has('STARTTLS'),
    eightBitMime: keywords.has('8BITMIME'),
    binaryMime: keywords.has('BINARYMIME'),
    chunking: keywords.has('CHUNKING'),
    smtpUtf8: keywords.has('SMTPUTF8'),
    enhancedStatusCodes: keywords.has('ENHANCEDSTATUSCODES'),
    dsn: keywords.has('DSN'),
    requireTls: keywords.has('REQUIRETLS'),
  };
}

/** Server side: the EHLO reply lines after the greeting, in the usual order. */
export interface EhloOffer {
  maxSize?: number;
  pipelining?: boolean;
  startTls?: boolean;
  auth?: readonly string[];
  eightBitMime?: boolean;
  binaryMime?: boolean;
  chunking?: boolean;
  smtpUtf8?: boolean;
  enhancedStatusCodes?: boolean;
  dsn?: boolean;
  /** RFC 8689 3: only on a TLS session (the parameter is refused without TLS anyway). */
  requireTls?: boolean;
  /** RFC 4468 3: the URL types BURL takes here (e.g. `imap`, `imap://host`); absent: no BURL. */
  burl?: readonly string[];
}

/** Builds the EHLO reply (code 250, no enhanced code, RFC 2034 3). */
export function ehloReply(domain: string, greeting: string, offer: EhloOffer): Reply {
  const lines = [greeting ? `${domain} ${greeting}` : domain];
  if (offer.pipelining) lines.push('PIPELINING');
  // RFC 1870 4: SIZE with the limit; 0 means none.
  lines.push(`SIZE ${offer.maxSize ?? MAX_MESSAGE_SIZE}`);
  if (offer.startTls) lines.push('STARTTLS');
  if (offer.auth && offer.auth.length) lines.push(`AUTH ${offer.auth.join(' ')}`);
  if (offer.enhancedStatusCodes) lines.push('ENHANCEDSTATUSCODES');
  if (offer.eightBitMime) lines.push('8BITMIME');
  if (offer.binaryMime) lines.push('BINARYMIME');
  if (offer.chunking) lines.push('CHUNKING');
  if (offer.burl) lines.push(offer.burl.length ? `BURL ${offer.burl.join(' ')}` : 'BURL');
  if (offer.smtpUtf8) lines.push('SMTPUTF8');
  if (offer.dsn) lines.push('DSN');
  if (offer.requireTls) lines.push('REQUIRETLS');
  return { code: 250, lines };
}
