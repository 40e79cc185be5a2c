// The message as it goes on the wire, whatever put it in the queue: every line ends in CRLF (a
// bare CR or a bare LF becomes CRLF) and the last line too, so the DATA encoder's dot-stuffing
// after each CRLF leaves no sequence that a next hop could take for the end of the data (SMTP
// smuggling: "<CR>.<CR>", "<LF>.<LF>" and mixes). Submission and incoming mail already arrive in
// this form (bare CR refused, bare LF converted); this check also covers messages queued by other
// paths (DSNs quoting a header, later vacation replies and forwards) or before the check existed.

import { canonicalLineEnds } from '../smtp/proto/line-ends.js';

export interface OutboundContent {
  data: Buffer;
  /** Bare CRs and bare LFs that were turned into CRLF. */
  bareCr: number;
  bareLf: number;
}

const CRLF = Buffer.from('\r\n');

/** The canonical form of a message; the same buffer when it already is (no copy). */
export function outboundContent(message: Buffer): OutboundContent {
  const c = canonicalLineEnds(message);
  // RFC 5321 4.1.1.4: the data ends with a complete line.
  const data = c.data.length > 0 && c.data[c.data.length - 1] !== 0x0a ? Buffer.concat([c.data, CRLF]) : c.data;
  return { data, bareCr: c.bareCr, bareLf: c.bareLf };
}
