// URLAUTH=BINARY (RFC 5524): what URLFETCH's parenthesized form asks of an authorized URL besides
// its bytes: the part's BODYPARTSTRUCTURE (its extended body structure, as FETCH BODYSTRUCTURE
// gives for a message) and its content-transfer-decoded BINARY form (as FETCH BINARY[part]).
// A section that is no body part (HEADER, TEXT, MIME, HEADER.FIELDS) has the structure of the part
// it belongs to, and nothing to decode: its BINARY is its bytes (both as Dovecot 2.3).
import { bodyStructure, decodePartContent, partial, resolvePart, UnknownTransferEncodingError, type ImapValue, type MimePart } from '../../mime/index.js';
import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/types.js';
import { sectionSpecOf, type ImapUrl } from '../url/imap-url.js';
import { ImapError } from './errors.js';
import { ViewMessage } from './mailbox-view.js';
import { MessageLoader } from './message-loader.js';

export interface PartDetail {
  /** False for a section that is no body part (HEADER, TEXT, MIME, HEADER.FIELDS). */
  bodyPart: boolean;
  /** Of the part the section belongs to. */
  structure: ImapValue;
  /** A body part's decoded content (RFC 3516 4.2: the whole message as stored), ;PARTIAL=
   * applied; null when its transfer encoding is unknown, or for a section that is no body part. */
  binary: Buffer | null;
}

/** BINARY of a body part (RFC 3516 4.2: the whole message as stored); null for an unknown
 * content-transfer-encoding. */
function decoded(content: Buffer, part: MimePart, isPart: boolean, url: ImapUrl): Buffer | null {
  try {
    const data = isPart ? decodePartContent(content, part) : content;
    return url.partial ? partial(data, url.partial.offset, url.partial.length) : data;
  } catch (err) {
    if (err instanceof UnknownTransferEncodingError) return null;
    throw err;
  }
}

/** The body part `url` names in mailbox `mailboxId`, or null when it names none (or is gone). */
export async function partDetail(store: Store, mailboxId: number, url: ImapUrl): Promise<PartDetail | null> {
  const spec = url.section === undefined ? { part: [] as number[] } : sectionSpecOf(url.section);
  if (!spec) return null;
  const bodyPart = !('text' in spec && spec.text);
  const [meta] = await store.getMessages(mailboxId, [url.uid]);
  if (!meta) return null;
  const m = new ViewMessage(meta.uid, meta.flags, meta.modseq, meta.internalDate.getTime(), meta.saveDate.getTime(), meta.size, meta.fileId, meta.id);
  const loader = new MessageLoader(store, mailboxId);
  try {
    await loader.prefetch([m]);
    const content = await loader.content(m);
    const root = (await loader.cache(m, content)).part;
    const part = spec.part.length ? resolvePart(root, spec.part) : root;
    if (!part) return null;
    const binary = bodyPart ? decoded(content, part, spec.part.length > 0, url) : null;
    return { bodyPart, structure: bodyStructure(content, part, true), binary };
  } catch (err) {
    // Expunged meanwhile (message-loader.ts: EXPUNGEISSUED), or its content gone.
    if (err instanceof ImapError || (err instanceof StoreError && err.code === 'contentmissing')) return null;
    throw err;
  }
}
