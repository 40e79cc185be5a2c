// CAPABILITY lists (spec 5, RFC 9051 7.2.2). Before TLS on a STARTTLS listener: STARTTLS and
// LOGINDISABLED, and no AUTH= at all (spec 3.1), unless the loopback setting allows authentication.

const BASE = [
  'IMAP4rev2', 'IMAP4rev1', 'ENABLE', 'LITERAL+', 'IDLE', 'SASL-IR', 'BINARY', 'UNSELECT', 'UIDPLUS', 'ESEARCH',
  'URLAUTH', 'URLAUTH=BINARY',
  'SEARCHRES', 'MOVE', 'UTF8=ACCEPT', 'LIST-EXTENDED', 'SPECIAL-USE', 'CREATE-SPECIAL-USE', 'LIST-STATUS', 'ID',
  'CONDSTORE', 'QRESYNC', 'STATUS=SIZE', 'QUOTA', 'QUOTA=RES-STORAGE', 'NAMESPACE', 'MULTIAPPEND', 'SAVEDATE',
  'PREVIEW', 'WITHIN', 'SORT', 'SORT=DISPLAY', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'ESORT', 'CONTEXT=SEARCH', 'CONTEXT=SORT', 'REPLACE', 'UIDONLY',
  'MULTISEARCH',
  // RFC 4469; URL-PARTIAL (RFC 5550 5): ;PARTIAL= in the URLs it takes.
  'CATENATE', 'URL-PARTIAL',
  'METADATA', 'METADATA-SERVER', 'LIST-METADATA', 'NOTIFY',
];

export interface CapabilityState {
  authenticated: boolean;
  tls: boolean;
  /** Whether LOGIN and AUTHENTICATE are usable now (TLS, or the loopback setting). */
  authAllowed: boolean;
  /** Whether STARTTLS can be offered (plain listener with a TLS context). */
  starttlsAvailable: boolean;
  appendLimit: number;
  /** SASL mechanisms usable on this connection now. */
  mechanisms: string[];
}

export function capabilities(s: CapabilityState): string[] {
  const caps = [...BASE, `APPENDLIMIT=${s.appendLimit}`];
  // RFC 4978: usable once logged in (cmd-compress.ts), so offered from then on.
  if (s.authenticated) caps.push('COMPRESS=DEFLATE');
  if (!s.authenticated) {
    if (!s.tls && s.starttlsAvailable) caps.push('STARTTLS');
    if (!s.authAllowed) caps.push('LOGINDISABLED');
    for (const m of s.mechanisms) caps.push(`AUTH=${m}`);
  }
  return caps;
}
