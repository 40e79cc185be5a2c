// URLAUTH (RFC 4467): GENURLAUTH, RESETKEY and URLFETCH (with URLAUTH=BINARY, RFC 5524). The checks
// live in imap/urlauth/ (shared with BURL in submission); this file turns their outcomes into IMAP
// responses. URLs carry bearer tokens: they are never logged.
import type { ResponseBuilder } from '../proto/response-writer.js';
import type { CommandOf, UrlFetchArg } from '../proto/types.js';
import { fetchAuthorized, generateUrlauth, readPart, type FetchOutcome } from '../urlauth/authorize.js';
import { INTERNAL_MECHANISM } from '../urlauth/token.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';
import { partDetail } from './urlfetch-extended.js';

/** RFC 4467 7, GENURLAUTH: `* GENURLAUTH url...`, all URLs or none (any failed check is BAD). */
export async function handleGenUrlauth(conn: ImapConnection, cmd: CommandOf<'GENURLAUTH'>): Promise<void> {
  const accountId = conn.identity!.accountId;
  const now = new Date();
  const made: string[] = [];
  for (const u of cmd.urls) {
    const r = await generateUrlauth(conn.ctx.store, accountId, u.url, u.mechanism, now);
    if (!r.ok) throw bad(r.why);
    made.push(r.url);
  }
  const b = conn.builder().text('* GENURLAUTH');
  for (const u of made) b.text(' ').string(u);
  await conn.send(b.text('\r\n').toBuffer());
}

/**
 * RFC 4467 7, RESETKEY: without arguments every key of the user is removed; with a mailbox its key
 * is replaced (INTERNAL, the only mechanism, by default), and the tagged OK lists the mailbox's
 * mechanisms in URLMECH (8).
 */
export async function handleResetKey(conn: ImapConnection, cmd: CommandOf<'RESETKEY'>): Promise<CommandResult> {
  const accountId = conn.identity!.accountId;
  const keys = conn.ctx.store.urlauthKeys;
  if (cmd.mailbox === null) {
    await keys.resetAll(accountId);
    return { text: 'all keys removed' };
  }
  const unknown = cmd.mechanisms.find((m) => m !== INTERNAL_MECHANISM);
  // As Dovecot: NO for a mechanism the server does not have (the syntax was fine).
  if (unknown) throw no(null, `unsupported URLAUTH mechanism ${unknown}`);
  const mailbox = await conn.ctx.store.getMailbox(accountId, conn.storeName(cmd.mailbox));
  if (!mailbox) throw no('NONEXISTENT', 'no such mailbox');
  await keys.resetKey(accountId, mailbox.id, INTERNAL_MECHANISM);
  return { code: `URLMECH ${INTERNAL_MECHANISM}`, text: 'key reset' };
}

/**
 * RFC 4467 7, URLFETCH: one `* URLFETCH url data` per URL, in order; NIL for a URL that fails,
 * whatever the reason, and for content that an IMAP string cannot carry (NUL octets: RFC 9051
 * 4.3). The parenthesized form (RFC 5524): `(BODYPARTSTRUCTURE (...) BODY {n}|BINARY ~{n})`.
 */
export async function handleUrlFetch(conn: ImapConnection, cmd: CommandOf<'URLFETCH'>): Promise<void> {
  const who = { accountId: conn.identity!.accountId, submit: false };
  const now = new Date();
  for (const u of cmd.urls) {
    const r = await fetchAuthorized(conn.ctx.store, who, u.url, now);
    const b = conn.builder().text('* URLFETCH ').string(u.url).text(' ');
    if (u.modifiers === null) {
      const data = r.ok ? await readPart(r.part) : null;
      if (data && !data.includes(0)) b.literal(data);
      else b.text('NIL');
    } else await extendedData(conn, b, r, u.modifiers);
    await conn.send(b.text('\r\n').toBuffer());
  }
}

/** RFC 5524: the parenthesized URLFETCH data, or NIL when any part of it cannot be given. */
async function extendedData(conn: ImapConnection, b: ResponseBuilder, r: FetchOutcome, mods: NonNullable<UrlFetchArg['modifiers']>): Promise<void> {
  // As Dovecot: "(url)" alone asks for BODY.
  const body = mods.body || (!mods.binary && !mods.bodyPartStructure);
  const detail = r.ok && (mods.binary || mods.bodyPartStructure) ? await partDetail(conn.ctx.store, r.part.mailboxId, r.url) : null;
  // A section that is no body part has nothing to decode: its BINARY is its bytes.
  const rawBinary = mods.binary && detail !== null && !detail.bodyPart;
  const raw = r.ok && (body || rawBinary) ? await readPart(r.part) : null;
  const binary = rawBinary ? raw : (detail?.binary ?? null);
  const failed =
    !r.ok || ((mods.binary || mods.bodyPartStructure) && !detail) || (body && (!raw || raw.includes(0))) ||
    (mods.binary && !binary) || (mods.bodyPartStructure && !detail?.structure);
  if (failed) {
    b.text('NIL');
    return;
  }
  const items: (() => void)[] = [];
  if (mods.bodyPartStructure) items.push(() => b.text('BODYPARTSTRUCTURE ').value(detail!.structure));
  if (body) items.push(() => b.text('BODY ').literal(raw!));
  // RFC 5524 / RFC 3516: literal8 when the decoded content holds NUL.
  if (mods.binary) items.push(() => b.text('BINARY ').literal(binary!, binary!.includes(0)));
  b.text('(');
  items.forEach((item, i) => {
    if (i) b.text(' ');
    item();
  });
  b.text(')');
}
