// IDNA to ASCII (UTS 46, as URL hosts) of a domain already in lower case, with a fast path: a
// name of letters, digits, dots and hyphens comes back unchanged, unless it has a punycode label
// (validated by the full path) or ends in a number (parsed as an IPv4 address by URL rules).
// domainToASCII was the costliest step of an address lookup, and almost every domain is plain.

import { domainToASCII } from 'node:url';

const PLAIN = /^[a-z0-9.-]*$/;
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)\.?$/;

/** The A-label form of `lower` (lower-case input), or '' when IDNA rejects it. */
export function toAsciiDomain(lower: string): string {
  if (PLAIN.test(lower) && !lower.includes('xn--') && !NUMERIC_LAST_LABEL.test(lower)) return lower;
  return domainToASCII(lower);
}
