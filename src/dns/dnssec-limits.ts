// Named limits of the DNSSEC-aware stub resolver (dnssec-resolver.ts).

/** Time for one query, UDP and a TCP retry together. */
export const DNSSEC_QUERY_TIMEOUT_MS = 5000;

/** EDNS0 UDP payload size we offer (the DNS flag day 2020 value). */
export const DNSSEC_UDP_PAYLOAD = 1232;

/** Largest TCP answer read (a DNS message is at most 65535 octets plus its length prefix). */
export const DNSSEC_MAX_TCP_BYTES = 65537;
