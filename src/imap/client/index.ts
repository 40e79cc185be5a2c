// Public API of Postern's IMAP client: `import { ImapClient } from 'postern/imapclient'`.
// See docs/imapclient.md.

export { ImapClient, type AppendResult, type CopyResult, type ExpungeResult, type IdleHandle, type ImapClientEvents, type ImapState, type SearchResult, type StoreResult } from './client.js';
export type { ImapAuthOptions, ImapClientCertificate, ImapClientOptions, ImapTimeouts, ImapTlsMode } from './options.js';
export { ImapClientError, type ImapErrorKind } from './errors.js';
export type { FetchItems, BodySection } from './fetch-items.js';
export { sectionKey, type FetchedMessage } from './fetch-result.js';
export type { Envelope, EnvelopeAddress } from './envelope.js';
export type { BodyStructure, Disposition, MultipartStructure, SinglePartStructure } from './body-structure.js';
export type { ListEntry, MailboxStatus, SelectedMailbox, StatusItem } from './mailbox.js';
export type { SearchQuery } from './search-query.js';
export type { SequenceSet } from './command-args.js';
export type { Atom, Response, ResponseCode, StatusResponse, DataResponse, ContinuationResponse, Value } from './response.js';
export { parseResponse } from './parse-response.js';
