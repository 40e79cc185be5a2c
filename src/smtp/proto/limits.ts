// Named SMTP limits. The server and client read these defaults; config may override the ones
// that are policy (sizes, counts), never the ones fixed by an RFC.

/** Command line limit in octets, CRLF included. RFC 5321 4.5.3.1.4 sets 512 and lets
 * extensions raise it (SIZE, DSN and AUTH parameters); 2048 is what Postfix accepts. */
export const MAX_COMMAND_LINE = 2048;

/** Line limit while a SASL exchange runs (AUTH command and 334 responses). RFC 4954 4. */
export const MAX_AUTH_LINE = 12288;

/** Text line limit in message content, CRLF included. RFC 5321 4.5.3.1.6. Longer lines are
 * reported, not refused: real mail breaks this and Postfix accepts it. */
export const MAX_TEXT_LINE = 1000;

/** Reply line limit the client accepts. RFC 5321 4.5.3.1.5 says 512, but servers exceed it. */
export const MAX_REPLY_LINE = 8192;

/** Lines in one multi-line reply the client accepts (an EHLO reply has about 15). */
export const MAX_REPLY_LINES = 256;

/** Local part, octets. RFC 5321 4.5.3.1.1. */
export const MAX_LOCAL_PART = 64;

/** Domain, octets. RFC 5321 4.5.3.1.2. */
export const MAX_DOMAIN = 255;

/** DNS label, octets. RFC 1035 2.3.4. */
export const MAX_LABEL = 63;

/** Reverse-path or forward-path, octets, angle brackets included. RFC 5321 4.5.3.1.3. */
export const MAX_PATH = 256;

/** Recipients per transaction. RFC 5321 4.5.3.1.8 requires at least 100. */
export const MAX_RECIPIENTS = 1000;

/** Default maximum message size in octets (advertised as SIZE). RFC 1870. */
export const MAX_MESSAGE_SIZE = 100 * 1024 * 1024;

/** ENVID length, characters after xtext decoding. RFC 3461 4.4. */
export const MAX_ENVID = 100;

/** ORCPT length, characters of the xtext-encoded value. RFC 3461 4.2. */
export const MAX_ORCPT = 500;

/** SASL mechanism name length. RFC 4422 3.1. */
export const MAX_SASL_MECHANISM = 20;

/** Digits accepted in a SIZE parameter or BDAT chunk size; more cannot be a safe integer. */
export const MAX_SIZE_DIGITS = 15;
