// Public API of the SMTP protocol layer shared by the SMTP server and client.
export * from './address.js';
export * from './bdat.js';
export * from './burl.js';
export * from './capabilities.js';
export * from './command.js';
export * from './data-reader.js';
export * from './dot-stuff.js';
export * from './enhanced-status.js';
export * from './limits.js';
export * from './line-ends.js';
export * from './line-reader.js';
export * from './reply.js';
export * from './smtp-error.js';
export * from './xtext.js';
