// Named limits of outbound delivery (the one door for mail that leaves).

/** Connection attempts per delivery across MX hosts and their addresses (Postfix
 * smtp_mx_address_limit is 5). */
export const MAX_CONNECTION_ATTEMPTS = 5;

/** SMTP port for MX delivery. RFC 5321 4.5.4.2. */
export const SMTP_PORT = 25;
