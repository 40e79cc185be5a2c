// SEARCH and UID SEARCH (RFC 9051 6.4.4), ESEARCH (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ
// (RFC 7162 3.1.5). IMAP4rev2 clients always get ESEARCH; IMAP4rev1 clients get `* SEARCH` unless they
// asked for RETURN.
import { formatNumberList, formatNumberSet } from '../proto/sequence-set.js';
import { quote } from '../proto/response-writer.js';
import type { CommandOf, FetchAtt, MailboxFilter, SearchKey, SortCriterion } from '../proto/types.js';
import { enableCondstore } from './condstore.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { runSearch } from './search-run.js';
import { MailboxView } from './mailbox-view.js';
import { bad, no } from './errors.js';
import { DEFAULT_MAX_SEARCH_MAILBOXES } from '../proto/limits.js';
import type { Mailbox } from '../../store/types.js';
import { partialData } from './cmd-sort.js';
import { contextsOf, existingContexts, updateFetchAtts } from './search-context.js';

export function usesModseq(k: SearchKey): boolean {
  if (k.op === 'modseq') return true;
  if (k.op === 'and') return k.keys.some(usesModseq);
  if (k.op === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.op === 'not') return usesModseq(k.key);
  return false;
}

/** The RETURN options that shape the ESEARCH answer (RFC 4731 3.1: RETURN () means ALL); UPDATE and CONTEXT do not (RFC 5267 4.1). */
export function answerOptions(ret: readonly string[], partial: unknown): Set<string> {
  if (!ret.length && !partial) return new Set(['ALL']);
  return new Set(ret.filter((o) => o !== 'UPDATE' && o !== 'CONTEXT'));
}

/** RFC 5267 4.3: UPDATE with the tag of a search still kept current is BAD. */
export function checkUpdateTag(conn: ImapConnection, tag: string, ret: readonly string[] | null | undefined): boolean {
  if (!ret?.includes('UPDATE')) return false;
  if (existingContexts(conn.view)?.has(tag)) throw bad(`tag ${tag} names a search kept current; use a new tag`);
  return true;
}

/** Keeps the answered result current (RFC 5267 4.3), or says why not: `* NO [NOUPDATE "tag"]` (4.3.1). */
export async function keepCurrent(conn: ImapConnection, cmd: { tag: string; uid: boolean; key: SearchKey }, criteria: SortCriterion[] | null, result: number[], fetchAtts: FetchAtt[] | null): Promise<void> {
  const refused = contextsOf(conn.view!, conn.ctx.store).add(cmd.tag, cmd.uid, cmd.key, criteria, result, fetchAtts);
  if (refused) await conn.untagged(`NO [NOUPDATE ${quote(cmd.tag)}] ${refused}`);
}

export async function handleSearch(conn: ImapConnection, cmd: CommandOf<'SEARCH'>): Promise<CommandResult | void> {
  const view = conn.view!;
  const update = checkUpdateTag(conn, cmd.tag, cmd.returnOpts);
  const updateAtts = updateFetchAtts(conn.hiddenCapabilities, cmd.updateAtts);
  const withModseq = usesModseq(cmd.key);
  if (withModseq) await enableCondstore(conn);
  const { found, gone } = await runSearch(conn.ctx.store, view, cmd.key); // UIDs in ascending order
  // RFC 5530 4: EXPUNGEISSUED tells the client to NOOP soon to learn of the expunge.
  const result: CommandResult | void = gone ? { code: 'EXPUNGEISSUED', text: 'SEARCH completed; some messages were expunged by another session' } : undefined;
  // found ascends, as view.uids do: sequence numbers in one walk, not a search per match.
  const nums = cmd.uid ? found : view.msnsOf(found);
  const modseqOf = (list: number[]): number => {
    let highest = 0;
    for (const u of list) highest = Math.max(highest, view.messages.get(u)?.modseq ?? 0);
    return highest;
  };

  const ret = cmd.returnOpts ?? (conn.rev2 ? [] : null);
  if (ret === null) {
    await sendSearchLine(conn, nums, withModseq && found.length ? ` (MODSEQ ${modseqOf(found)})` : '');
    return result;
  }
  const opts = answerOptions(ret, cmd.partial);
  if (opts.has('SAVE')) saveResult(view, opts, found);
  // RFC 5182 2.1: SAVE alone gives no ESEARCH response.
  if (!(opts.has('SAVE') && opts.size === 1 && !cmd.partial)) {
    await conn.untagged(`ESEARCH (TAG ${quote(cmd.tag)})${cmd.uid ? ' UID' : ''}` + resultItems(opts, cmd.partial, found, nums, true, withModseq ? modseqOf : null));
  }
  if (update) await keepCurrent(conn, cmd, null, found, updateAtts);
  return result;
}

/**
 * The ESEARCH result items after the correlator (RFC 4731 3.1, ESORT RFC 5267 3.1, PARTIAL 4.4):
 * `uids` the matching UIDs and `nums` what is reported (UIDs or sequence numbers), both in the
 * requested order: ascending for SEARCH, sort order for SORT (then MIN and MAX are the first and
 * last in that order, and ALL keeps it).
 */
export function resultItems(opts: Set<string>, partial: { first: number; last: number } | null, uids: number[], nums: number[], ascending: boolean, modseqOf: ((uids: number[]) => number) | null): string {
  let line = '';
  if (opts.has('MIN') && nums.length) line += ` MIN ${nums[0]}`;
  if (opts.has('MAX') && nums.length) line += ` MAX ${nums[nums.length - 1]}`;
  if (opts.has('ALL') && nums.length) line += ` ALL ${ascending ? formatNumberSet(nums) : formatNumberList(nums)}`;
  if (opts.has('COUNT')) line += ` COUNT ${nums.length}`;
  if (partial) line += ` PARTIAL ${partialData(partial, nums, ascending)}`;
  if (modseqOf && uids.length) {
    // RFC 7162 3.1.5: the highest mod-sequence of the messages returned: every match with ALL or
    // COUNT, else those MIN, MAX and PARTIAL return.
    let returned = uids;
    if (!opts.has('ALL') && !opts.has('COUNT')) {
      returned = partial ? uids.slice(partial.first - 1, partial.last) : [];
      if (opts.has('MIN')) returned.push(uids[0]!);
      if (opts.has('MAX')) returned.push(uids[uids.length - 1]!);
    }
    if (returned.length) line += ` MODSEQ ${modseqOf(returned)}`;
  }
  return line;
}

/** RETURN (SAVE): the result kept for `$` (RFC 5182 2.4: with MIN/MAX, only those are saved). */
function saveResult(view: MailboxView, opts: Set<string>, found: number[]): void {
  if (opts.has('MIN') || opts.has('MAX')) {
    const s: number[] = [];
    if (opts.has('MIN') && found.length) s.push(found[0]!);
    if (opts.has('MAX') && found.length) s.push(found[found.length - 1]!);
    view.saved = [...new Set(s)];
  } else view.saved = found;
}

/** The highest mod-sequence of `uids` in the view. */
function highestModseq(view: MailboxView, uids: number[]): number {
  let highest = 0;
  for (const u of uids) highest = Math.max(highest, view.messages.get(u)?.modseq ?? 0);
  return highest;
}

/**
 * MULTISEARCH (RFC 7377): ESEARCH [IN (sources)] over the selected mailbox or others, without
 * changing the selection. One `* ESEARCH (TAG MAILBOX UIDVALIDITY) UID ...` per mailbox with a match,
 * none for a mailbox without (2.1); UIDs, never sequence numbers. Mailboxes are searched one at a
 * time, each through a read-only view, so memory stays that of one mailbox.
 */
export async function handleEsearch(conn: ImapConnection, cmd: CommandOf<'ESEARCH'>): Promise<CommandResult | void> {
  const store = conn.ctx.store;
  const sources = cmd.sources ?? [{ kind: 'selected' as const }];
  const onlySelected = sources.every((s) => s.kind === 'selected');
  // RFC 7377 2.2: "selected" (also by default) needs the selected state; SAVE only with it alone.
  if (sources.some((s) => s.kind === 'selected') && !conn.view) throw bad('ESEARCH of the selected mailbox needs a mailbox selected');
  const ret = cmd.returnOpts ?? [];
  // Results kept current belong to the selected mailbox's SEARCH and SORT (RFC 5267 4.3).
  if (ret.includes('UPDATE')) throw bad('RETURN (UPDATE) is for SEARCH and SORT of the selected mailbox, not ESEARCH');
  if (ret.includes('SAVE') && !onlySelected) throw bad('RETURN (SAVE) only when searching the selected mailbox alone');
  const mailboxes = await resolveSources(conn, sources);
  const limit = conn.ctx.config.limits?.imap?.maxSearchMailboxes ?? DEFAULT_MAX_SEARCH_MAILBOXES;
  // RFC 7377 2.4: refused up front.
  if (mailboxes.length > limit) throw no('LIMIT', `ESEARCH of more than ${limit} mailboxes at once`);
  const withModseq = usesModseq(cmd.key);
  if (withModseq) await enableCondstore(conn);
  // RFC 4731 3.1: RETURN () means ALL; RFC 7377 2.1: no RETURN means ALL too.
  const opts = answerOptions(ret, cmd.partial);
  let gone = false;
  for (const mb of mailboxes) {
    if (conn.closed) return;
    const selected = conn.view && conn.view.mailbox.id === mb.id ? conn.view : null;
    const view = selected ?? (await MailboxView.load(store, mb, true));
    const r = await runSearch(store, view, cmd.key);
    if (selected) gone ||= r.gone;
    if (opts.has('SAVE') && selected) {
      saveResult(selected, opts, r.found);
      // RFC 5182 2.1: SAVE alone gives no ESEARCH response.
      if (opts.size === 1 && !cmd.partial) continue;
    }
    if (!r.found.length) continue;
    const b = conn.builder().text('* ESEARCH (TAG ').text(quote(cmd.tag)).text(' MAILBOX ').astring(conn.wireName(mb.name));
    b.text(` UIDVALIDITY ${mb.uidValidity}) UID`).text(resultItems(opts, cmd.partial, r.found, r.found, true, withModseq ? (u) => highestModseq(view, u) : null)).text('\r\n');
    await conn.send(b.toBuffer());
  }
  return gone ? { code: 'EXPUNGEISSUED', text: 'ESEARCH completed; some messages were expunged by another session' } : undefined;
}

/** The account's mailboxes the sources name, each once, in the order they are named. */
async function resolveSources(conn: ImapConnection, sources: MailboxFilter[]): Promise<Mailbox[]> {
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  const all = await store.listMailboxes(account);
  const byName = new Map(all.map((m) => [m.name, m]));
  const out = new Map<number, Mailbox>();
  const add = (m: Mailbox | undefined): void => {
    if (m && !out.has(m.id)) out.set(m.id, m);
  };
  const sorted = [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const s of sources) {
    switch (s.kind) {
      case 'selected':
        add(conn.view!.mailbox);
        break;
      case 'inboxes':
        // RFC 5465 6: the mailboxes new mail is delivered to; here that is INBOX.
        add(byName.get('INBOX'));
        break;
      case 'personal':
        for (const m of sorted) add(m);
        break;
      case 'subscribed':
        for (const name of (await store.listSubscriptions(account)).sort()) add(byName.get(name));
        break;
      case 'mailboxes':
        for (const w of s.mailboxes) add(byName.get(canonical(conn.storeName(w))));
        break;
      case 'subtree':
      case 'subtree-one':
        for (const w of s.mailboxes) {
          // Names, not links: the hierarchy cannot loop (RFC 7377 2.2 asks servers to guard against it).
          const root = canonical(conn.storeName(w));
          add(byName.get(root));
          const prefix = root + '/';
          for (const m of sorted) {
            if (!m.name.startsWith(prefix)) continue;
            if (s.kind === 'subtree-one' && m.name.indexOf('/', prefix.length) >= 0) continue;
            add(m);
          }
        }
        break;
    }
  }
  return [...out.values()];
}

/** INBOX is case-insensitive (RFC 9051 5.1). */
function canonical(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** Numbers per piece of a long `* SEARCH` line; the event loop gets a turn between pieces. */
const SEARCH_PIECE = 20_000;

/**
 * `* SEARCH n n ...` (RFC 3501 7.2.5): a SEARCH ALL of a million messages is a 7 MB line, built
 * and written in pieces so that other sessions are served meanwhile.
 */
async function sendSearchLine(conn: ImapConnection, nums: number[], tail: string): Promise<void> {
  if (nums.length <= SEARCH_PIECE) return conn.untagged(`SEARCH${nums.map((n) => ' ' + n).join('')}${tail}`);
  await conn.send('* SEARCH');
  for (let i = 0; i < nums.length; i += SEARCH_PIECE) {
    let piece = '';
    for (let j = i; j < Math.min(nums.length, i + SEARCH_PIECE); j++) piece += ' ' + nums[j];
    await conn.send(piece);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await conn.send(`${tail}\r\n`);
}
