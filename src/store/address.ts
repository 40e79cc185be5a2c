// Account addresses: syntax check and the canonical form used as the lookup key. Local parts are
// compared case-insensitively (like Postfix/Dovecot with lowercase lookups); domains are lower-cased
// and IDNA-encoded to ASCII.

import { toAsciiDomain } from '../util/ascii-domain.js';
import { StoreError } from './errors.js';

const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface ParsedAddress {
  localPart: string;
  domain: string;
  address: string;
}

export function normalizeDomain(domain: string): string {
  const ascii = toAsciiDomain(domain.trim().toLowerCase().replace(/\.$/, ''));
  if (!ascii || ascii.length > 253 || !ascii.split('.').every((l) => LABEL.test(l)) || !ascii.includes('.') && ascii !== 'localhost') {
    throw new StoreError('invalid', `invalid domain ${JSON.stringify(domain)}`);
  }
  return ascii;
}

export function parseAddress(input: string): ParsedAddress {
  const s = input.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) throw new StoreError('invalid', `invalid address ${JSON.stringify(input)}: expected local@domain`);
  const raw = s.slice(0, at);
  const local = /^[\x00-\x7f]*$/.test(raw) ? raw : raw.normalize('NFC');
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..') ||
      !local.split('.').every((atom) => LOCAL_ATOM.test(atom))) {
    throw new StoreError('invalid', `invalid address ${JSON.stringify(input)}: bad local part`);
  }
  let domain: string;
  try {
    domain = normalizeDomain(s.slice(at + 1));
  } catch {
    throw new StoreError('invalid', `invalid address ${JSON.stringify(input)}: bad domain`);
  }
  const localPart = local.toLowerCase();
  return { localPart, domain, address: `${localPart}@${domain}` };
}

export function canonicalAddress(input: string): string {
  return parseAddress(input).address;
}
