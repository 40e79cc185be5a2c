// Fuzz targets: each feeds one generated input to a parser the way the server does, and checks the
// invariants: only the documented error type escapes, state stays bounded, offsets stay sane.
// Anything else thrown is a finding. Hangs and memory blow-ups are caught by the runner (runner.ts).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { deriveCredentials, type StoredCredentials } from '../src/auth/password.js';
import { ConfigError, MAX_CONFIG_SIZE, loadConfig, parseConfig } from '../src/config/load.js';
import { CommandReader, type ReaderEvent } from '../src/imap/proto/command-reader.js';
import { DEFAULT_READER_LIMITS, MAX_BAD_COMMANDS, type ReaderLimits } from '../src/imap/proto/limits.js';
import { commandTag, parseMessagePrefix, parseCommand as parseImapCommand } from '../src/imap/proto/parse-command.js';
import { ImapSyntaxError } from '../src/imap/proto/syntax-error.js';
import { formatImapUrl, isImapUrlError, parseImapUrl, rumpUrl } from '../src/imap/url/imap-url.js';
import { MAX_IMAP_URL_LENGTH } from '../src/imap/url/limits.js';
import { bodyStructure, envelope, parseMessage, searchableText, type MimePart } from '../src/mime/index.js';
import { createSaslServer } from '../src/sasl/server.js';
import { SASL_MECHANISMS, type SaslMechanism, type SaslServerContext } from '../src/sasl/types.js';
import { BdatMessage } from '../src/smtp/proto/bdat.js';
import { parseCommand as parseSmtpCommand, type ParseCommandOptions } from '../src/smtp/proto/command.js';
import { DataReader, type DataResult } from '../src/smtp/proto/data-reader.js';
import { LineReader } from '../src/smtp/proto/line-reader.js';
import { MAX_AUTH_LINE, MAX_COMMAND_LINE } from '../src/smtp/proto/limits.js';
import { SmtpError } from '../src/smtp/proto/smtp-error.js';
import { CertificateError, certificatePem, parseCertificate } from '../src/tls/certificate.js';
import { buildQuery, DnsQueryError, parseTlsaResponse } from '../src/dns/tlsa-query.js';
import { generateClientCertificate } from '../src/tls/generate.js';
import type { Rng } from './mutate.js';

export interface FuzzTarget {
  name: string;
  /** Seed corpus; built once per worker. */
  seeds(): Buffer[] | Promise<Buffer[]>;
  dictionary: string[];
  /** Usual input size bound, and the bound of the rare huge input. */
  maxSize: number;
  hugeSize: number;
  /** Relative cost, used to split a budget of executions between targets. */
  weight: number;
  /** One execution. `rng` makes the target's own choices (chunking, options). */
  run(input: Buffer, rng: Rng): void | Promise<void>;
}

/** The repository root (fixtures live there, not under the build directory). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'test', 'fixtures'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
}

/** Splits `buf` into 1..n chunks at random points. */
function chunks(buf: Buffer, rng: Rng): Buffer[] {
  if (buf.length === 0 || rng.chance(0.3)) return [buf];
  const cuts = new Set<number>();
  const n = 1 + rng.small(Math.min(64, buf.length));
  for (let i = 0; i < n; i++) cuts.add(rng.int(buf.length));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out.filter((c) => c.length > 0);
}

function allow(err: unknown, ...types: (abstract new (...a: never[]) => Error)[]): void {
  if (types.some((t) => err instanceof t)) return;
  throw err;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

// ---- IMAP: CommandReader + parseCommand, as connection.ts drives them ----

const IMAP_SEEDS = [
  'a1 CAPABILITY\r\n',
  'a LOGIN "alice@example.test" {10}\r\nsecretpass\r\n',
  'a LOGIN {5+}\r\nalice "pw"\r\n',
  'a AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM\r\n',
  'a AUTHENTICATE PLAIN =\r\n',
  'a SELECT INBOX (CONDSTORE)\r\n',
  'a SELECT "INBOX" (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1,3,5 41,43,47)))\r\n',
  'a EXAMINE {5}\r\nInbox\r\n',
  'a FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n',
  'a UID FETCH 1,3:5,7:* (BODY.PEEK[HEADER.FIELDS (Subject From)]<0.100> BINARY[1.2]<5.10> BINARY.SIZE[1] MODSEQ) (CHANGEDSINCE 12345 VANISHED)\r\n',
  'a FETCH $ (BODY[1.2.MIME] BODY[TEXT] RFC822 RFC822.HEADER PREVIEW SAVEDATE EMAILID)\r\n',
  'a SEARCH CHARSET UTF-8 OR (FROM "a" TO {3}\r\nbob) NOT (SINCE 1-Feb-2024 BEFORE 3-Mar-2025) LARGER 100 UID 1:5,*\r\n',
  'a UID SEARCH RETURN (MIN MAX COUNT SAVE) MODSEQ "/flags/\\\\draft" all 620162338 HEADER "X-A" "b" KEYWORD $Junk\r\n',
  'a STORE 1:3 +FLAGS.SILENT (\\Seen \\Deleted $Forwarded)\r\n',
  'a UID STORE 1:* (UNCHANGEDSINCE 320162338) FLAGS (\\Answered)\r\n',
  'a APPEND INBOX (\\Seen) "05-Jan-2024 10:00:00 +0100" {11}\r\nhello world\r\n',
  'a APPEND Drafts {6+}\r\nhello!  (\\Draft) ~{3+}\r\na\x00b {0}\r\n\r\n',
  'a APPEND "Sent" UTF8 (~{5+}\r\nhello)\r\n',
  'a APPEND Drafts (\\Seen) CATENATE (URL "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER" TEXT {3+}\r\nabc URL {7+}\r\n;UID=20 UTF8 (~{1+}\r\nx)) CATENATE (URL ";UID=1")\r\n',
  'a UID REPLACE 4 Drafts CATENATE (TEXT ~{2+}\r\n\0\0 URL ";UID=4/;SECTION=1.MIME")\r\n',
  'a UID MOVE 1:7 Trash\r\n',
  'a COPY 2,4 "Archive"\r\n',
  'a UID EXPUNGE 3:9\r\n',
  'a LIST (SUBSCRIBED SPECIAL-USE) "" ("INBOX" "%/x") RETURN (CHILDREN STATUS (MESSAGES UIDNEXT SIZE))\r\n',
  'a LSUB "" *\r\n',
  'a STATUS "a&AOk-b" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)\r\n',
  'a CREATE "Lists/postern" (USE (\\Archive))\r\n',
  'a RENAME "old" {3}\r\nnew\r\n',
  'a ENABLE IMAP4rev2 UTF8=ACCEPT QRESYNC CONDSTORE\r\n',
  'a ID ("name" "postern" "version" NIL)\r\n',
  'a GETQUOTAROOT INBOX\r\na GETQUOTA ""\r\n',
  'a SETMETADATA INBOX (/private/comment {5}\r\nhello /shared/x ~{3}\r\na\0b /private/y NIL)\r\nb GETMETADATA (MAXSIZE 4 DEPTH infinity) INBOX (/private /shared/x)\r\n',
  'a LIST "" "*" RETURN (METADATA (MAXSIZE 10 /shared/comment))\r\nb GETMETADATA "" /shared/admin\r\n',
  'a NAMESPACE\r\na IDLE\r\nDONE\r\n',
  'a NOOP\r\nb CHECK\r\nc UNSELECT\r\nd CLOSE\r\ne LOGOUT\r\n',
  'a STARTTLS\r\n',
  'a LOGIN {102401}\r\nb NOOP\r\n',
  'a X {1+}\r\nx {1+}\r\ny {1}\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
];
const IMAP_DICT = [
  '\r\n', ' ', '{0}\r\n', '{1}\r\n', '{5+}\r\n', '~{4}\r\n', '{102401}\r\n', '{999999999999}\r\n', '{4294967296+}\r\n', '"', '\\', '(', ')', '[', ']', '<', '>', '<0.4294967296>', '*', '%', '$',
  '1:*', '4294967295', '4294967296', '0', ',', ':', 'NIL', 'UID', 'FETCH', 'APPEND', 'SEARCH', 'STORE', 'BODY[', 'BODY.PEEK[', 'BINARY[', 'HEADER.FIELDS.NOT', 'MIME', 'TEXT',
  'CHARSET', 'OR', 'NOT', 'ALL', 'MODSEQ', 'UNCHANGEDSINCE', 'CHANGEDSINCE', 'VANISHED', 'QRESYNC', 'RETURN', 'SAVE', 'INBOX', '&AOk-', '&-', '&', 'UTF8', 'DONE', '+FLAGS', '\\Seen', '1-Jan-2000',
  '"01-Jan-2000 00:00:00 +0000"', 'SPECIAL-USE', 'STATUS', 'HIGHESTMODSEQ', 'a ', 'CATENATE (', 'URL ', 'TEXT ', 'UTF8 (', 'REPLACE',
];

function imapLimits(rng: Rng): ReaderLimits {
  if (rng.chance(0.6)) return DEFAULT_READER_LIMITS;
  return { maxLiteralSize: 1 + rng.small(200), maxLiteralsPerCommand: 1 + rng.small(5), maxLiteralBytesPerCommand: 1 + rng.small(400), maxLiteralBytesBeforeAuth: 1 + rng.small(400), maxLineLength: 8 + rng.small(400) };
}

const imap: FuzzTarget = {
  name: 'imap-command',
  seeds: () => IMAP_SEEDS.map(b),
  dictionary: IMAP_DICT,
  maxSize: 4096,
  hugeSize: 2 * 1024 * 1024,
  weight: 1,
  run(input, rng) {
    const limits = imapLimits(rng);
    const reader = new CommandReader(limits);
    // Events consume bytes, except a bounded few per line: more than this is a loop in next().
    let budget = 4 * input.length + 64;
    // As connection.ts: MAX_BAD_COMMANDS unparsable commands in a row end the connection.
    let badInARow = 0;
    const onEvent = (ev: ReaderEvent): void => {
      if (--budget < 0) throw new Error('CommandReader.next() yields events without consuming input');
      switch (ev.kind) {
        case 'command':
          try {
            commandTag(ev.parts);
            JSON.stringify(parseImapCommand(ev.parts), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
            badInARow = 0;
          } catch (err) {
            allow(err, ImapSyntaxError);
            // An unknown charset is answered NO, not BAD.
            if (!(err as ImapSyntaxError).code?.startsWith('BADCHARSET')) badInARow++;
          }
          break;
        case 'message-literal':
          try {
            parseMessagePrefix(ev.prefix, ev.size, ev.binary);
          } catch (err) {
            allow(err, ImapSyntaxError);
          }
          assert.equal(reader.awaitingDecision, true);
          if (Number.isFinite(ev.size) && ev.size <= 1 << 20 && rng.chance(0.7)) reader.acceptMessage();
          else reader.rejectMessage();
          break;
        case 'toobig':
          if (!ev.sync) assert.equal(reader.dead, true, 'a non-sync literal over a limit kills the reader');
          break;
        case 'line-too-long':
          assert.equal(reader.dead, true, 'an over-long line kills the reader');
          break;
        default:
          break;
      }
    };
    for (const c of chunks(input, rng)) {
      if (badInARow >= MAX_BAD_COMMANDS) break;
      reader.push(c);
      for (let ev = reader.next(); ev && badInARow < MAX_BAD_COMMANDS; ev = reader.next()) onEvent(ev);
      // Memory per connection is bounded: unprocessed bytes never exceed what was pushed, and a
      // line without LF is not kept past the line limit plus the chunk that overran it.
      assert.ok(reader.buffered <= input.length);
      if (!reader.awaitingDecision) assert.ok(reader.buffered <= limits.maxLineLength + 2 + c.length, `reader holds ${reader.buffered} bytes`);
    }
  },
};

// ---- IMAP URLs (RFC 5092): parseImapUrl never throws; what it accepts formats back to itself ----

const URL_SEEDS = [
  'imap://fred%20x;AUTH=*@mail.example.com:1143/Drafts%2FSub;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2.mime/;PARTIAL=10.20;EXPIRE=2026-12-31T23:59:59.5+02:00;URLAUTH=submit+fred:INTERNAL:91354a473744909de610943775f92038',
  '/Entw%C3%BCrfe;UIDVALIDITY=1/;UID=3/;SECTION=HEADER.FIELDS%20(%22a%20b%22%20To)',
  ';UID=20/;SECTION=TEXT/;PARTIAL=0',
  'imap://joe@[::1]/INBOX/;uid=20;urlauth=anonymous',
];

const imapUrl: FuzzTarget = {
  name: 'imap-url',
  seeds: () => URL_SEEDS.map(b),
  dictionary: ['imap://', '/', ';', '%', '%C3%BC', '%00', 'UID=', 'UIDVALIDITY=', 'SECTION=', 'PARTIAL=', 'EXPIRE=', 'URLAUTH=', 'AUTH=', ':INTERNAL:', 'submit+', '.', '4294967296', '0', 'HEADER.FIELDS%20(', '%22', ')', '@', ':'],
  maxSize: 512,
  hugeSize: 16 * 1024,
  weight: 0.5,
  run(input) {
    const text = input.toString('latin1');
    const opts = { relativeTo: { mailbox: 'INBOX', uidValidity: 7 } };
    const u = parseImapUrl(text, opts);
    rumpUrl(text);
    if (isImapUrlError(u)) {
      assert.equal(u.code, 'BADURL');
      return;
    }
    assert.ok(Number.isInteger(u.uid) && u.uid >= 1 && u.uid <= 0xffffffff);
    const formatted = formatImapUrl(u);
    // Encoding may lengthen it past the length limit; below it, it reads back the same.
    if (formatted.length > MAX_IMAP_URL_LENGTH) return;
    assert.deepEqual(parseImapUrl(formatted, opts), u, `round trip of ${JSON.stringify(text)} via ${JSON.stringify(formatted)}`);
  },
};

// ---- SMTP: LineReader + parseCommand ----

const SMTP_SEEDS = [
  'EHLO client.example.org\r\n',
  'HELO [192.0.2.1]\r\nEHLO [IPv6:2001:db8::1]\r\n',
  'MAIL FROM:<alice@example.test> SIZE=12345 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159 AUTH=<>\r\n',
  'MAIL FROM:<> BODY=BINARYMIME\r\n',
  'RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2B@example.org\r\n',
  'RCPT TO:<"quoted local"@example.org>\r\nRCPT TO:<@a.example,@b.example:c@d.example>\r\nRCPT TO:<Postmaster>\r\n',
  'RCPT TO:<j\u00f6rg@\u00e9xample.org>\r\n',
  'DATA\r\nBDAT 100 LAST\r\nBDAT 0\r\n',
  'AUTH PLAIN AGFsaWNlAHB3\r\nAUTH SCRAM-SHA-256\r\nAUTH EXTERNAL =\r\n*\r\n',
  'RSET\r\nNOOP hello\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nQUIT\r\nSTARTTLS\r\n',
  'GET / HTTP/1.1\r\n',
];
const SMTP_DICT = ['\r\n', '\n', '\r', ' ', '\t', '<', '>', '<>', '@', ':', ',', '"', '\\', '[', ']', 'IPv6:', '=', '+', 'SIZE=', 'BODY=', 'NOTIFY=', 'ORCPT=', 'rfc822;', 'utf-8;', 'ENVID=', 'RET=', 'AUTH=', 'SMTPUTF8', 'MAIL FROM:', 'RCPT TO:', 'BDAT ', 'LAST', '99999999999999999999', 'example.org', '\u00e9', '\uFFFD', '\x00'];

function smtpOptions(rng: Rng): ParseCommandOptions {
  const f = (): boolean => rng.chance(0.8);
  return { smtputf8: rng.chance(0.5), extensions: { size: f(), eightBitMime: f(), binaryMime: f(), smtputf8: f(), dsn: f(), auth: f() }, maxLocalPart: rng.chance(0.8) ? undefined : rng.small(300) };
}

const smtpCommand: FuzzTarget = {
  name: 'smtp-command',
  seeds: () => SMTP_SEEDS.map(b),
  dictionary: SMTP_DICT,
  maxSize: 4096,
  hugeSize: 2 * 1024 * 1024,
  weight: 1,
  run(input, rng) {
    const max = rng.chance(0.7) ? MAX_COMMAND_LINE : rng.chance(0.5) ? MAX_AUTH_LINE : 3 + rng.small(300);
    const lines = new LineReader({ maxLineLength: max });
    const opts = smtpOptions(rng);
    let parsed = 0;
    for (const c of chunks(input, rng)) {
      lines.push(c);
      for (let ev = lines.next(); ev; ev = lines.next()) {
        if (ev.type !== 'line') {
          assert.ok(ev.length >= max - 1, `overlong event for ${ev.length} bytes (limit ${max})`);
          continue;
        }
        // The session drops a client after MAX_ERRORS bad commands; parsing 100k empty lines
        // only measures the cost of throwing.
        if (++parsed > 2000) continue;
        assert.ok(ev.line.length < max + 2, `line of ${ev.line.length} bytes over the limit ${max}`);
        for (const line of [ev.line, ev.line.toString('latin1')]) {
          try {
            JSON.stringify(parseSmtpCommand(line, opts));
          } catch (err) {
            allow(err, SmtpError);
          }
        }
      }
      // A partial line is dropped once it is over the limit (line-reader.ts): memory stays bounded.
      assert.ok(lines.buffered <= max + c.length, `LineReader holds ${lines.buffered} bytes (limit ${max})`);
    }
  },
};

// ---- SMTP DATA / BDAT readers ----

const DATA_SEEDS = [
  'Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n',
  '..leading dot\r\n.\r\n',
  '.\r\n',
  'a\nb\n.\nc\r\n.\r\nRSET\r\n',
  'x\r.\r\n\r\n.\r\nNOOP\r\n',
  'line\r\n.x\r\n..\r\n.\r\n',
  '\x00\xff\xfe\r\n.\r\n',
];

function collectData(input: Buffer[], maxSize: number, bareLf: 'keep' | 'convert'): { out: Buffer; res: DataResult | undefined; pushedAfterDone: number } {
  const parts: Buffer[] = [];
  let res: DataResult | undefined;
  const r = new DataReader({ sink: (c) => parts.push(Buffer.from(c)), maxSize, bareLf });
  let pushedAfterDone = 0;
  for (const c of input) {
    if (res) {
      pushedAfterDone += c.length;
      continue;
    }
    res = r.push(c);
  }
  return { out: Buffer.concat(parts), res, pushedAfterDone };
}

const smtpData: FuzzTarget = {
  name: 'smtp-data',
  seeds: () => DATA_SEEDS.map((s) => Buffer.from(s, 'latin1')),
  dictionary: ['\r\n', '\n', '\r', '.', '.\r\n', '\r\n.\r\n', '\n.\n', '\r\n..\r\n', '\x00', '\xff'],
  maxSize: 8192,
  hugeSize: 4 * 1024 * 1024,
  weight: 1,
  run(input, rng) {
    const maxSize = rng.chance(0.5) ? 100 * 1024 * 1024 : rng.small(input.length + 2);
    const bareLf = rng.chance(0.5) ? 'keep' : 'convert';
    const whole = collectData([input], maxSize, bareLf);
    const split = collectData(chunks(input, rng), maxSize, bareLf);
    // The decoding does not depend on how the bytes arrived.
    assert.ok(whole.out.equals(split.out), 'DataReader output depends on chunking');
    assert.equal(whole.res === undefined, split.res === undefined);
    if (whole.res && split.res) {
      assert.equal(whole.res.size, split.res.size);
      assert.equal(whole.res.exceeded, split.res.exceeded);
      assert.equal(whole.res.eightBit, split.res.eightBit);
      assert.equal(whole.res.bareLf, split.res.bareLf);
      assert.ok(whole.res.rest.equals(Buffer.concat([split.res.rest, input.subarray(input.length - split.pushedAfterDone)])), 'rest differs');
      assert.ok(whole.out.length <= maxSize && whole.out.length <= whole.res.size);
      assert.equal(whole.res.exceeded, whole.res.size > maxSize);
      // The rest is a suffix of the input: nothing after the terminator was consumed.
      assert.ok(input.subarray(input.length - whole.res.rest.length).equals(whole.res.rest));
    }
    // BDAT: chunk sizes taken from the input, never more than maxSize passed on.
    const msg = new BdatMessage({ sink: (c) => void (sunk += c.length), maxSize });
    let sunk = 0;
    let pos = 0;
    while (pos < input.length && !msg.last) {
      const size = rng.small(input.length - pos + 1);
      const reader = msg.chunk(size, rng.chance(0.2));
      let rest: Buffer | undefined;
      for (const c of chunks(input.subarray(pos), rng)) {
        const r = reader.push(c);
        if (r) {
          rest = r.rest;
          break;
        }
      }
      if (!rest) break;
      pos += size;
    }
    assert.ok(sunk <= maxSize && sunk <= msg.size);
  },
};

// ---- MIME ----

function mimeSeeds(): Buffer[] {
  const dir = join(repoRoot(), 'test', 'fixtures', 'mime');
  const out: Buffer[] = readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f): Buffer => readFileSync(join(dir, f)));
  out.push(b('From: =?utf-8?q?=C3=A9?= <a@b>\r\nTo: undisclosed-recipients:;\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\nContent-Type: text/html; charset*=utf-8\'\'x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=E9</p>\r\n--y--\r\n--x--\r\n'));
  return out;
}

const mime: FuzzTarget = {
  name: 'mime',
  seeds: mimeSeeds,
  dictionary: [
    '\r\n', '\n', '\r\n\r\n', '--', '--b', '--b--', ': ', ';', '=', '"', '(', ')', '<', '>', '@', ',', ' ', '\t', '\r\n ', '=?', '?=', '?B?', '?Q?', '=?utf-8?B?', '=?iso-2022-jp?B?GyRC', '=E9', '=\r\n', '*0*=', "utf-8''%E2%82", '%',
    'Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Type: message/rfc822\r\n', 'Content-Type: message/global\r\n', 'Content-Type: text/plain; charset=utf-16\r\n', 'Content-Transfer-Encoding: base64\r\n',
    'Content-Transfer-Encoding: quoted-printable\r\n', 'Content-Transfer-Encoding: x-uuencode\r\n', 'Content-Disposition: attachment; filename*0*=utf-8\'\'%E2; filename*1=x\r\n', 'From: ', 'To: g: a@b, "c" <d@e>;\r\n', 'Subject: ', 'Date: ', 'Message-ID: <a@b>\r\n',
    'In-Reply-To: ', 'Content-Language: en\r\n', 'Content-Location: x\r\n', 'Content-ID: <c>\r\n', 'Content-MD5: x\r\n',
  ],
  maxSize: 64 * 1024,
  hugeSize: 4 * 1024 * 1024,
  weight: 4,
  run(input) {
    const root = parseMessage(input);
    const walk = (p: MimePart, depth: number): void => {
      assert.ok(p.headerStart <= p.headerEnd && p.headerEnd <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= input.length, 'part offsets out of order');
      assert.ok(depth < 200, 'MIME tree deeper than MAX_MIME_DEPTH allows');
      for (const c of p.children ?? []) walk(c, depth + 1);
      if (p.message) walk(p.message, depth + 1);
    };
    walk(root, 0);
    JSON.stringify(bodyStructure(input, root, true));
    JSON.stringify(bodyStructure(input, root, false));
    JSON.stringify(envelope(input, root));
    searchableText(input, root);
  },
};

// ---- SASL server halves ----

// Weighted: PLAIN and LOGIN cost a scrypt run per attempt, so they come up less often.
const MECH_TABLE: SaslMechanism[] = [...SASL_MECHANISMS.flatMap((m) => (m === 'PLAIN' || m === 'LOGIN' ? [m] : [m, m, m, m, m]))];
const SASL_SEP = b('\n~~\n');
let users: Record<string, StoredCredentials> | undefined;

function saslSeeds(): Buffer[] {
  const msgs = [
    ['\0alice\0pw12345678'], ['alice\0alice\0pw12345678'], ['u', 'pw12345678'], ['<null>', 'dQ==', 'cHc='],
    ['n,,n=alice,r=abcdefghijkl', 'c=biws,r=abcdefghijklXXXX,p=AAAA'], ['p=tls-exporter,,n=alice,r=abcdefghijkl', 'c=cD10bHMtZXhwb3J0ZXIsLAEBAQ==,r=x,p=dGVzdA=='],
    ['y,a=bob,n=alice,r=abcdefghijkl'], ['n,a=x=2Cy,n=a=3Db,r=abcdefghijkl,m=ext', 'c=biws,r=abcdefghijkl,p=='], ['<null>', 'alice 0123456789abcdef0123456789abcdef'], ['='], [''], ['alice@example.test'],
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < MECH_TABLE.length; i++) {
    for (const m of msgs) out.push(Buffer.concat([Buffer.from([i, i * 37]), ...m.flatMap((s, k) => (k ? [SASL_SEP, b(s)] : [b(s)]))]));
  }
  return out;
}

const sasl: FuzzTarget = {
  name: 'sasl',
  seeds: saslSeeds,
  dictionary: ['\n~~\n', '<null>', '\0', ',', '=', '=2C', '=3D', 'n,', 'y,', 'p=tls-exporter,', 'p=tls-unique,', 'a=', 'n=', 'r=', 'c=', 'p=', 's=', 'i=', 'm=', 'e=', 'biws', 'alice', 'u', 'pw12345678', '\u00e9', '\uFFFD', '\u200b'],
  maxSize: 2048,
  hugeSize: 64 * 1024,
  weight: 2,
  async run(input) {
    users ??= { u: await deriveCredentials('pw12345678'), alice: await deriveCredentials('pw12345678') };
    const mech = MECH_TABLE[(input[0] ?? 0) % MECH_TABLE.length]!;
    const flags = input[1] ?? 0;
    const tls = (flags & 1) === 0;
    const ctx: SaslServerContext = {
      lookup: async (name) => users![name] ?? null,
      tls,
      channelBinding: tls && flags & 2 ? { type: flags & 4 ? 'tls-unique' : 'tls-exporter', data: Buffer.alloc(32, 1) } : undefined,
      scramFakeSecret: Buffer.alloc(32, 7),
      hostname: 'mail.example.org',
    };
    const messages: (Buffer | null)[] = [];
    let rest = input.subarray(2);
    for (;;) {
      const i = rest.indexOf(SASL_SEP);
      const m = i < 0 ? rest : rest.subarray(0, i);
      messages.push(m.equals(b('<null>')) ? null : m);
      if (i < 0 || messages.length >= 6) break;
      rest = rest.subarray(i + SASL_SEP.length);
    }
    const server = createSaslServer(mech, ctx);
    let over = false;
    for (const msg of messages) {
      const step = await server.step(msg);
      if (over) {
        // types.ts: after success or failure every further call is a 'malformed' failure.
        assert.ok(step.kind === 'failure' && step.reason === 'malformed', 'exchange went on after its end');
        continue;
      }
      assert.ok(step.kind === 'challenge' || step.kind === 'success' || step.kind === 'failure');
      if (step.kind === 'success') assert.equal(typeof step.authcid, 'string');
      if (step.kind === 'challenge') assert.ok(Buffer.isBuffer(step.data));
      if (step.kind !== 'challenge') over = true;
    }
  },
};

// ---- Certificate upload parsing ----

function opensslCertDer(args: string[]): Buffer | null {
  const dir = mkdtempSync(join(tmpdir(), 'postern-fuzz-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', ...args, '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.der'), '-outform', 'DER', '-days', '30', '-subj', '/CN=fuzz device/O=x'], { stdio: 'pipe' });
    return readFileSync(join(dir, 'c.der'));
  } catch {
    return null; // an openssl without this key type
  }
}

function certSeeds(): Buffer[] {
  const ders: Buffer[] = [generateClientCertificate('ed', 'ed25519').certDer, generateClientCertificate('ec', 'ecdsa-p256').certDer, generateClientCertificate('rsa', 'rsa-2048').certDer];
  for (const args of [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], ['-newkey', 'rsa:1024'], ['-newkey', 'ed448'], ['-newkey', 'dsa:1024']]) {
    const d = opensslCertDer(args);
    if (d) ders.push(d);
  }
  const out: Buffer[] = [];
  // The first byte chooses how the rest is presented (see run): DER, PEM, or PEM around mutated DER.
  for (const d of ders) {
    out.push(Buffer.concat([Buffer.from([0]), d]));
    out.push(Buffer.concat([Buffer.from([1]), b(certificatePem(d))]));
    out.push(Buffer.concat([Buffer.from([2]), d]));
  }
  out.push(Buffer.concat([Buffer.from([1]), b(certificatePem(ders[0]!) + certificatePem(ders[1]!))]));
  out.push(Buffer.concat([Buffer.from([1]), b('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n')]));
  return out;
}

const certificate: FuzzTarget = {
  name: 'certificate',
  seeds: certSeeds,
  dictionary: ['-----BEGIN CERTIFICATE-----\n', '-----END CERTIFICATE-----\n', '-----BEGIN ', '-----END ', '-----', 'PRIVATE KEY', '\x30\x82', '\x30\x80', '\x02\x01\x00', '\x06\x03\x2b\x65\x70', '\xa0\x03\x02\x01\x02', '\x84\xff\xff\xff\xff', '\x00', '\n', '='],
  maxSize: 16 * 1024,
  hugeSize: 8 * 1024 * 1024,
  weight: 3,
  run(input) {
    const mode = (input[0] ?? 0) % 3;
    const body = input.subarray(1);
    // 0: as uploaded (DER or text); 1: text as UTF-8 string; 2: the body is DER, sent as PEM.
    const arg = mode === 0 ? body : mode === 1 ? body.toString('utf8') : certificatePem(body);
    try {
      const c = parseCertificate(arg);
      assert.equal(c.fingerprint.length, 43);
      assert.ok(c.defaultName.length > 0);
    } catch (err) {
      allow(err, CertificateError);
    }
  },
};

// ---- Config loader ----

const CONFIG_SEEDS = [
  `hostname: mail.example.org
tls:
  certFile: tls/cert.pem
  keyFile: tls/key.pem
listeners:
  public:
    ips: [127.0.0.1, "::1"]
    portBase: 0
    services: [smtp, submission, submissions, imap, imaps, http, https]
    ports: { imaps: 993 }
    requestClientCertificates: true
limits:
  imap: { maxLiteralSize: 102400, maxLiteralsPerCommand: 1000, maxLiteralBytesPerCommand: 1024000, maxLineLength: 16384, appendLimit: 104857600, idleTimeoutBeforeAuthMs: 30000, idleTimeoutAfterAuthMs: 1800000 }
  smtp: { maxMessageSize: 104857600, maxRecipients: 1000, maxLineLength: 2048 }
authFailureDelayMs: 1000
dkim:
  example.org:
    - selector: ed1
      keyFile: dkim/example.org.ed1.pem
    - { selector: rsa1, keyFile: /etc/postern/rsa.pem }
transports:
  example.com: { host: smarthost.example.net, port: 587, tls: starttls, username: u, password: p }
  "*": { host: 127.0.0.1, port: 2525, tls: none, tlsInsecure: true }
`,
  `# comment\nhostname: localhost\nlisteners:\n  main:\n    ips:\n      - 127.0.0.1\n    services: [imap, smtp]\n`,
  `hostname: &h a.b\nlisteners: &l\n  x: { ips: [0.0.0.0], ports: { } }\nlimits: { imap: {}, smtp: {} }\n`,
  `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\nhostname: x\nlisteners: {}\n`,
  `%YAML 1.2\n---\nhostname: !!str 1\nlisteners: { main: { ips: [ !!binary aGVsbG8= ] } }\n...\n`,
];

let configDir: string | undefined;

const config: FuzzTarget = {
  name: 'config',
  seeds: () => CONFIG_SEEDS.map(b),
  dictionary: ['\n', ': ', '- ', '  ', '{', '}', '[', ']', ',', '"', "'", '&a ', '*a', '<<: *a', '!!binary ', '!!set', '!!map', '!!float', '!!int ', '? ', '|', '>', '#', '~', 'null', 'true', '.inf', '.nan', '1e400', '-1', '0x10', '0o7', '99999999999999999999', '__proto__', 'constructor', 'toString', '%YAML 1.1\n', '--- ', '...', '\t', '\ufeff', 'ips', 'ports', 'services', 'limits', 'imap', 'smtp', 'dkim', 'transports', '"*"', '::1', '0.0.0.0'],
  maxSize: 8192,
  hugeSize: 1024 * 1024,
  weight: 3,
  run(input) {
    if (!configDir) {
      configDir = mkdtempSync(join(tmpdir(), 'postern-fuzz-config-'));
      mkdirSync(join(configDir, 'tls'));
      writeFileSync(join(configDir, 'tls', 'cert.pem'), 'x');
      writeFileSync(join(configDir, 'tls', 'key.pem'), 'x');
    }
    writeFileSync(join(configDir, 'postern.conf'), input);
    try {
      const c = loadConfig(configDir);
      assert.ok(c.listeners.length > 0);
      // What the server builds from it must hold together.
      JSON.stringify(c);
    } catch (err) {
      allow(err, ConfigError);
    }
    // The same text through parseConfig as the tests' harness does it (YAML.parse + parseConfig);
    // loadConfig refuses texts over MAX_CONFIG_SIZE before parsing, so those are not parsed here.
    if (input.length > MAX_CONFIG_SIZE) return;
    let doc: unknown;
    try {
      doc = YAML.parse(input.toString('utf8'), { logLevel: 'error' });
    } catch {
      return; // the yaml package's own errors: loadConfig reports them as ConfigError
    }
    try {
      parseConfig(doc, configDir);
    } catch (err) {
      allow(err, ConfigError);
    }
  },
};

/** A DNS answer to our TLSA query (`postern dns check`): whatever a resolver sends back. */
const DNS_ID = 0x4242;
const dnsTlsa: FuzzTarget = {
  name: 'dns-tlsa',
  seeds: () => {
    const q = buildQuery(DNS_ID, '_25._tcp.mail.example.org');
    // The question echoed as a response with one TLSA answer (name compressed to the question).
    const head = Buffer.from(q.subarray(0, 12));
    head.writeUInt16BE(0x8180, 2);
    head.writeUInt16BE(1, 6);
    head.writeUInt16BE(0, 10);
    const answer = Buffer.concat([Buffer.from([0xc0, 12, 0, 52, 0, 1, 0, 0, 1, 44, 0, 35, 3, 1, 1]), Buffer.alloc(32, 0xab)]);
    return [Buffer.concat([head, q.subarray(12, q.length - 11), answer]), head];
  },
  dictionary: ['\xc0\x0c', '\x00\x34', '\x00\x05', '\x00\x01', '\x81\x80', '\x83\x80', '\x81\x83', '\x03\x01\x01', '\x3f', '\x00'],
  maxSize: 4096,
  hugeSize: 65535,
  weight: 1,
  run(input) {
    const buf = Buffer.from(input);
    if (buf.length >= 2) buf.writeUInt16BE(DNS_ID, 0);
    try {
      const r = parseTlsaResponse(buf, DNS_ID);
      for (const t of r.records) assert.ok(t.data.length % 2 === 0 && t.data.length <= 2 * buf.length);
    } catch (err) {
      allow(err, DnsQueryError);
    }
  },
};

export const TARGETS: FuzzTarget[] = [imap, imapUrl, smtpCommand, smtpData, mime, sasl, certificate, config, dnsTlsa];

export function targetByName(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target ${name} (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
