// A sendmail failure with its exit code. Messages never contain secrets (spec 8).

import { EX_UNAVAILABLE } from './exit-codes.js';

export class SendmailError extends Error {
  override name = 'SendmailError';
  constructor(
    message: string,
    readonly exitCode: number = EX_UNAVAILABLE,
  ) {
    super(message);
  }
}
