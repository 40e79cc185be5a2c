// FETCH BODY and BODYSTRUCTURE (RFC 9051 7.5.2 and 9 body / body-ext-*; RFC 3501 7.4.2).
// Type, subtype, parameter names and known encodings are upper-cased as in the RFC examples.
import { EMPTY_ENVELOPE, envelope } from './envelope.js';
import { isMessagePart } from './mime-tree.js';
import type { ImapValue, MimeParam, MimePart } from './types.js';

// A multipart must hold at least one body (RFC 9051 9: body-type-mpart = 1*body ...): when the
// boundary never appears we show one empty text part, as Dovecot does.
const EMPTY_BODY: ImapValue = ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 0, 0];

const KNOWN_ENCODINGS = ['7bit', '8bit', 'binary', 'base64', 'quoted-printable'];

/** The body structure of `part` (usually the root from parseMessage); `extended` selects BODYSTRUCTURE. */
export function bodyStructure(buf: Buffer, part: MimePart, extended: boolean): ImapValue {
  if (part.type === 'multipart') {
    const out: ImapValue[] = part.children?.length
      ? part.children.map((c) => bodyStructure(buf, c, extended))
      : [EMPTY_BODY];
    out.push(part.subtype.toUpperCase());
    // RFC 9051 9: body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
    if (extended) out.push(params(part.params), disposition(part), language(part), part.location);
    return out;
  }
  const out: ImapValue[] = [
    part.type.toUpperCase(),
    part.subtype.toUpperCase(),
    params(part.params),
    part.id,
    part.description,
    encoding(part.encoding),
    part.bodyEnd - part.bodyStart,
  ];
  if (isMessagePart(part)) {
    // RFC 9051 9: body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
    if (part.message) out.push(envelope(buf, part.message), bodyStructure(buf, part.message, extended));
    else out.push(EMPTY_ENVELOPE, EMPTY_BODY);
    out.push(part.lines ?? 0);
  } else if (part.type === 'text') {
    out.push(part.lines ?? 0);
  }
  // RFC 9051 9: body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
  if (extended) out.push(part.md5, disposition(part), language(part), part.location);
  return out;
}

function encoding(enc: string | null): string {
  if (!enc) return '7BIT';
  return KNOWN_ENCODINGS.includes(enc) ? enc.toUpperCase() : enc;
}

/**
 * RFC 9051 9 body-fld-param. RFC 2231 continuations are joined; a charset-encoded value is returned
 * decoded (UTF-8) under the name with a trailing "*" (RFC 9051 7.5.2, body-fld-param description).
 */
function params(list: MimeParam[]): ImapValue {
  if (!list.length) return null;
  const out: ImapValue[] = [];
  for (const p of list) out.push(p.name.toUpperCase() + (p.extended ? '*' : ''), p.value);
  return out;
}

function disposition(part: MimePart): ImapValue {
  if (!part.disposition) return null;
  return [part.disposition.toUpperCase(), params(part.dispositionParams)];
}

function language(part: MimePart): ImapValue {
  const l = part.language;
  if (!l || !l.length) return null;
  return l.length === 1 ? l[0]! : l;
}
