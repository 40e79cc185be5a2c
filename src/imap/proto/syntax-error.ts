// Typed parse failure: the server answers `<tag> BAD <message>` (or `* BAD` without a tag).

export class ImapSyntaxError extends Error {
  override name = 'ImapSyntaxError';
  constructor(
    message: string,
    /** Response code to put in the BAD, e.g. BADCHARSET or TOOBIG. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** The line has no valid tag or names no known command (a non-IMAP first line gets `* BYE`). */
export class UnknownCommandError extends ImapSyntaxError {
  override name = 'UnknownCommandError';
  constructor(
    message: string,
    readonly tag: string | null,
  ) {
    super(message);
  }
}
