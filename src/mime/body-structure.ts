// FETCH BODY and BODYSTRUCTURE (RFC 9051 7.5.2 and 9 body / body-ext-*; RFC 3501 7.4.2).
// Type, subtype, parameter names and known encodings are upper-cased as in the RFC examples.
import { EMPTY_ENVELOPE, envelope } from './envelope.js';
import { isMessagePart } from './mime-tree.js';
import type { ImapValue, MimeParam, MimePart } from './types.js';

// A multipart must hold at least one body (RFC 9051 9: body-type-mpart = 1*body ...): when the
// boundary never appears we show one empty text part, as Dovecot does.
const EMPTY_BODY: ImapValue[] = ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 0, 0];
/** BODYSTRUCTURE form: with the (all NIL) body-ext-1part, like every other part. */
const EMPTY_BODY_EXT: ImapValue[] = [...EMPTY_BODY, null, null, null, null];

const KNOWN_ENCODINGS = ['7bit', '8bit', 'binary', 'base64', 'quoted-printable'];

/** The body structure of `part` (usually the root from parseMessage); `extended` selects BODYSTRUCTURE. */
export function bodyStructure(buf: Buffer, part: MimePart, extended: boolean): ImapValue {
  if (part.type === 'multipart') {
    const out: ImapValue[] = part.children?.length
      ? part.children.map((c) => bodyStructure(buf, c, extended))
      : [extended ? EMPTY_BODY_EXT : EMPTY_BODY];
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
    else out.push(EMPTY_ENVELOPE, extended ? EMPTY_BODY_EXT : EMPTY_BODY);
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
 * RFC 9051 9 body-fld-param. RFC 2231 3: "IMAP4 servers SHOULD decode parameter value continuations
 * when generating the BODY and BODYSTRUCTURE fetch attributes": continuations are joined, and a
 * charset-encoded value stays encoded under `name*` (charset'lang'%XX), as Dovecot sends it, so
 * clients apply RFC 2231 decoding as the name tells them to.
 */
function params(list: MimeParam[]): ImapValue {
  if (!list.length) return null;
  const out: ImapValue[] = [];
  // Plain parameters first, then the extended ones (Dovecot's order; the order carries no meaning).
  for (const p of list) if (!p.extended) out.push(p.name.toUpperCase(), p.value);
  for (const p of list) if (p.extended) out.push(p.name.toUpperCase() + '*', p.raw ?? p.value);
  return out;
}

function disposition(part: MimePart): ImapValue {
  if (!part.disposition) return null;
  return [part.disposition.toUpperCase(), params(part.dispositionParams)];
}

/** RFC 9051 9 body-fld-lang: always the list form, even for one tag (as Dovecot). */
function language(part: MimePart): ImapValue {
  const l = part.language;
  if (!l || !l.length) return null;
  return l;
}
