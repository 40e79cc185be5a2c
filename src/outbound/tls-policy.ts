// How TLS is used towards each host of a destination. Today: what a transport configures, or
// opportunistic STARTTLS for MX delivery (RFC 3207, with a plain-text retry after a failed
// handshake, RFC 7435). The interface is where MTA-STS (RFC 8461) and DANE (RFC 7672) policies
// plug in: a policy is looked up once per destination domain, then asked per host; it may demand
// verified TLS, name the certificate identity to check, or refuse a host (an MX outside the
// MTA-STS policy) with a reason that ends up in the DSN.

import type { TlsMode } from '../smtp/client/index.js';
import type { Destination, DestinationHost } from './destination.js';

/** TLS settings for one connection. */
export interface HostTls {
  mode: TlsMode;
  /** Skip certificate verification (transports that say so). */
  insecure: boolean;
  /** Name for SNI and certificate checks; undefined when connecting to an IP the admin gave. */
  servername?: string;
  /** After a failed handshake (no reply from the server), try again without TLS. */
  plainFallback: boolean;
}

export type HostTlsDecision = { ok: true; tls: HostTls } | { ok: false; permanent: boolean; status: string; message: string };

/** The TLS policy of one destination, asked for each host in turn. */
export interface DestinationTlsPolicy {
  forHost(host: DestinationHost): HostTlsDecision;
}

export interface TlsPolicy {
  /** Looks up what applies to mail for `domain` (MTA-STS fetch, TLSA lookups go here). */
  forDestination(domain: string, dest: Destination): Promise<DestinationTlsPolicy>;
}

/** Transport settings, else opportunistic STARTTLS with a plain-text fallback (Postfix `may`). */
export const defaultTlsPolicy: TlsPolicy = {
  async forDestination(_domain, dest) {
    return {
      forHost(host) {
        return {
          ok: true,
          tls: {
            mode: dest.tls,
            insecure: dest.insecure,
            // MX host names are what the certificate should name; a transport host or an address
            // literal is connected to as given.
            ...(host.lookup === 'dns' && { servername: host.name }),
            // RFC 7435: without a policy, failing TLS must not stop delivery that plain text allows.
            plainFallback: dest.tls === 'opportunistic',
          },
        };
      },
    };
  },
};
