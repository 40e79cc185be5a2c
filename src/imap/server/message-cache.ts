// Moved to src/mime/message-cache.ts (SMTP delivery builds the cache too). This alias remains only
// for bench/imap-big-mailbox.ts until its owner switches to buildMessageCache; remove it then.
export { buildMessageCache as buildCache } from '../../mime/message-cache.js';
