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

/**
 * What each extension needs advertised beside it: a capability hidden from an account
 * (`postern account capabilities`) takes along every capability that needs it, directly or
 * through another, since a client may use the dependent one only with what it builds on.
 */
export const REQUIRES: Readonly<Record<string, readonly string[]>> = {
  // RFC 9051 includes these; an IMAP4rev2 session answers SEARCH with ESEARCH, lists with
  // LIST-EXTENDED syntax and so on, so a client kept from one of them must not be offered rev2.
  IMAP4REV2: ['ENABLE', 'IDLE', 'SASL-IR', 'BINARY', 'UNSELECT', 'UIDPLUS', 'ESEARCH', 'SEARCHRES', 'MOVE', 'LIST-EXTENDED', 'SPECIAL-USE', 'LIST-STATUS', 'NAMESPACE', 'STATUS=SIZE'],
  QRESYNC: ['CONDSTORE', 'ENABLE'], // RFC 7162 3.2: QRESYNC implies CONDSTORE; it is ENABLEd
  'UTF8=ACCEPT': ['ENABLE'], // RFC 6855 3
  UIDONLY: ['ENABLE'], // RFC 9586 3
  'SORT=DISPLAY': ['SORT'], // RFC 5957 extends SORT
  ESORT: ['SORT', 'ESEARCH'], // RFC 5267 3: SORT RETURN, answered with ESEARCH responses
  'CONTEXT=SEARCH': ['ESEARCH'], // RFC 5267 4
  'CONTEXT=SORT': ['ESORT', 'CONTEXT=SEARCH'], // RFC 5267 4
  SEARCHRES: ['ESEARCH'], // RFC 5182 2
  MULTISEARCH: ['ESEARCH'], // RFC 7377 2
  'LIST-STATUS': ['LIST-EXTENDED'], // RFC 5819 2
  'CREATE-SPECIAL-USE': ['SPECIAL-USE'], // RFC 6154 3
  METADATA: ['METADATA-SERVER'], // RFC 5464 1: METADATA is the server's entries and the mailboxes'
  'LIST-METADATA': ['LIST-EXTENDED', 'METADATA'], // RFC 9590 2
  'QUOTA=RES-STORAGE': ['QUOTA'], // RFC 9208 5
};

/** Names (upper case) hidden for an account that hides `hidden`: those and all that need them. */
export function withDependents(hidden: Iterable<string>): Set<string> {
  const out = new Set([...hidden].map((c) => c.toUpperCase()));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [cap, needs] of Object.entries(REQUIRES)) {
      if (!out.has(cap) && needs.some((n) => out.has(n))) {
        out.add(cap);
        grew = true;
      }
    }
  }
  return out;
}
