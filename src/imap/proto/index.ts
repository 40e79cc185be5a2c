// The IMAP protocol layer: command reader (limits), parser, response writer, modified UTF-7.
export * from './limits.js';
export * from './syntax-error.js';
export * from './command-reader.js';
export * from './types.js';
export { parseCommand, parseMessagePrefix, parseAppendNext, parseAppendEnd, commandTag, KNOWN_COMMANDS } from './parse-command.js';
export { parseSequenceSet, inRanges, formatNumberSet, formatNumberList } from './sequence-set.js';
export { formatDateTime } from './date-time.js';
export * from './response-writer.js';
export * from './mutf7.js';
