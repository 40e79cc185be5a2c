// URLAUTH (RFC 4467): making authorized URLs (GENURLAUTH) and checking and resolving them
// (URLFETCH, and BURL in submission, RFC 4468), one code path for both protocols. The submission
// server runs in this process, so a `submit+user` URL is checked here with the same code as an
// IMAP URLFETCH, the requester marked as the submission server acting for its user.
//
// A failed check says nothing: URLFETCH answers NIL and BURL one reply whatever the reason (RFC
// 4467 7, URLFETCH), and a missing user, mailbox or key still costs one HMAC (token.ts), so the
// time does not tell either. The message is read only after the token checked out. Tokens and keys are
// never logged.

import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/types.js';
import { canonicalName } from '../server/mailbox-names.js';
import { isImapUrlError, parseImapUrl, rumpUrl, type ImapUrl } from '../url/imap-url.js';
import { resolveImapUrl, type ResolvedUrl, type UrlSourceCache } from '../url/resolve-url.js';
import { INTERNAL_MECHANISM, INTERNAL_MECHANISM_WIRE, internalToken, internalTokenMatches } from './token.js';

/** Who asks for a URL's content: an IMAP session's user, or the submission server for its user. */
export interface UrlRequester {
  accountId: number;
  /** The in-process submission server acting for the user (BURL): `submit+` URLs are for it. */
  submit: boolean;
}

/** The mailbox a URL names, found as resolve-url.ts finds it. */
function mailboxOf(store: Store, accountId: number, url: ImapUrl) {
  return store.getMailbox(accountId, canonicalName(url.mailbox.normalize('NFC')));
}

export type GenerateOutcome = { ok: true; url: string } | { ok: false; why: string };

/**
 * GENURLAUTH of one rump URL (RFC 4467 7, GENURLAUTH): the URL must name the logged-in user as its
 * owner, an access identifier, and a message (and section) that exists; the answer is the URL with
 * its verifier, the mailbox key made on first use. Any failed check is a `why` for a tagged BAD (as
 * section 7 says). The userid of a `submit+`/`user+` access is not looked up: a URL for a user that
 * does not exist is made and never works, so GENURLAUTH does not tell which users exist (section 7
 * allows this).
 */
export async function generateUrlauth(store: Store, accountId: number, rump: string, mechanism: string, now: Date): Promise<GenerateOutcome> {
  if (mechanism !== INTERNAL_MECHANISM) return { ok: false, why: `unsupported URLAUTH mechanism ${mechanism}` };
  const url = parseImapUrl(rump);
  if (isImapUrlError(url)) return { ok: false, why: `invalid URL: ${url.reason}` };
  if (url.host === undefined) return { ok: false, why: 'the URL must be absolute (imap://user@host/...)' };
  if (url.urlauth) return { ok: false, why: 'the URL already has a verifier: give the rump URL' };
  if (url.access === undefined) return { ok: false, why: 'missing access identifier in the URL (;URLAUTH=)' };
  if (url.user === undefined) return { ok: false, why: 'missing owner user name in the URL' };
  if (url.expire && url.expire.getTime() <= now.getTime()) return { ok: false, why: 'the URL has expired already' };
  const owner = await store.lookupAddress(url.user);
  if (!owner || owner.accountId !== accountId) return { ok: false, why: 'the URL owner is not the logged-in user' };
  // RFC 4467 7, GENURLAUTH (1) and (4): the mailbox, the message and the section, so that no dead
  // URL is made.
  const part = await resolveImapUrl(store, accountId, url);
  if (isImapUrlError(part)) return { ok: false, why: `invalid URL: ${part.reason}` };
  const key = await store.urlauthKeys.key(accountId, part.mailboxId, INTERNAL_MECHANISM, true);
  return { ok: true, url: `${rump}:${INTERNAL_MECHANISM_WIRE}:${internalToken(key!, rump)}` };
}

export type FetchOutcome = { ok: true; part: ResolvedUrl; url: ImapUrl } | { ok: false; why: 'unauthorized' | 'unresolved' };

const DENIED: FetchOutcome = { ok: false, why: 'unauthorized' };

/** Whether the access identifier (RFC 4467 3) lets `who` fetch. */
async function accessAllows(store: Store, access: string, who: UrlRequester): Promise<boolean> {
  // Every requester here is an authenticated user (there are no anonymous logins).
  if (access === 'authuser' || access === 'anonymous') return true;
  const plus = access.indexOf('+');
  const kind = access.slice(0, plus);
  if (kind === 'submit' && !who.submit) return false;
  const named = await store.lookupAddress(access.slice(plus + 1));
  return named !== null && named.accountId === who.accountId;
}

/**
 * URLFETCH of one URL (RFC 4467 7, URLFETCH), and BURL's URLAUTH URLs: the verifier must be
 * INTERNAL and match the mailbox key of the URL's owner, the access identifier must admit the
 * requester, the URL must not have expired and its UIDVALIDITY (if any) must be the mailbox's.
 * Then the part. 'unauthorized' for every failed check, 'unresolved' when an authorized URL names a
 * message or part that is gone.
 */
export async function fetchAuthorized(store: Store, who: UrlRequester, text: string, now: Date, sources?: UrlSourceCache): Promise<FetchOutcome> {
  const url = parseImapUrl(text);
  const rump = rumpUrl(text);
  if (isImapUrlError(url) || rump === null || !url.urlauth || url.access === undefined || url.user === undefined || url.host === undefined) {
    // Still one HMAC, so that a malformed URL is not answered faster than a wrong token.
    internalTokenMatches(null, text, '');
    return DENIED;
  }
  const owner = await store.lookupAddress(url.user);
  const mailbox = owner ? await mailboxOf(store, owner.accountId, url) : null;
  const key = owner && mailbox ? await store.urlauthKeys.key(owner.accountId, mailbox.id, INTERNAL_MECHANISM, false) : null;
  const tokenOk = internalTokenMatches(key, rump, url.urlauth.token);
  if (!tokenOk || url.urlauth.mechanism !== INTERNAL_MECHANISM || !owner || !mailbox) return DENIED;
  if (url.expire && url.expire.getTime() <= now.getTime()) return DENIED;
  if (url.uidValidity !== undefined && url.uidValidity !== mailbox.uidValidity) return DENIED;
  if (!(await accessAllows(store, url.access, who))) return DENIED;
  return resolve(store, owner.accountId, url, sources);
}

/**
 * BURL of an IMAP URL without URLAUTH (RFC 4468 3 leaves such URLs to the submit server's trust
 * relationship): only the submitting user's own messages, which an IMAP session of theirs reads.
 */
export async function fetchOwn(store: Store, accountId: number, url: ImapUrl): Promise<FetchOutcome> {
  if (url.user !== undefined) {
    const owner = await store.lookupAddress(url.user);
    if (!owner || owner.accountId !== accountId) return DENIED;
  }
  return resolve(store, accountId, url);
}

async function resolve(store: Store, accountId: number, url: ImapUrl, sources?: UrlSourceCache): Promise<FetchOutcome> {
  const part = await resolveImapUrl(store, accountId, url, sources);
  return isImapUrlError(part) ? { ok: false, why: 'unresolved' } : { ok: true, part, url };
}

/** A resolved part's bytes; null when the message went away meanwhile (expunged). */
export async function readPart(part: ResolvedUrl): Promise<Buffer | null> {
  const pieces: Buffer[] = [];
  try {
    for await (const c of part.chunks()) pieces.push(c);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'contentmissing') return null;
    throw err;
  }
  return Buffer.concat(pieces);
}
