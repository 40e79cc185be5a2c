// Which Host a web listener answers to (spec 9). A name we do not serve means a DNS rebinding
// attempt (someone else's name pointed at our address, so that a browser treats our pages as
// that site's), a misrouted request, or a scanner: 421 Misdirected Request (RFC 9110 15.5.20).
//
// Ours: the configured host name, the addresses we listen on (and the one the connection came
// in on), and on a loopback listener "localhost" and loopback addresses. Thunderbird's autoconfig
// lookup asks autoconfig.DOMAIN and DOMAIN/.well-known for each mail domain, and senders fetch our
// MTA-STS policy from mta-sts.DOMAIN: those names reach those public files only (no session, no
// cookie is ever used there), whose handlers answer 404 for a domain that is not ours.

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './http-error.js';

/** The autoconfig file on autoconfig.DOMAIN, and on DOMAIN under /.well-known. */
export const AUTOCONFIG_PATH = '/mail/config-v1.1.xml';
export const WELL_KNOWN_AUTOCONFIG_PATH = '/.well-known/autoconfig/mail/config-v1.1.xml';
/** Our MTA-STS policy, on mta-sts.DOMAIN (RFC 8461 3.3). */
export const MTA_STS_PATH = '/.well-known/mta-sts.txt';

export interface HostPolicy {
  /** Host names, lower case. */
  names: string[];
  /** IP addresses we listen on (wildcards excluded). */
  addresses: string[];
  /** The listener is on a loopback address: localhost and loopback addresses are ours too. */
  loopback: boolean;
  /** Whether a domain (A-labels, lower case) is one of ours (for the autoconfig names). */
  isLocalDomain(domain: string): Promise<boolean>;
}

export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

function unbracket(h: string): string {
  return h.replace(/^\[(.*)\]$/, '$1');
}

function plainIp(ip: string): string {
  return ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1').toLowerCase();
}

/** The host part of a Host header, lower case, without port or brackets; null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header);
  if (!m) return null;
  return unbracket(m[1]!).toLowerCase().replace(/\.$/, '');
}

/** Refuses (421) a request whose Host is not one of ours. */
export async function checkHost(req: IncomingMessage, pathname: string, policy: HostPolicy): Promise<void> {
  const name = hostName(req.headers.host);
  if (name !== null && (await isOurs(name, req, pathname, policy))) return;
  throw new HttpError(421, 'host', 'unexpected Host header; use the server name or its address');
}

async function isOurs(name: string, req: IncomingMessage, pathname: string, policy: HostPolicy): Promise<boolean> {
  if (isIP(name) !== 0) {
    const ip = plainIp(name);
    if (policy.loopback && isLoopbackHost(ip)) return true;
    return ip === plainIp(req.socket.localAddress ?? '') || policy.addresses.some((a) => plainIp(a) === ip);
  }
  if (policy.names.includes(name) || (policy.loopback && name === 'localhost')) return true;
  // The handlers of these public files decide which domains are ours (404 for the others).
  if (pathname === AUTOCONFIG_PATH && name.startsWith('autoconfig.')) return true;
  if (pathname === MTA_STS_PATH) return true;
  return pathname === WELL_KNOWN_AUTOCONFIG_PATH;
}
