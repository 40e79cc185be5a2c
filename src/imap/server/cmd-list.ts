// LIST (RFC 9051 6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819),
// LSUB (RFC 3501 6.3.9), NAMESPACE (RFC 2342, RFC 9051 6.3.10).
import type { Mailbox } from '../../store/types.js';
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { DELIMITER, patternFromWire } from './mailbox-names.js';
import { statusValues } from './cmd-status.js';
import { listMetadata } from './cmd-metadata.js';
import type { CommandResult } from './dispatch.js';

/** A LIST pattern as a RegExp: "*" matches anything, "%" anything but the delimiter (RFC 9051 6.3.9). */
export function patternRegExp(pattern: string): RegExp {
  let p = pattern;
  // INBOX is case-insensitive; so is its appearance at the start of a pattern.
  if (/^inbox(?=$|[/*%])/i.test(p)) p = 'INBOX' + p.slice(5);
  const re = p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/%/g, '[^/]*');
  return new RegExp(`^${re}$`, 's');
}

function sortNames(names: string[]): string[] {
  return names.sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

export async function handleList(conn: ImapConnection, cmd: CommandOf<'LIST'>): Promise<CommandResult | void> {
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  if (cmd.patterns.length === 1 && cmd.patterns[0] === '' && !cmd.selection.subscribed) {
    // RFC 9051 6.3.9: an empty pattern asks for the delimiter and root.
    await conn.untagged(`LIST (\\Noselect) "${DELIMITER}" ""`);
    return;
  }
  // A reference or pattern that is not modified UTF-7 names no mailbox: it matches nothing (as Dovecot).
  const ref = patternFromWire(cmd.reference || '', conn.utf8);
  if (ref === null) return;
  const regexps: RegExp[] = [];
  for (const p of cmd.patterns) {
    const name = patternFromWire(p, conn.utf8);
    if (name !== null) regexps.push(patternRegExp(cmd.reference ? ref + name : name));
  }
  if (!regexps.length) return;
  const matches = (n: string): boolean => regexps.some((r) => r.test(n));

  const mailboxes = await store.listMailboxes(account);
  const byName = new Map<string, Mailbox>(mailboxes.map((m) => [m.name, m]));
  const subs = new Set(await store.listSubscriptions(account));
  const all = new Set<string>(byName.keys());
  // Implied parents of deeper names, and of subscriptions when listing those.
  const withParents = (names: Iterable<string>): void => {
    for (const n of [...names]) {
      const lv = n.split(DELIMITER);
      for (let i = 1; i < lv.length; i++) all.add(lv.slice(0, i).join(DELIMITER));
    }
  };
  withParents(byName.keys());
  if (cmd.selection.subscribed) {
    for (const s of subs) all.add(s);
    withParents(subs);
  }
  const hasChildren = (n: string): boolean => {
    const prefix = n + DELIMITER;
    for (const m of byName.keys()) if (m.startsWith(prefix)) return true;
    return false;
  };
  const extended = cmd.extended || conn.rev2;
  const showSubscribed = cmd.selection.subscribed || cmd.returnOpts.subscribed;
  let longest = 0;

  for (const name of sortNames([...all])) {
    if (!matches(name)) {
      continue;
    }
    const mb = byName.get(name);
    const attrs: string[] = [];
    let childInfo = false;
    if (cmd.selection.subscribed && !subs.has(name)) {
      // RFC 5258 3.5: with RECURSIVEMATCH, a parent of subscribed names is listed with CHILDINFO,
      // for a subscribed descendant this LIST does not return itself (the pattern hides it, as
      // "%" does); one the pattern matches is listed on its own, and its parents are not (as Dovecot).
      if (!cmd.selection.recursiveMatch) continue;
      const prefix = name + DELIMITER;
      if (![...subs].some((s) => s.startsWith(prefix) && !matches(s))) continue;
      childInfo = true;
    }
    if (cmd.selection.specialUse && !mb?.specialUse) continue;
    if (!mb) {
      attrs.push(extended ? '\\NonExistent' : '\\Noselect');
    }
    if (mb || !cmd.selection.subscribed || hasChildren(name)) attrs.push(hasChildren(name) ? '\\HasChildren' : '\\HasNoChildren');
    if (showSubscribed && subs.has(name)) attrs.push('\\Subscribed');
    if (mb?.specialUse) attrs.push(mb.specialUse);
    const b = conn.builder().text(`* LIST (${attrs.join(' ')}) "${DELIMITER}" `).astring(conn.wireName(name));
    if (childInfo) b.text(' ("CHILDINFO" ("SUBSCRIBED"))');
    await conn.send(b.text('\r\n').toBuffer());
    if (cmd.returnOpts.status && mb) {
      const vals = await statusValues(conn, mb, cmd.returnOpts.status);
      await conn.send(conn.builder().text('* STATUS ').astring(conn.wireName(name)).text(` ${vals}\r\n`).toBuffer());
    }
    if (cmd.returnOpts.metadata && mb) longest = Math.max(longest, await listMetadata(conn, mb.name, cmd.returnOpts.metadata));
  }
  // RFC 9590 3 / RFC 5464 4.2.1: the biggest value MAXSIZE left out.
  if (longest) return { code: `METADATA LONGENTRIES ${longest}` };
}

export async function handleLsub(conn: ImapConnection, cmd: CommandOf<'LSUB'>): Promise<void> {
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  const pattern = patternFromWire(cmd.reference + cmd.pattern, conn.utf8);
  if (pattern === null) return;
  const re = patternRegExp(pattern);
  const existing = new Set((await store.listMailboxes(account)).map((m) => m.name));
  const subs = new Set(await store.listSubscriptions(account));
  // RFC 3501 6.3.9: when "%" hides a subscribed name, its parent that the pattern matches is
  // listed with \Noselect (unless it is subscribed itself).
  const parents = new Set<string>();
  for (const s of subs) {
    if (re.test(s)) continue;
    const levels = s.split(DELIMITER);
    for (let i = levels.length - 1; i > 0; i--) {
      const parent = levels.slice(0, i).join(DELIMITER);
      if (!subs.has(parent) && re.test(parent)) parents.add(parent);
    }
  }
  const names = [...subs].filter((s) => re.test(s)).concat([...parents]);
  for (const name of sortNames(names)) {
    const attrs = existing.has(name) && !parents.has(name) ? '' : '\\Noselect';
    await conn.send(conn.builder().text(`* LSUB (${attrs}) "${DELIMITER}" `).astring(conn.wireName(name)).text('\r\n').toBuffer());
  }
}

export async function handleNamespace(conn: ImapConnection): Promise<void> {
  await conn.untagged(`NAMESPACE (("" "${DELIMITER}")) NIL NIL`);
}
