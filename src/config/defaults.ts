// Default limits (spec sections 4 and 6); each can be overridden under `limits:` in postern.conf.

import type { ImapLimits, SmtpLimits } from './types.js';

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLiteralSize: 102400,
  maxLiteralsPerCommand: 1000,
  maxLiteralBytesPerCommand: 1024000,
  maxLineLength: 16 * 1024,
  appendLimit: 100 * 1024 * 1024,
  idleTimeoutBeforeAuthMs: 30_000,
  idleTimeoutAfterAuthMs: 30 * 60_000,
};

export const DEFAULT_SMTP_LIMITS: SmtpLimits = {
  maxMessageSize: 100 * 1024 * 1024,
  maxRecipients: 1000,
  maxLineLength: 2048,
};
