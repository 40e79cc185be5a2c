// The one error type of the IMAP client.

import type { ResponseCode, StatusResponse } from './response.js';

/**
 * - 'connection': could not connect, or the connection closed (`bye` holds a BYE's text).
 * - 'timeout': no answer in time.
 * - 'tls': handshake or server verification failed, or required STARTTLS not offered.
 * - 'protocol': the server sent something that is not IMAP, or not what the command expects.
 * - 'no' / 'bad': the command was refused (`response` holds the tagged reply).
 * - 'auth': authentication failed or no usable mechanism.
 * - 'state': the call does not fit the connection state (e.g. fetch without a selected mailbox).
 * - 'aborted': the AbortSignal fired or close() was called.
 */
export type ImapErrorKind = 'connection' | 'timeout' | 'tls' | 'protocol' | 'no' | 'bad' | 'auth' | 'state' | 'aborted';

export class ImapClientError extends Error {
  override name = 'ImapClientError';
  readonly kind: ImapErrorKind;
  /** The tagged response for 'no', 'bad' and failed 'auth'. */
  readonly response?: StatusResponse;

  constructor(kind: ImapErrorKind, message: string, opts: { response?: StatusResponse; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.response = opts.response;
  }

  /** The response code of the server's reply, e.g. `AUTHENTICATIONFAILED`, `TRYCREATE`. */
  get code(): ResponseCode | undefined {
    return this.response?.code;
  }
}
