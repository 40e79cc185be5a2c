// Limits of the DNS lookups `postern dns check` makes itself (TLSA, which node:dns cannot ask for).

/** Per attempt; a resolver on loopback answers in well under a millisecond. */
export const DNS_QUERY_TIMEOUT_MS = 4000;
/** UDP attempts before the lookup fails. */
export const DNS_QUERY_ATTEMPTS = 2;
/** EDNS(0) UDP payload size we advertise (RFC 6891 6.2.5; 1232 avoids fragmentation). */
export const DNS_UDP_PAYLOAD = 1232;
/** Largest answer read over TCP (RFC 1035 4.2.2: a 16-bit length). */
export const DNS_MAX_TCP_MESSAGE = 65535;
/** CNAMEs followed before a name counts as having no address (a loop, or a chain nobody needs). */
export const MAX_CNAME_HOPS = 8;
