export * from './types.js';
export * from './errors.js';
export * from './change-feed.js';
export { parseAddress, canonicalAddress, normalizeDomain } from './address.js';
export { canonicalMailboxName, DEFAULT_MAILBOXES } from './sqlite/mailbox-repo.js';
export { normalizeFlags } from './sqlite/message-repo.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
