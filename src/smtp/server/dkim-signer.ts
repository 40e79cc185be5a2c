// DKIM signing of one message (RFC 6376, RFC 8463) with the keys configured for the From domain:
// relaxed/relaxed, rsa-sha256 or ed25519-sha256 by key type. The body hash is computed as chunks
// arrive; only the header section is held in memory. Runs in the DKIM worker threads
// (dkim-worker.ts), so its synchronous file reads and signatures never hold up the event loop.
// Keys are parsed once and again when the file changes (checked at most every KEY_RECHECK_MS), so a
// rotation needs no restart.

import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { toAsciiDomain } from '../../util/ascii-domain.js';
import { HeaderSplitter, RelaxedBodyCanonicalizer, parseHeaderFields, relaxedHeader, relaxedHeaders, selectSignedFields } from './dkim-canon.js';

/**
 * The fields signed when present, every instance: mailauth's default list (lib/tools.js
 * defaultDKIMFieldNames), which does not oversign.
 */
export const DKIM_SIGNED_FIELDS: readonly string[] = [
  'From', 'Sender', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'To', 'Cc', 'MIME-Version',
  'Content-Type', 'Content-Transfer-Encoding', 'Content-ID', 'Content-Description',
  'Resent-Date', 'Resent-From', 'Resent-Sender', 'Resent-To', 'Resent-Cc', 'Resent-Message-ID',
  'In-Reply-To', 'References', 'List-Id', 'List-Help', 'List-Unsubscribe', 'List-Subscribe',
  'List-Post', 'List-Owner', 'List-Archive', 'BIMI-Selector',
];
const SIGNED_KEYS: ReadonlySet<string> = new Set(DKIM_SIGNED_FIELDS.map((n) => n.toLowerCase()));

/** How long a key file is trusted before its mtime is looked at again. */
const KEY_RECHECK_MS = 1000;
/** Longest folded line, without CRLF (RFC 5322 2.1.1 asks for at most 78). */
const LINE_WIDTH = 76;

type Algorithm = 'ed25519-sha256' | 'rsa-sha256';

/** A key of the configuration: its selector and the PEM file holding the private key. */
export interface SigningKey {
  selector: string;
  keyFile: string;
}

interface LoadedKey {
  key: KeyObject;
  algorithm: Algorithm;
  /** mtime, size and inode: a rename-over or a rewrite within one mtime tick still shows. */
  version: string;
  checkedAt: number;
}

const keyCache = new Map<string, LoadedKey>();

function loadKey(file: string): LoadedKey {
  const cached = keyCache.get(file);
  const now = Date.now();
  if (cached && now - cached.checkedAt < KEY_RECHECK_MS && now >= cached.checkedAt) return cached;
  const st = statSync(file);
  const version = `${st.mtimeMs}:${st.size}:${st.ino}`;
  if (cached && cached.version === version) {
    cached.checkedAt = now;
    return cached;
  }
  const key = createPrivateKey(readFileSync(file));
  const type = key.asymmetricKeyType;
  if (type !== 'ed25519' && type !== 'rsa') throw new Error(`DKIM key ${file}: unsupported key type ${type}`);
  const k: LoadedKey = { key, algorithm: type === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256', version, checkedAt: now };
  keyCache.set(file, k);
  return k;
}

/** One message being signed: `push` its bytes in order, then `finish`. */
export class DkimSigning {
  private readonly bodyHash = createHash('sha256');
  private readonly body = new RelaxedBodyCanonicalizer((b) => this.bodyHash.update(b));
  private readonly splitter = new HeaderSplitter();
  private readonly loaded: LoadedKey[];

  /** Loads the keys first: a broken key file fails before the message is read. */
  constructor(
    private readonly keys: readonly SigningKey[],
    private readonly domain: string,
  ) {
    this.loaded = keys.map((k) => loadKey(k.keyFile));
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const rest = this.splitter.push(buf);
    if (rest && rest.length) this.body.update(rest);
  }

  /** DKIM-Signature fields (folded, each ending in CRLF), one per key, in key order. */
  finish(): string {
    this.body.end();
    const signed = selectSignedFields(parseHeaderFields(this.splitter.finish()), SIGNED_KEYS);
    // RFC 6376 5.4: From must be signed; without one there is nothing to sign for.
    if (!signed.some((f) => f.key === 'from')) throw new Error('DKIM: message has no From field');
    const headerInput = relaxedHeaders(signed);
    const bh = this.bodyHash.digest('base64');
    const t = Math.floor(Date.now() / 1000);

    let out = '';
    this.keys.forEach((k, i) => {
      const { key, algorithm } = this.loaded[i]!;
      const unsigned = signatureField({ a: algorithm, d: asciiDomain(this.domain), s: k.selector, t, h: signed.map((f) => f.name), bh });
      // RFC 6376 3.7: the signature field itself, b= empty, last and without its CRLF.
      const data = Buffer.from(headerInput + relaxedHeader(unsigned), 'latin1');
      const b =
        algorithm === 'rsa-sha256'
          ? sign('sha256', data, key)
          : // RFC 8463 3: Ed25519 (pure) over the SHA-256 of the data.
            sign(null, createHash('sha256').update(data).digest(), key);
      out += unsigned + foldBase64(b.toString('base64')) + '\r\n';
    });
    return out;
  }
}

function asciiDomain(domain: string): string {
  const d = domain.replace(/\.$/, '');
  return toAsciiDomain(d.toLowerCase()) || d.toLowerCase();
}

interface SignatureTags {
  a: Algorithm;
  d: string;
  s: string;
  t: number;
  /** Names of the signed fields, bottom-up. */
  h: string[];
  bh: string;
}

/**
 * The DKIM-Signature field folded at tag boundaries and between h= names, up to and including
 * "b=", which starts a line of its own so the value can follow.
 */
function signatureField(tags: SignatureTags): string {
  const lines: string[] = [];
  let cur = 'DKIM-Signature:';
  const put = (token: string, sep: string) => {
    if (cur.length + sep.length + token.length > LINE_WIDTH) {
      lines.push(cur);
      cur = ' ' + token;
    } else {
      cur += sep + token;
    }
  };
  for (const tag of [`v=1;`, `a=${tags.a};`, `c=relaxed/relaxed;`, `d=${tags.d};`, `s=${tags.s};`, `t=${tags.t};`]) put(tag, ' ');
  // h=: FWS may go around each colon (RFC 6376 3.5), so a break after one is fine.
  const h = tags.h;
  h.forEach((name, i) => {
    const token = (i === 0 ? 'h=' : '') + name + (i === h.length - 1 ? ';' : ':');
    put(token, i === 0 ? ' ' : '');
  });
  put(`bh=${tags.bh};`, ' ');
  lines.push(cur);
  lines.push(' b=');
  return lines.join('\r\n');
}

/** The b= value, continuing the " b=" line and then on lines of its own. */
function foldBase64(b64: string): string {
  let out = '';
  let room = LINE_WIDTH - ' b='.length;
  for (let i = 0; i < b64.length; ) {
    if (out) out += '\r\n ';
    out += b64.slice(i, i + room);
    i += room;
    room = LINE_WIDTH - 1;
  }
  return out;
}
