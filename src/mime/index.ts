// Postern's message parser: MIME tree with byte offsets, header helpers, IMAP ENVELOPE/BODYSTRUCTURE,
// section access, transfer decoding, SEARCH text and PREVIEW.
export type { ImapValue, MimeParam, MimePart } from './types.js';
export { MAX_MIME_DEPTH, MAX_REFERENCES, MAX_SEARCH_PART_BYTES, MAX_SEARCH_TEXT_CHARS, PREVIEW_CHARS } from './limits.js';
export { parseMessage, isMessagePart, splitMultipart, countLines } from './mime-tree.js';
export {
  findHeaderEnd,
  headerFields,
  headerBytesToString,
  unfold,
  fieldValue,
  type HeaderField,
  type HeaderBounds,
} from './header-fields.js';
export { getHeaderValues, getHeaderValue, getDecodedHeaderValue } from './header-values.js';
export { decodeEncodedWords } from './encoded-word.js';
export { decodeCharset, decoderFor } from './charset.js';
export { parseParamValue, stripComments, type ParamValue } from './header-params.js';
export { combineRfc2231, type RawParam } from './rfc2231.js';
export {
  parseAddressList,
  formatAddress,
  isGroup,
  type AddressEntry,
  type Mailbox,
  type Group,
} from './address.js';
export { envelope, addresses, EMPTY_ENVELOPE } from './envelope.js';
export { bodyStructure } from './body-structure.js';
export { getSection, resolvePart, partial, type SectionSpec, type SectionText } from './section.js';
export {
  decodePartContent,
  binarySize,
  decodeTransfer,
  decodeBase64,
  decodeQuotedPrintable,
  UnknownTransferEncodingError,
} from './transfer-decode.js';
export { searchableText, partText, decodedHeaderText, type SearchableText } from './search-text.js';
export { htmlToText, decodeEntities } from './html-text.js';
export { preview } from './preview.js';
export {
  buildMessageCache,
  messageCacheJson,
  parseMessageCache,
  CACHE_AT_STORE_MAX,
  MESSAGE_CACHE_VERSION,
  type MessageCache,
} from './message-cache.js';
export { baseSubject, unicodeCasemap, type BaseSubject } from './base-subject.js';
export { parseMessageDate } from './message-date.js';
export { sortKeys, messageIds, type SortKeys } from './sort-keys.js';
export { rawCannotContain } from './search-prefilter.js';
export { binaryPartsAsBase64, withoutNul } from './nul-free.js';
