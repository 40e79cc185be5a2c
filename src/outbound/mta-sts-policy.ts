// MTA-STS (RFC 8461) texts: the _mta-sts TXT record (3.1), the policy file (3.2), and whether an
// MX host name is one the policy allows (4.1). Pure parsing, no I/O.

import { MTA_STS_MAX_AGE_S } from './limits.js';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  mode: MtaStsMode;
  /** Allowed MX patterns, lower case; "*.example.com" matches one leftmost label. */
  mx: string[];
  /** Seconds. */
  maxAge: number;
}

export class MtaStsParseError extends Error {
  override name = 'MtaStsParseError';
}

/** The id of a `v=STSv1; id=...` record, or null when the text is no STSv1 record. */
export function parseMtaStsRecord(txt: string): string | null {
  // RFC 8461 3.1: "v=STSv1" first; fields separated by ";" with optional spaces; id is 1-32 alphanumerics.
  const fields = txt.split(';').map((f) => f.trim()).filter((f) => f !== '');
  if (fields[0] !== 'v=STSv1') return null;
  let id: string | null = null;
  for (const f of fields.slice(1)) {
    const eq = f.indexOf('=');
    if (eq <= 0) return null;
    if (f.slice(0, eq) === 'id') id = f.slice(eq + 1);
  }
  return id !== null && /^[A-Za-z0-9]{1,32}$/.test(id) ? id : null;
}

/** Picks the policy id from a domain's TXT records: exactly one STSv1 record must exist (3.1). */
export function mtaStsIdFromTxt(records: string[][]): string | null {
  const ids = records.map((chunks) => chunks.join('')).filter((t) => t.startsWith('v=STSv1')).map(parseMtaStsRecord);
  return ids.length === 1 ? ids[0]! : null;
}

/** Parses a policy file; throws MtaStsParseError when it is not a usable STSv1 policy. */
export function parseMtaStsPolicy(text: string): MtaStsPolicy {
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: string | undefined;
  const mx: string[] = [];
  // RFC 8461 3.2: key/value lines ending in CRLF (LF accepted, as every implementation does).
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MtaStsParseError(`policy line without a key: ${JSON.stringify(line.slice(0, 80))}`);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    // The first occurrence of a field counts, except mx which repeats (3.2).
    if (key === 'version') version ??= value;
    else if (key === 'mode') mode ??= value;
    else if (key === 'max_age') maxAge ??= value;
    else if (key === 'mx') mx.push(value.toLowerCase().replace(/\.$/, ''));
  }
  if (version !== 'STSv1') throw new MtaStsParseError(`policy version is ${JSON.stringify(version ?? '')}, not STSv1`);
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') throw new MtaStsParseError(`policy mode ${JSON.stringify(mode ?? '')} is not enforce, testing or none`);
  if (maxAge === undefined || !/^[0-9]{1,10}$/.test(maxAge)) throw new MtaStsParseError('policy max_age is missing or not a number');
  if (mode !== 'none' && mx.length === 0) throw new MtaStsParseError('policy names no mx');
  for (const p of mx) {
    if (!/^(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(p)) throw new MtaStsParseError(`policy mx ${JSON.stringify(p)} is not a host name pattern`);
  }
  return { mode, mx, maxAge: Math.min(Number(maxAge), MTA_STS_MAX_AGE_S) };
}

/** RFC 8461 4.1: the MX host matches a pattern exactly, or "*.x" matches one label left of x. */
export function mxAllowed(policy: MtaStsPolicy, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return policy.mx.some((p) => {
    if (!p.startsWith('*.')) return p === h;
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
  });
}
