// SEARCH and UID SEARCH (RFC 9051 6.4.4), ESEARCH (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ
// (RFC 7162 3.1.5). IMAP4rev2 clients always get ESEARCH; IMAP4rev1 clients get `* SEARCH` unless they
// asked for RETURN.
import { formatNumberSet } from '../proto/sequence-set.js';
import { quote } from '../proto/response-writer.js';
import type { Command, CommandOf, SearchKey } from '../proto/types.js';
import { enableCondstore } from './condstore.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { runSearch } from './search-run.js';
import { partialData } from './cmd-sort.js';

export function usesModseq(k: SearchKey): boolean {
  if (k.op === 'modseq') return true;
  if (k.op === 'and') return k.keys.some(usesModseq);
  if (k.op === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.op === 'not') return usesModseq(k.key);
  return false;
}

export async function handleSearch(conn: ImapConnection, cmd: CommandOf<'SEARCH'>): Promise<CommandResult | void> {
  const view = conn.view!;
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
  // RFC 4731 3.1: RETURN () means ALL.
  const opts = ret.length || cmd.partial ? new Set(ret) : new Set(['ALL']);
  if (opts.has('SAVE')) {
    // RFC 5182 2.4: with MIN/MAX, only those are saved.
    if (opts.has('MIN') || opts.has('MAX')) {
      const s: number[] = [];
      if (opts.has('MIN') && found.length) s.push(found[0]!);
      if (opts.has('MAX') && found.length) s.push(found[found.length - 1]!);
      view.saved = [...new Set(s)];
    } else view.saved = found;
    // RFC 5182 2.1: SAVE alone gives no ESEARCH response.
    if (opts.size === 1 && !cmd.partial) return result;
  }
  let line = `ESEARCH (TAG ${quote(cmd.tag)})${cmd.uid ? ' UID' : ''}`;
  if (opts.has('MIN') && nums.length) line += ` MIN ${nums[0]}`;
  if (opts.has('MAX') && nums.length) line += ` MAX ${nums[nums.length - 1]}`;
  if (opts.has('ALL') && nums.length) line += ` ALL ${formatNumberSet(nums)}`;
  if (opts.has('COUNT')) line += ` COUNT ${nums.length}`;
  if (cmd.partial) line += ` PARTIAL ${partialData(cmd.partial, nums, true)}`;
  if (withModseq && found.length) {
    // RFC 7162 3.1.5: with MIN and/or MAX alone, the mod-sequence of the message(s) returned; with
    // ALL or COUNT, the highest of every match.
    const returned = opts.has('ALL') || opts.has('COUNT') ? found : [...(opts.has('MIN') ? [found[0]!] : []), ...(opts.has('MAX') ? [found[found.length - 1]!] : [])];
    line += ` MODSEQ ${modseqOf(returned)}`;
  }
  await conn.untagged(line);
  return result;
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
