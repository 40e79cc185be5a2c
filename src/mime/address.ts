// RFC 5322 3.4 address lists, including groups, comments, obsolete routes (4.4) and broken input.

export interface Mailbox {
  /** Display name as written (quotes removed, encoded words not decoded); null when absent. */
  name: string | null;
  /** Obsolete source route (RFC 5322 4.4 obs-route), e.g. "@a,@b"; null when absent. */
  route: string | null;
  /** Local part as written (a quoted local part keeps its quotes). */
  local: string;
  /** Domain; null when the address has no "@". */
  domain: string | null;
}

export interface Group {
  group: string;
  members: Mailbox[];
}

export type AddressEntry = Mailbox | Group;

export function isGroup(e: AddressEntry): e is Group {
  return (e as Group).group !== undefined;
}

type Kind = 'word' | 'qstr' | 'comment' | 'dlit' | 'special';
interface Token {
  kind: Kind;
  /** Raw text (specials: the character). */
  raw: string;
  /** Content for quoted strings and comments. */
  text: string;
  space: boolean;
}

const SPECIALS = '<>:;@,';
/** Characters that end a word: white space, the openers of other tokens, specials and ")". */
const WORD_END = new Uint8Array(128);
for (const c of ' \t\r\n"([)' + SPECIALS) WORD_END[c.charCodeAt(0)] = 1;

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let space = false;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      space = true;
      i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      let text = '';
      for (i++; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        text += s[i];
      }
      i++; // closing quote (or past the end)
      out.push({ kind: 'qstr', raw: s.slice(start, Math.min(i, s.length)), text, space });
    } else if (c === '(') {
      let depth = 0;
      let text = '';
      for (; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) {
          text += s[++i];
          continue;
        }
        if (d === '(' && depth++ === 0) continue;
        if (d === ')' && --depth === 0) break;
        text += d;
      }
      i++;
      out.push({ kind: 'comment', raw: s.slice(start, i), text, space });
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      i = close < 0 ? s.length : close + 1;
      out.push({ kind: 'dlit', raw: s.slice(start, i), text: s.slice(start, i), space });
    } else if (SPECIALS.includes(c)) {
      i++;
      out.push({ kind: 'special', raw: c, text: c, space });
    } else {
      while (i < s.length) {
        const k = s.charCodeAt(i);
        if (k < 128 && WORD_END[k]) break;
        i++;
      }
      if (i === start) i++; // a lone ")": keep it as a word so we always advance
      out.push({ kind: 'word', raw: s.slice(start, i), text: s.slice(start, i), space });
    }
    space = false;
  }
  return out;
}

function isSpecial(t: Token | undefined, c: string): boolean {
  return t !== undefined && t.kind === 'special' && t.raw === c;
}

/** Display-name text: quoted strings unquoted, a space wherever the source had white space. */
function phraseText(tokens: Token[]): string {
  let s = '';
  for (const t of tokens) {
    if (t.kind === 'comment') continue;
    if (s && t.space) s += ' ';
    s += t.kind === 'qstr' ? t.text : t.raw;
  }
  return s;
}

/** Address text: tokens joined without the folding white space around them. */
function specText(tokens: Token[]): string {
  let s = '';
  let prev: Token | null = null;
  for (const t of tokens) {
    if (t.kind === 'comment') continue;
    // Keep a space between two words only (garbage like "john doe@x"), never around dots.
    if (prev && t.space && prev.kind !== 'special' && t.kind !== 'special' && !s.endsWith('.') && !t.raw.startsWith('.')) {
      s += ' ';
    }
    s += t.raw;
    prev = t;
  }
  return s;
}

function addrSpec(tokens: Token[]): { local: string; domain: string | null } {
  let at = -1;
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (isSpecial(tokens[i], '@')) {
      at = i;
      break;
    }
  }
  if (at < 0) return { local: specText(tokens), domain: null };
  return { local: specText(tokens.slice(0, at)), domain: specText(tokens.slice(at + 1)) };
}

function lastComment(tokens: Token[]): string | null {
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.kind === 'comment' && t.text.trim()) return t.text.trim();
  }
  return null;
}

class Parser {
  i = 0;
  constructor(readonly t: Token[]) {}

  list(): AddressEntry[] {
    const out: AddressEntry[] = [];
    while (this.i < this.t.length) {
      const e = this.entry(false);
      if (e) out.push(e);
    }
    return out;
  }

  /** One element of the list; consumes its trailing separator. */
  entry(inGroup: boolean): AddressEntry | null {
    const phrase: Token[] = [];
    while (this.i < this.t.length) {
      const tok = this.t[this.i]!;
      if (tok.kind === 'special' && tok.raw !== '@') break;
      phrase.push(tok);
      this.i++;
    }
    const stop = this.t[this.i];
    if (isSpecial(stop, ':') && !inGroup) {
      this.i++;
      const members: Mailbox[] = [];
      while (this.i < this.t.length && !isSpecial(this.t[this.i], ';')) {
        const m = this.entry(true);
        if (m && !isGroup(m)) members.push(m);
      }
      this.i++; // ";"
      if (isSpecial(this.t[this.i], ',')) this.i++;
      return { group: phraseText(phrase), members };
    }
    if (isSpecial(stop, '<')) {
      this.i++;
      const mb = this.angle();
      const name = phraseText(phrase);
      // Skip whatever follows the ">" up to the separator (comments, garbage).
      const rest: Token[] = [];
      while (this.i < this.t.length && !isSpecial(this.t[this.i], ',') && !isSpecial(this.t[this.i], ';')) {
        rest.push(this.t[this.i]!);
        this.i++;
      }
      this.separator(inGroup);
      return { ...mb, name: name || lastComment(phrase) || lastComment(rest) };
    }
    if (isSpecial(stop, ':') || isSpecial(stop, '>')) {
      // Stray ":" inside a group or a lone ">": skip it as garbage.
      this.i++;
      if (phrase.every((t) => t.kind === 'comment')) return null;
      return { name: lastComment(phrase), route: null, ...addrSpec(phrase) };
    }
    this.separator(inGroup);
    if (phrase.every((t) => t.kind === 'comment')) return null;
    return { name: lastComment(phrase), route: null, ...addrSpec(phrase) };
  }

  separator(inGroup: boolean): void {
    const tok = this.t[this.i];
    if (isSpecial(tok, ',')) this.i++;
    else if (isSpecial(tok, ';') && !inGroup) this.i++; // stray ";" outside a group
  }

  /** Inside <...>: optional obs-route, then addr-spec, up to ">" (or the end of an unclosed bracket). */
  angle(): Omit<Mailbox, 'name'> {
    const inner: Token[] = [];
    // RFC 5322 4.4 obs-route "@a,@b:" starts with "@" and ends at ":"; inside it "," does not end the
    // address. Tracked as we go so each token costs O(1).
    let route: 'none' | 'open' | 'closed' = 'none';
    let colon = -1;
    while (this.i < this.t.length) {
      const tok = this.t[this.i]!;
      if (isSpecial(tok, '>')) {
        this.i++;
        break;
      }
      // An unclosed "<" ends at the next list separator.
      if ((isSpecial(tok, ',') && route !== 'open') || isSpecial(tok, ';')) break;
      if (tok.kind !== 'comment' && route === 'none') {
        route = isSpecial(tok, '@') ? 'open' : 'closed';
      }
      if (isSpecial(tok, ':') && colon < 0) {
        colon = inner.length;
        if (route === 'open') route = 'closed';
      }
      inner.push(tok);
      this.i++;
    }
    const first = inner.find((x) => x.kind !== 'comment');
    if (colon >= 0 && isSpecial(first, '@')) {
      return { route: specText(inner.slice(0, colon)), ...addrSpec(inner.slice(colon + 1)) };
    }
    return { route: null, ...addrSpec(inner) };
  }
}

/** Parses an address-list header value (From, To, Cc, ...). Never throws. */
export function parseAddressList(value: string): AddressEntry[] {
  const simple = simpleMailbox(value);
  return simple ? [simple] : parseAddressListFully(value);
}

/** parseAddressList without the shortcut for one plain mailbox (tests compare the two). */
export function parseAddressListFully(value: string): AddressEntry[] {
  return new Parser(tokenize(value)).list();
}

// One mailbox in its most common forms: `local@domain`, `<local@domain>`, `"Quoted Name"
// <local@domain>`, `Plain Words <local@domain>`: words as the tokenizer makes them (no specials,
// quotes, comments, brackets or backslashes in quoted text), so the answer is what the parser
// would give, without tokens.
const WSP = '[ \\t\\r\\n]';
const WORD = '[^ \\t\\r\\n"()\\[\\]<>:;@,]+';
const NAMED = new RegExp(`^${WSP}*(?:"([^"\\\\]*)"|(${WORD}(?:${WSP}+${WORD})*))?${WSP}*<(${WORD})@(${WORD})>${WSP}*$`);
const BARE = new RegExp(`^${WSP}*(${WORD})@(${WORD})${WSP}*$`);

function simpleMailbox(value: string): Mailbox | null {
  const b = BARE.exec(value);
  // Keys in the parser's order, so both give objects of one shape.
  if (b) return { name: null, route: null, local: b[1]!, domain: b[2]! };
  const m = NAMED.exec(value);
  if (!m) return null;
  const name = m[1] ?? m[2]?.replace(/[ \t\r\n]+/g, ' ');
  return { route: null, local: m[3]!, domain: m[4]!, name: name || null };
}

/** "local@domain" of a mailbox, or just the local part when there is no domain. */
export function formatAddress(m: Mailbox): string {
  return m.domain === null ? m.local : `${m.local}@${m.domain}`;
}
