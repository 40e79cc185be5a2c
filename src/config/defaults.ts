// Default limits (spec sections 4 and 6); each can be overridden under `limits:` in postern.conf.

import { DEFAULT_CACHE_ENTRIES, DEFAULT_CACHE_TTL_MS } from '../auth/credential-cache.js';
import { DEFAULT_HASH_WORKERS, HASH_QUEUE_PER_WORKER } from '../auth/hash-pool.js';
import { DEFAULT_MAX_SEARCH_MAILBOXES } from '../imap/proto/limits.js';
import type { ImapLimits, PasswordLimits, SmtpLimits } from './types.js';

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLiteralSize: 102400,
  maxLiteralsPerCommand: 1000,
  maxLiteralBytesPerCommand: 1024000,
  maxLiteralBytesBeforeAuth: 102400,
  maxLineLength: 64 * 1024,
  appendLimit: 100 * 1024 * 1024,
  idleTimeoutBeforeAuthMs: 30_000,
  idleTimeoutAfterAuthMs: 30 * 60_000,
  // Generous for clients that open a connection per folder; a /26 is an office or a NAT.
  maxConnectionsPerIp: 50,
  maxConnectionsPerSubnet: 500,
  maxSearchMailboxes: DEFAULT_MAX_SEARCH_MAILBOXES,
  metadataMaxValueSize: 64 * 1024,
  metadataMaxEntries: 100,
  metadataMaxAccountBytes: 1024 * 1024,
  notifyQueueLimit: 1000,
};

export const DEFAULT_SMTP_LIMITS: SmtpLimits = {
  maxMessageSize: 100 * 1024 * 1024,
  maxRecipients: 1000,
  maxLineLength: 2048,
  // Postfix smtpd_client_connection_count_limit is 50.
  maxConnectionsPerIp: 50,
  maxConnectionsPerSubnet: 500,
};

export const DEFAULT_PASSWORD_LIMITS: PasswordLimits = {
  hashWorkers: DEFAULT_HASH_WORKERS,
  hashQueue: DEFAULT_HASH_WORKERS * HASH_QUEUE_PER_WORKER,
  cacheEntries: DEFAULT_CACHE_ENTRIES,
  cacheTtlSeconds: DEFAULT_CACHE_TTL_MS / 1000,
};
