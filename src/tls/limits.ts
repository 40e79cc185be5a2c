// TLS limits and lifetimes shared by every listener.

/** A fresh session-ticket secret this often; tickets made under the previous one then need a full handshake. */
export const TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;
/** Session lifetime (seconds) announced in tickets; no longer than a ticket secret lives. */
export const SESSION_LIFETIME_S = 60 * 60;
/** An implicit-TLS client that has not finished its handshake after this long is cut off. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
