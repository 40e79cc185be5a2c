// DANE for SMTP (RFC 7672): which MX hosts have DNSSEC-secure TLSA records, and whether a
// server's certificate chain matches them. DANE applies to a host only when the MX RRset (or, for
// an implicit MX, the domain's addresses) and the host's address records are secure (2.2.1,
// 2.2.2); a TLSA lookup that fails (SERVFAIL: bogus or unreachable) makes the host unusable;
// secure records that are all unusable give plain opportunistic TLS (2.2, "unusable").

import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { DnssecResolver, TlsaRecord } from '../dns/dnssec-resolver.js';
import { DnssecResolverError } from '../dns/dnssec-resolver.js';
import type { DestinationHost } from './destination.js';
import type { TlsCheckFailure, TlsResultType } from './tls-check.js';

export type DaneState =
  | { kind: 'none'; why: 'insecure-mx' | 'insecure-address' | 'no-tlsa' | 'unusable-tlsa' }
  | { kind: 'dane'; records: TlsaRecord[] }
  | { kind: 'failed'; result: TlsResultType; message: string };

/** RFC 7672 3.1: DANE-TA(2) and DANE-EE(3) are the usages for SMTP; PKIX ones are unusable. */
function usable(r: TlsaRecord): boolean {
  return (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) && r.matchingType >= 0 && r.matchingType <= 2;
}

/** Whether the MX RRset of `domain` is secure (else DANE does not apply to any of its hosts). */
export async function secureMx(resolver: DnssecResolver, domain: string, implicit: boolean): Promise<boolean> {
  try {
    if (implicit) return (await resolver.addresses(domain, 'A')).secure;
    return (await resolver.mx(domain)).secure;
  } catch (err) {
    if (err instanceof DnssecResolverError) return false;
    throw err;
  }
}

/** DANE state of one MX host reached on `port` (TLSA at _port._tcp.host, RFC 7672 2.2.3). */
export async function daneForHost(resolver: DnssecResolver, host: string, port: number): Promise<DaneState> {
  try {
    const [a, aaaa] = await Promise.all([resolver.addresses(host, 'A'), resolver.addresses(host, 'AAAA')]);
    const withData = [a, aaaa].filter((x) => x.records.length > 0);
    if (withData.length === 0 || withData.some((x) => !x.secure)) return { kind: 'none', why: 'insecure-address' };
    const t = await resolver.tlsa(`_${port}._tcp.${host}`);
    if (t.rcode !== 'NOERROR' && t.rcode !== 'NXDOMAIN') {
      return { kind: 'failed', result: 'dnssec-invalid', message: `TLSA lookup for ${host} failed (${t.rcode})` };
    }
    if (!t.secure || t.records.length === 0) return { kind: 'none', why: 'no-tlsa' };
    const records = t.records.filter(usable);
    return records.length ? { kind: 'dane', records } : { kind: 'none', why: 'unusable-tlsa' };
  } catch (err) {
    if (!(err instanceof DnssecResolverError)) throw err;
    return { kind: 'failed', result: 'dnssec-invalid', message: `TLSA lookup for ${host} failed: ${err.message}` };
  }
}

export async function daneForHosts(resolver: DnssecResolver, domain: string, hosts: DestinationHost[], port: number, implicitMx: boolean): Promise<Map<string, DaneState>> {
  const out = new Map<string, DaneState>();
  const dnsHosts = hosts.filter((h) => h.lookup === 'dns');
  if (dnsHosts.length === 0) return out;
  if (!(await secureMx(resolver, domain, implicitMx))) return out;
  await Promise.all(dnsHosts.map(async (h) => out.set(h.name, await daneForHost(resolver, h.name, port))));
  return out;
}

function matches(r: TlsaRecord, cert: X509Certificate): boolean {
  const selected = r.selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
  const digest = r.matchingType === 0 ? selected : createHash(r.matchingType === 1 ? 'sha256' : 'sha512').update(selected).digest();
  return digest.equals(r.data);
}

/** The chain as the server sent it, leaf first (node links issuers; a self-issued one ends it). */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && c.raw.length && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/** A TLSA text for TLS-RPT policy-string (RFC 8460 4.4: the records in presentation form). */
export function tlsaText(r: TlsaRecord): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`;
}

/** RFC 7672 3.1: DANE-EE(3) matches the leaf, with no name or date checks; DANE-TA(2) matches a
 * certificate of the chain the leaf is issued under, with the leaf's name and dates checked. */
export function daneCheck(socket: TLSSocket, records: TlsaRecord[], hostname: string): TlsCheckFailure | null {
  const chain = peerChain(socket);
  const leaf = chain[0];
  if (!leaf) return { result: 'validation-failure', message: 'server sent no certificate' };
  if (records.some((r) => r.usage === 3 && matches(r, leaf))) return null;
  const ta = records.filter((r) => r.usage === 2);
  for (let i = 1; i < chain.length && ta.length; i++) {
    if (!ta.some((r) => matches(r, chain[i]!))) continue;
    // Each link up to the trust anchor must be a real issuance (signature and names).
    let linked = true;
    for (let j = 0; j < i; j++) {
      if (!chain[j]!.checkIssued(chain[j + 1]!) || !chain[j]!.verify(chain[j + 1]!.publicKey)) linked = false;
    }
    if (!linked) continue;
    const now = Date.now();
    if (Date.parse(leaf.validTo) < now || Date.parse(leaf.validFrom) > now) return { result: 'certificate-expired', message: `certificate of ${hostname} is outside its validity` };
    if (checkServerIdentity(hostname, socket.getPeerCertificate())) return { result: 'certificate-host-mismatch', message: `certificate does not name ${hostname}` };
    return null;
  }
  return { result: 'validation-failure', message: `certificate chain of ${hostname} matches none of its TLSA records` };
}
