// URLAUTH (RFC 4467): GENURLAUTH, RESETKEY and URLFETCH. The checks live in imap/urlauth/ (shared
// with BURL in submission); this file turns their outcomes into IMAP responses. URLs carry bearer
// tokens: they are never logged.
import type { CommandOf } from '../proto/types.js';
import { fetchAuthorized, generateUrlauth, readPart } from '../urlauth/authorize.js';
import { INTERNAL_MECHANISM } from '../urlauth/token.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';

/** RFC 4467 6.2: `* GENURLAUTH url...`, all URLs or none (any failed check is BAD). */
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
 * RFC 4467 6.1: without arguments every key of the user is removed; with a mailbox its key is
 * replaced (INTERNAL, the only mechanism, by default), and the tagged OK lists the mailbox's
 * mechanisms in URLMECH (6.4).
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
 * RFC 4467 6.3: one `* URLFETCH url data` per URL, in order; NIL for a URL that fails, whatever
 * the reason, and for content that an IMAP string cannot carry (NUL octets: RFC 9051 4.3).
 */
export async function handleUrlFetch(conn: ImapConnection, cmd: CommandOf<'URLFETCH'>): Promise<void> {
  // RFC 5524 (URLAUTH=BINARY) is not offered: its parenthesized form is not valid syntax here.
  if (cmd.urls.some((u) => u.modifiers !== null)) throw bad('URLFETCH parameters (URLAUTH=BINARY) are not supported');
  const who = { accountId: conn.identity!.accountId, submit: false };
  const now = new Date();
  for (const u of cmd.urls) {
    const r = await fetchAuthorized(conn.ctx.store, who, u.url, now);
    const data = r.ok ? await readPart(r.part) : null;
    const b = conn.builder().text('* URLFETCH ').string(u.url).text(' ');
    if (data && !data.includes(0)) b.literal(data);
    else b.text('NIL');
    await conn.send(b.text('\r\n').toBuffer());
  }
}
