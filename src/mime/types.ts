/** A Content-Type or Content-Disposition parameter, after RFC 2231 joining and decoding. */
export interface MimeParam {
  /** Lower-cased name without any RFC 2231 `*` marks. */
  name: string;
  value: string;
  /** True when the value came from RFC 2231 charset'lang'%xx encoding (IMAP shows it as `name*`). */
  extended?: boolean;
  /**
   * For an extended parameter: the value with continuations joined but still encoded
   * (charset'language'%XX). BODYSTRUCTURE shows this form under `name*`: RFC 2231 3 asks IMAP
   * servers to decode continuations only, and a client reading `name*` expects the encoded form.
   */
  raw?: string;
}

/**
 * One node of the MIME tree. Plain data only, so it survives JSON.stringify/parse unchanged.
 * Offsets index the Buffer given to parseMessage. The header section is
 * [headerStart, bodyStart) and includes the blank line; the fields alone are [headerStart, headerEnd).
 */
export interface MimePart {
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  /** Lower-cased media type and subtype (text/plain when missing or invalid, RFC 2045 5.2). */
  type: string;
  subtype: string;
  params: MimeParam[];
  /** Raw (unfolded, trimmed) header values; null when the field is absent. */
  id: string | null;
  description: string | null;
  /** Lower-cased Content-Transfer-Encoding; null when absent (meaning 7bit). */
  encoding: string | null;
  /** Lower-cased disposition type, null when absent. */
  disposition: string | null;
  dispositionParams: MimeParam[];
  language: string[] | null;
  location: string | null;
  md5: string | null;
  /** Body line count, for text/* and message/rfc822|global. */
  lines?: number;
  /** Body parts of a multipart. */
  children?: MimePart[];
  /** The encapsulated message of message/rfc822 or message/global. */
  message?: MimePart;
}

/**
 * Header text whose 8-bit bytes are not UTF-8 (e.g. raw Latin-1): one character per byte (latin1).
 * Sent as the original bytes in a literal, never re-encoded (see envelope.ts for why).
 */
export interface RawBytes {
  raw: string;
}

/** RFC 9051 response data as a value tree: null is NIL, a string an IMAP string, an array a list. */
export type ImapValue = null | number | string | RawBytes | ImapValue[];
