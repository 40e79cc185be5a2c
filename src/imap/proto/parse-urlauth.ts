// URLAUTH commands (RFC 4467 9, RFC 5524 for URLFETCH's extended form). Pure syntax: the URLs
// stay strings here (the handler parses and checks them: RFC 4467 7 answers a bad URLFETCH URL
// with NIL, not BAD), mechanism names are checked against the grammar and upper-cased.
import type { Cursor } from './cursor.js';
import { MAX_URLAUTH_URLS_PER_COMMAND } from './limits.js';
import type { CommandBody, UrlFetchArg } from './types.js';

/** uauth-mechanism = "INTERNAL" / 1*(ALPHA / DIGIT / "-" / ".") (RFC 4467 9). */
const MECHANISM = /^[A-Za-z0-9.-]+$/;

function mechanism(c: Cursor): string {
  const m = c.atom('a URLAUTH mechanism');
  if (!MECHANISM.test(m)) c.fail(`invalid URLAUTH mechanism ${m.slice(0, 30)}`);
  return m.toUpperCase();
}

function url(c: Cursor): string {
  return c.astring('a URL');
}

/** "GENURLAUTH" 1*(SP url-rump SP mechanism) */
export function parseGenUrlauth(c: Cursor): CommandBody {
  const urls: { url: string; mechanism: string }[] = [];
  do {
    c.sp();
    const u = url(c);
    c.sp();
    urls.push({ url: u, mechanism: mechanism(c) });
    if (urls.length > MAX_URLAUTH_URLS_PER_COMMAND) c.fail('too many URLs');
  } while (!c.atEnd());
  return { name: 'GENURLAUTH', urls };
}

/** "RESETKEY" [SP mailbox *(SP mechanism)] */
export function parseResetKey(c: Cursor): CommandBody {
  if (!c.maybeSp()) return { name: 'RESETKEY', mailbox: null, mechanisms: [] };
  const mailbox = c.astring('a mailbox name');
  const mechanisms: string[] = [];
  while (c.maybeSp()) {
    mechanisms.push(mechanism(c));
    if (mechanisms.length > MAX_URLAUTH_URLS_PER_COMMAND) c.fail('too many mechanisms');
  }
  return { name: 'RESETKEY', mailbox, mechanisms };
}

/** RFC 5524: url / "(" url *(SP ("BODY" / "BINARY" / "BODYPARTSTRUCTURE")) ")" */
function fetchArg(c: Cursor): UrlFetchArg {
  if (!c.take('(')) return { url: url(c), modifiers: null };
  const u = url(c);
  const modifiers = { body: false, binary: false, bodyPartStructure: false };
  while (c.maybeSp()) {
    const w = c.atom('a URLFETCH parameter').toUpperCase();
    if (w === 'BODY') modifiers.body = true;
    else if (w === 'BINARY') modifiers.binary = true;
    else if (w === 'BODYPARTSTRUCTURE') modifiers.bodyPartStructure = true;
    else c.fail(`unknown URLFETCH parameter ${w.slice(0, 30)}`);
  }
  c.expect(')');
  if (modifiers.body && modifiers.binary) c.fail('BODY and BINARY cannot both be asked for');
  return { url: u, modifiers };
}

/** "URLFETCH" 1*(SP url-fetch-arg) */
export function parseUrlFetch(c: Cursor): CommandBody {
  const urls: UrlFetchArg[] = [];
  do {
    c.sp();
    urls.push(fetchArg(c));
    if (urls.length > MAX_URLAUTH_URLS_PER_COMMAND) c.fail('too many URLs');
  } while (!c.atEnd());
  return { name: 'URLFETCH', urls };
}
