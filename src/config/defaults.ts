// Default limits (spec sections 4 and 6); each can be overridden under `limits:` in postern.conf.

import type { ImapLimits, SmtpLimits } from './types.js';

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLiteralSize: 102400,
  maxLiteralsPerCommand: 1000,
  maxLiteralBytesPerCommand: 1024000,
  maxLineLength: 64 * 1024,
  appendLimit: 100 * 1024 * 1024,
  idleTimeoutBeforeAuthMs: 30_000,
  idleTimeoutAfterAuthMs: 30 * 60_000,
  // Generous for clients that open a connection per folder; a /26 is an office or a NAT.
  maxConnectionsPerIp: 50,
  maxConnectionsPerSubnet: 500,
};

export const DEFAULT_SMTP_LIMITS: SmtpLimits = {
  maxMessageSize: 100 * 1024 * 1024,
  maxRecipients: 1000,
  maxLineLength: 2048,
  // Postfix smtpd_client_connection_count_limit is 50.
  maxConnectionsPerIp: 50,
  maxConnectionsPerSubnet: 500,
};
