// DATA/acme/status.json: what the renewal scheduler knows beyond the certificate files (next renewal,
// last error), written by the server and read by `postern tls status`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../util/durable-file.js';

export interface NameStatus {
  /** When the next order for this name is due (ISO 8601). */
  nextRenewal: string | null;
  lastAttempt: string | null;
  lastSuccess: string | null;
  /** The last failure's message, cleared by a success. */
  lastError: string | null;
  /** Failures in a row (the retry backoff). */
  failures: number;
  /** The CA's renewal window (RFC 9773), when it offers one. */
  renewalWindow?: { start: string; end: string } | null;
}

export interface AcmeStatus {
  names: Record<string, NameStatus>;
}

export const STATUS_FILE = 'status.json';
/** The ACME account URL (RFC 8555 7.3), written once the account exists: `dns records` puts it in CAA. */
export const ACCOUNT_URL_FILE = 'account-url.txt';

export function emptyNameStatus(): NameStatus {
  return { nextRenewal: null, lastAttempt: null, lastSuccess: null, lastError: null, failures: 0, renewalWindow: null };
}

export function readStatus(acmeDir: string): AcmeStatus {
  try {
    const parsed = JSON.parse(readFileSync(join(acmeDir, STATUS_FILE), 'utf8')) as AcmeStatus;
    if (parsed && typeof parsed.names === 'object' && parsed.names !== null) return parsed;
  } catch {
    // Missing or damaged: the scheduler starts from the certificate files.
  }
  return { names: {} };
}

export function writeStatus(acmeDir: string, status: AcmeStatus): void {
  writeFileDurably(join(acmeDir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`, 0o640);
}
