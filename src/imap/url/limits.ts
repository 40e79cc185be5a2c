// Limits of IMAP URL handling (RFC 5092 URLs in CATENATE, URLAUTH, URLFETCH, BURL).

/** Longest URL accepted: a mailbox path, UID, section and a URLAUTH tail fit well within it. */
export const MAX_IMAP_URL_LENGTH = 8 * 1024;
