// BODYSTRUCTURE / BODY (RFC 9051 7.5.2 body) as a typed tree, with each part's section
// number (RFC 9051 6.4.5) so callers can fetch `BODY[part]` directly.

import { parseEnvelope, type Envelope } from './envelope.js';
import { ImapParseError, isAtom, listOf, nstring, numberOf, valueText, type Value } from './response.js';

export interface Disposition {
  /** Lower-cased: `inline`, `attachment`, ... */
  type: string;
  parameters: Record<string, string>;
}

interface PartCommon {
  /** Section number (`1`, `2.1`, ...); `''` for a top-level multipart (the whole message). */
  part: string;
  /** Lower-cased MIME type, e.g. `text`, `multipart`. */
  type: string;
  /** Lower-cased subtype, e.g. `plain`, `mixed`. */
  subtype: string;
  /** Content-Type parameters, names lower-cased. */
  parameters: Record<string, string>;
  /** Extension data (BODYSTRUCTURE only). */
  disposition?: Disposition | null;
  language?: string[] | null;
  location?: string | null;
}

export interface MultipartStructure extends PartCommon {
  type: 'multipart';
  children: BodyStructure[];
}

export interface SinglePartStructure extends PartCommon {
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, lower-cased (`7bit`, `base64`, ...). */
  encoding: string;
  /** Size of the body in its transfer encoding, octets. */
  size: number;
  /** Text parts and message/rfc822: number of lines. */
  lines?: number;
  /** message/rfc822 (and message/global): the enclosed message. */
  envelope?: Envelope;
  body?: BodyStructure;
  md5?: string | null;
}

export type BodyStructure = MultipartStructure | SinglePartStructure;

/**
 * Parses a body structure value. `part` is the section of this node: the top level of a
 * non-multipart message is section `1` (RFC 9051 6.4.5); multipart children are numbered
 * from 1 under their parent.
 */
export function parseBodyStructure(v: Value, part = ''): BodyStructure {
  const l = listOf(v);
  if (Array.isArray(l[0])) {
    // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    const children: BodyStructure[] = [];
    let i = 0;
    while (i < l.length && Array.isArray(l[i])) {
      const n = String(children.length + 1);
      children.push(parseBodyStructure(l[i], part === '' ? n : `${part}.${n}`));
      i++;
    }
    const subtype = lower(l[i++]);
    const out: MultipartStructure = { part, type: 'multipart', subtype, parameters: {}, children };
    if (i < l.length) out.parameters = params(l[i++]);
    if (i < l.length) out.disposition = disposition(l[i++]);
    if (i < l.length) out.language = language(l[i++]);
    if (i < l.length) out.location = nstring(l[i++]);
    return out;
  }
  // body-type-1part: type subtype params id description encoding size [...]
  const type = lower(l[0]);
  const subtype = lower(l[1]);
  const self = part === '' ? '1' : part;
  const out: SinglePartStructure = {
    part: self,
    type,
    subtype,
    parameters: params(l[2]),
    id: nstring(l[3]),
    description: nstring(l[4]),
    encoding: lower(l[5]),
    size: numberOf(l[6]),
  };
  let i = 7;
  if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && Array.isArray(l[7])) {
    // body-type-msg: ... envelope body body-fld-lines. RFC 9051 6.4.5 example: the parts of
    // an enclosed multipart message are `self.1`, `self.2`; an enclosed single part is `self.1`.
    out.envelope = parseEnvelope(l[7]);
    const inner = listOf(l[8]);
    out.body = parseBodyStructure(inner, Array.isArray(inner[0]) ? self : `${self}.1`);
    out.lines = numberOf(l[9]);
    i = 10;
  } else if (type === 'text') {
    out.lines = numberOf(l[7]);
    i = 8;
  }
  // body-ext-1part: md5 [disposition [language [location]]]
  if (i < l.length) out.md5 = nstring(l[i++]);
  if (i < l.length) out.disposition = disposition(l[i++]);
  if (i < l.length) out.language = language(l[i++]);
  if (i < l.length) out.location = nstring(l[i++]);
  return out;
}

function lower(v: Value | undefined): string {
  const t = valueText(v);
  if (t === undefined) {
    if (v === null) return ''; // some servers send NIL for an unknown subtype
    throw new ImapParseError('expected a string in body structure');
  }
  return t.toLowerCase();
}

function params(v: Value | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null || v === undefined) return out;
  const l = listOf(v);
  for (let i = 0; i + 1 < l.length; i += 2) out[lower(l[i])] = valueText(l[i + 1]) ?? '';
  return out;
}

function disposition(v: Value | undefined): Disposition | null {
  if (v === null || v === undefined) return null;
  const l = listOf(v);
  return { type: lower(l[0]), parameters: params(l[1]) };
}

function language(v: Value | undefined): string[] | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => valueText(x) ?? '');
  return isAtom(v) || Buffer.isBuffer(v) ? [valueText(v) ?? ''] : null;
}
