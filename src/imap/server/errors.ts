// Errors a command handler throws to end its command with NO or BAD; the connection turns them into
// the tagged reply in one place. Store errors map to response codes here; anything else is a bug:
// logged with the cid and answered `NO [SERVERBUG]`, never with a stack trace on the wire.
import { StoreError } from '../../store/errors.js';

export class ImapError extends Error {
  override name = 'ImapError';
  constructor(
    readonly status: 'NO' | 'BAD',
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

export const no = (code: string | null, text: string): ImapError => new ImapError('NO', code, text);
export const bad = (text: string, code: string | null = null): ImapError => new ImapError('BAD', code, text);

/** A store error as the NO the user should see, or null for unexpected errors. */
export function fromStoreError(err: unknown): ImapError | null {
  if (!(err instanceof StoreError)) return null;
  switch (err.code) {
    case 'notfound':
      return no('NONEXISTENT', err.message);
    case 'exists':
      return no('ALREADYEXISTS', err.message);
    case 'invalid':
      return no('CANNOT', err.message);
    case 'nospace':
      return no('OVERQUOTA', err.message);
    case 'toobig':
      return no('TOOBIG', err.message);
    case 'overquota':
      // RFC 9208 4.3.1.
      return no('OVERQUOTA', err.message);
    case 'contentmissing':
      // A message whose row exists without its content is lost data, an invariant the server
      // broke: logged and answered NO [SERVERBUG] like any bug (RFC 5530 3).
      return null;
  }
}
