// The one error type of the SMTP client. Every failure says whether retrying later can help
// (`permanent`), which is what a queue needs to choose between a retry and a bounce, and carries
// the server's reply when there was one.

import type { Reply } from '../proto/reply.js';

/**
 * What went wrong:
 * - 'connection': could not connect, or the connection closed or failed (temporary).
 * - 'timeout': the server did not answer or read in time (temporary).
 * - 'tls': TLS handshake or server verification failed, or STARTTLS was required and not
 *   offered (temporary: a configuration or network problem that may be fixed).
 * - 'protocol': the server sent something that is not SMTP, or data after its STARTTLS reply
 *   (temporary, like Postfix).
 * - 'reply': the server refused a command; `reply` holds its answer, `permanent` is true for 5xx.
 * - 'auth': authentication failed (a 535 is permanent, a 454 temporary), or no usable mechanism.
 * - 'capability': the message needs an extension the server lacks (8BITMIME, SMTPUTF8) or is
 *   over its SIZE (permanent: it will not change by retrying the same server).
 * - 'address': an envelope address is not a valid RFC 5321 mailbox (permanent; nothing is sent).
 * - 'aborted': the caller's AbortSignal fired or close() was called.
 */
export type SmtpErrorKind = 'connection' | 'timeout' | 'tls' | 'protocol' | 'reply' | 'auth' | 'capability' | 'address' | 'aborted';

/** The extension a 'capability' error is about: 8-bit data, a UTF-8 address, or the SIZE limit. */
export type SmtpExtensionNeeded = '8BITMIME' | 'SMTPUTF8' | 'SIZE';

/** What happened to one recipient of a message. */
export interface RecipientResult {
  address: string;
  /** The server took responsibility for delivering to this recipient (RCPT and the data both 2xx). */
  accepted: boolean;
  /** The deciding reply: the RCPT reply when it refused the recipient, else the reply after the data. */
  reply: Reply;
  /** For a refused recipient: true for 5xx (bounce), false for 4xx (try again later). */
  permanent: boolean;
}

export class SmtpClientError extends Error {
  override name = 'SmtpClientError';
  readonly kind: SmtpErrorKind;
  /** The server's reply, when the error is an answer from the server. */
  readonly reply?: Reply;
  /** The command (verb) that got the reply, e.g. `MAIL`, `RCPT`, `DATA`, `AUTH`. */
  readonly command?: string;
  /** True when trying again later cannot help (5xx replies, capability mismatches). */
  readonly permanent: boolean;
  /**
   * Set when a message was not accepted for any recipient after the envelope was sent: the
   * outcome per recipient (refused at RCPT with their own reply, or refused with the data).
   */
  recipients?: RecipientResult[];
  /** For a 'capability' error: the extension the message needed (callers branch on this, never on the text). */
  readonly extension?: SmtpExtensionNeeded;

  constructor(kind: SmtpErrorKind, message: string, opts: { reply?: Reply; command?: string; permanent?: boolean; cause?: unknown; extension?: SmtpExtensionNeeded } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.extension = opts.extension;
    this.reply = opts.reply;
    this.command = opts.command;
    this.permanent = opts.permanent ?? (opts.reply ? opts.reply.code >= 500 : false);
  }

  /** Reply code (e.g. 550), when there is a reply. */
  get code(): number | undefined {
    return this.reply?.code;
  }

  /** Enhanced status code (e.g. `5.1.1`, RFC 3463), when the server sent one. */
  get enhancedCode(): string | undefined {
    return this.reply?.enhanced;
  }

  /** An error for a refused command, with the reply in the message. */
  static fromReply(command: string, reply: Reply): SmtpClientError {
    return new SmtpClientError('reply', `${command}: ${replyText(reply)}`, { reply, command });
  }
}

/** A reply as one line, for messages and logs: `550 5.1.1 no such user`. Control characters
 * from the peer become spaces so a reply cannot forge log lines. */
export function replyText(r: Reply): string {
  const text = r.lines.join(' ').replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return [String(r.code), r.enhanced, text].filter(Boolean).join(' ');
}
