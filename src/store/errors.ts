// Errors the store raises for conditions a caller must tell the user about. Anything else is a bug
// or an I/O failure and propagates as is.

/** overquota: the account's storage quota would be exceeded (a permanent, per-account condition,
 * unlike nospace: the disk is full). contentmissing: a message's content is gone (removed after a
 * committed expunge, or lost: the caller tells which by asking whether the row still exists). */
export type StoreErrorCode = 'exists' | 'notfound' | 'invalid' | 'nospace' | 'toobig' | 'overquota' | 'contentmissing';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function notFound(what: string): StoreError {
  return new StoreError('notfound', `${what} not found`);
}

/** Maps a disk-full failure to a StoreError the protocols answer with a temporary error. */
export function asStoreIoError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StoreError('nospace', 'not enough disk space');
  if ((err as { code?: string })?.code === 'SQLITE_FULL') return new StoreError('nospace', 'not enough disk space');
  return err;
}
