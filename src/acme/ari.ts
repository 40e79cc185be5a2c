// ACME Renewal Information (RFC 9773): the CA's suggested renewal window for a certificate.

import { X509Certificate } from 'node:crypto';
import { decodeOid, readChildren, readElement } from '../tls/der.js';
import { ARI_DEFAULT_POLL_MS, ARI_MAX_POLL_MS, ARI_MIN_POLL_MS } from './limits.js';

/** RFC 9773 4.1: base64url(AKI keyIdentifier) "." base64url(serial number DER content). */
export function ariCertId(leaf: X509Certificate): string | null {
  const aki = authorityKeyIdentifier(leaf.raw);
  if (!aki) return null;
  return `${aki.toString('base64url')}.${serialContent(leaf.raw).toString('base64url')}`;
}

function tbsFields(der: Buffer) {
  const cert = readElement(der);
  const tbs = readElement(cert.content);
  const fields = readChildren(tbs.content);
  // version [0] is optional: with it, serial is the second field.
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

function serialContent(der: Buffer): Buffer {
  return tbsFields(der)[0]!.content;
}

/** The keyIdentifier [0] of the authorityKeyIdentifier extension (RFC 5280 4.2.1.1), or null. */
function authorityKeyIdentifier(der: Buffer): Buffer | null {
  const exts = tbsFields(der).find((f) => f.tag === 0xa3);
  if (!exts) return null;
  for (const ext of readChildren(readElement(exts.content).content)) {
    const [id, ...rest] = readChildren(ext.content);
    if (!id || decodeOid(id.content) !== '2.5.29.35') continue;
    const value = rest[rest.length - 1]!; // OCTET STRING after the optional critical flag
    const keyId = readChildren(readElement(value.content).content).find((e) => e.tag === 0x80);
    return keyId ? keyId.content : null;
  }
  return null;
}

export interface RenewalWindow {
  start: Date;
  end: Date;
  /** When to ask again (Retry-After, clamped). */
  pollAt: Date;
}

/** Parses a renewalInfo response (RFC 9773 4.2); null when it is not a usable window. */
export function parseRenewalInfo(body: unknown, retryAfter: string | undefined, now: number): RenewalWindow | null {
  const w = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | null)?.suggestedWindow;
  if (!w || typeof w.start !== 'string' || typeof w.end !== 'string') return null;
  const start = new Date(w.start);
  const end = new Date(w.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end.getTime() <= start.getTime()) return null;
  return { start, end, pollAt: new Date(now + retryAfterMs(retryAfter, now)) };
}

function retryAfterMs(header: string | undefined, now: number): number {
  let ms = ARI_DEFAULT_POLL_MS;
  if (header && /^\d+$/.test(header.trim())) ms = Number(header.trim()) * 1000;
  else if (header && !Number.isNaN(Date.parse(header))) ms = Date.parse(header) - now;
  return Math.min(ARI_MAX_POLL_MS, Math.max(ARI_MIN_POLL_MS, ms));
}

/** RFC 9773 4.2: a uniformly random moment inside the window spreads renewals over it. */
export function pickInWindow(w: RenewalWindow, random: () => number = Math.random): Date {
  return new Date(w.start.getTime() + Math.floor(random() * (w.end.getTime() - w.start.getTime())));
}
