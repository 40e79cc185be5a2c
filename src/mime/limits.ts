// Limits of the MIME parser. Named here so hostile input has a known ceiling.

/** Nesting of multipart and message/rfc822 parts; deeper parts are kept as leaves. */
export const MAX_MIME_DEPTH = 64;
/** Raw bytes of one text part that SEARCH and PREVIEW look at. */
export const MAX_SEARCH_PART_BYTES = 1024 * 1024;
/** Total body text collected for SEARCH, in characters. */
export const MAX_SEARCH_TEXT_CHARS = 8 * 1024 * 1024;
/** PREVIEW length in characters (RFC 8970 3: at most 256 characters). */
export const PREVIEW_CHARS = 200;
/** References entries kept in a message's THREAD keys (the last ones: the nearest ancestors). */
export const MAX_REFERENCES = 100;
