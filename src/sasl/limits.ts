// SASL limits. A SASL message is bounded by the protocol's line limit too; this keeps
// mechanisms from parsing huge messages whatever the transport allows.

/** Largest client message a server-side mechanism accepts, in bytes. */
export const MAX_SASL_MESSAGE = 16 * 1024;
/** RFC 4616 2: authzid, authcid and passwd are at most 255 octets each. */
export const MAX_PLAIN_FIELD = 255;
/** RFC 5802 5.1: we require at least this many nonce characters from a client. */
export const MIN_SCRAM_CLIENT_NONCE = 8;
/** Client side: refuse fewer SCRAM iterations than this (RFC 7677 4, spec 3.2). */
export const MIN_SCRAM_ITERATIONS = 4096;
/** Client side: refuse absurd iteration counts (a server could make us spin). */
export const MAX_SCRAM_ITERATIONS = 10_000_000;
