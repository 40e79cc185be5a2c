// How TLS is used towards each host of a destination. The default: what a transport configures,
// or opportunistic STARTTLS for MX delivery (RFC 3207, with a plain-text retry after a failed
// handshake, RFC 7435). MTA-STS (RFC 8461) and DANE (RFC 7672) plug in here (policy-tls.ts):
// a policy is looked up once per destination domain, then asked per host; it may demand
// verified TLS, name the certificate identity to check, or refuse a host (an MX outside the
// MTA-STS policy) with a reason that ends up in the DSN.

import type { TLSSocket } from 'node:tls';
import type { TlsMode } from '../smtp/client/index.js';
import type { Destination, DestinationHost } from './destination.js';
import type { TlsCheckFailure, TlsResultType } from './tls-check.js';

/** TLS settings for one connection. */
export interface HostTls {
  mode: TlsMode;
  /** Skip certificate verification (transports that say so). */
  insecure: boolean;
  /** Name for SNI and certificate checks; undefined when connecting to an IP the admin gave. */
  servername?: string;
  /** After a failed handshake (no reply from the server), try again without TLS. */
  plainFallback: boolean;
  /** The policy that decided this, for logs and the Received field: 'mta-sts-enforce',
   * 'mta-sts-testing', 'dane', or absent for none. */
  policy?: string;
  /** A policy's own check of the server after the handshake (the handshake itself then does not
   * reject, so that the failure can be told apart and reported). No TLS at all is a failure too. */
  verify?: (socket: TLSSocket) => TlsCheckFailure | null;
  /** Trusted CAs for `verify` (tests); default the system's. */
  ca?: string[];
  /** A failed `verify` refuses the host (MTA-STS enforce, DANE); else it is only reported. */
  enforce?: boolean;
  /** The sender's TLS-Required: No made the policy advisory (RFC 8689 4.2.2). */
  relaxed?: boolean;
}

/** How TLS went on one connection, as a policy hears of it (for TLS-RPT, RFC 8460). */
export interface TlsOutcome {
  host: DestinationHost;
  address: string;
  /** 'success', or what failed. */
  result: 'success' | TlsResultType;
}

export type HostTlsDecision =
  | { ok: true; tls: HostTls }
  /** `result`: what to report for TLS-RPT when a policy refused the host without a connection;
   * `policy`: the policy that refused it. */
  | { ok: false; permanent: boolean; status: string; message: string; result?: TlsResultType; policy?: string };

/** The TLS policy of one destination, asked for each host in turn. */
export interface DestinationTlsPolicy {
  forHost(host: DestinationHost): HostTlsDecision;
  /** Told the TLS result of each connection made under a policy (and of each host refused). */
  report?(outcome: TlsOutcome): Promise<void>;
}

export interface TlsPolicy {
  /** Looks up what applies to mail for `domain` (MTA-STS fetch, TLSA lookups go here).
   * `uncounted`: the sessions are not counted for TLS-RPT (they deliver a report, RFC 8460 5.3). */
  forDestination(domain: string, dest: Destination, o?: { uncounted?: boolean }): Promise<DestinationTlsPolicy>;
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
