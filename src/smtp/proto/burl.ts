// BURL command line (RFC 4468 3): burl-cmd = "BURL" SP absolute-URI [SP end-marker] CRLF, with
// end-marker = "LAST". No data follows the line (unlike BDAT), so a syntax error leaves the
// session in step and is not fatal.

import { R } from './enhanced-status.js';
import { withText } from './reply.js';
import { SmtpError } from './smtp-error.js';

export interface BurlCommand {
  readonly verb: 'BURL';
  /** The URL as written (RFC 3986 absolute-URI: printable ASCII, no spaces). */
  readonly url: string;
  readonly last: boolean;
}

/** RFC 3986 4.3 absolute-URI: a scheme, ":", then printable ASCII without spaces. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;

export function parseBurl(rest: string): BurlCommand {
  const parts = rest === '' ? [] : rest.split(/ +/);
  const bad = (text: string): never => {
    throw new SmtpError(withText(R.badArguments, text), false);
  };
  if (parts.length < 1 || parts.length > 2 || !parts[0]) return bad('syntax: BURL absolute-URI [LAST]');
  if (!ABSOLUTE_URI.test(parts[0])) return bad('BURL needs an absolute URI');
  if (parts.length === 2 && parts[1]!.toUpperCase() !== 'LAST') return bad('syntax: BURL absolute-URI [LAST]');
  return { verb: 'BURL', url: parts[0], last: parts.length === 2 };
}
