// METADATA and METADATA-SERVER (RFC 5464): GETMETADATA and SETMETADATA on server entries (mailbox
// "") and mailbox entries, stored per account (store.metadata). The server entry /shared/admin is
// computed (config adminContact, else the postmaster's address) and read-only. Limits: metadataLimitsFrom (proto/limits.ts).
import type { ResponseBuilder } from '../proto/response-writer.js';
import { metadataLimitsFrom } from '../proto/limits.js';
import type { CommandOf, ListMetadataReturn, MetadataDepth } from '../proto/types.js';
import type { MetadataEntry } from '../../store/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { no } from './errors.js';

/** RFC 5464 3.2.1.1: how to reach the administrator, a URI; read-only. */
export const ADMIN_ENTRY = '/shared/admin';

function adminEntry(conn: ImapConnection): MetadataEntry {
  const uri = conn.ctx.config.adminContact ?? `mailto:postmaster@${conn.ctx.config.hostname}`;
  return { name: ADMIN_ENTRY, value: Buffer.from(uri) };
}

/** Whether `entry` is `name` or below it within `depth` (RFC 5464 4.2.2). */
function covers(name: string, depth: MetadataDepth, entry: string): boolean {
  if (entry === name) return true;
  if (depth === 0 || !entry.startsWith(name + '/')) return false;
  return depth === 'infinity' || !entry.includes('/', name.length + 1);
}

/** A value: NUL octets need literal8 (RFC 5464 5: value = nstring / literal8, RFC 3516 4.3). */
export function writeValue(b: ResponseBuilder, v: Buffer | null): void {
  if (v === null) b.text('NIL');
  else if (v.includes(0)) b.literal(v, true);
  else b.string(v);
}

/** `* METADATA mailbox (entry value ...)` (RFC 5464 4.4.1); `wire` is the name as the client wrote it. */
export function metadataResponse(conn: ImapConnection, wire: string, entries: { name: string; value: Buffer | null }[]): Buffer {
  const b = conn.builder().text('* METADATA ').astring(wire).text(' (');
  entries.forEach((e, i) => {
    if (i) b.text(' ');
    // Names are printable ASCII but may hold a space or quote (quoted on input): an astring.
    b.astring(e.name).text(' ');
    writeValue(b, e.value);
  });
  return b.text(')\r\n').toBuffer();
}

/** Removes values over maxSize (RFC 5464 4.2.1); returns the largest removed size, or 0. */
export function applyMaxSize<T extends { value: Buffer | null }>(entries: T[], maxSize: number | null): { kept: T[]; longest: number } {
  if (maxSize === null) return { kept: entries, longest: 0 };
  let longest = 0;
  const kept = entries.filter((e) => {
    if (e.value === null || e.value.length <= maxSize) return true;
    longest = Math.max(longest, e.value.length);
    return false;
  });
  return { kept, longest };
}

export async function handleGetMetadata(conn: ImapConnection, cmd: CommandOf<'GETMETADATA'>): Promise<CommandResult> {
  const accountId = conn.identity!.accountId;
  const mailbox = cmd.mailbox === '' ? null : conn.storeName(cmd.mailbox);
  // The store returns each requested entry followed by those below it to the DEPTH, by name.
  const found = await conn.ctx.store.metadata.get(accountId, mailbox, cmd.entries, cmd.depth);
  const admin = mailbox === null ? adminEntry(conn) : null;
  // Each requested entry, then the ones below it; each entry once.
  const out: { name: string; value: Buffer | null }[] = [];
  const sent = new Set<string>();
  for (const n of cmd.entries) {
    const group: { name: string; value: Buffer | null }[] = found.filter((e) => e.name === n || e.name.startsWith(n + '/'));
    if (admin && covers(n, cmd.depth, admin.name)) group.push(admin);
    group.sort((a, b) => (a.name === n ? -1 : b.name === n ? 1 : a.name < b.name ? -1 : 1));
    // A requested entry without a value is NIL; with DEPTH 1 or infinity only the entries found
    // are listed (as Dovecot).
    if (group[0]?.name !== n && cmd.depth === 0) group.unshift({ name: n, value: null });
    for (const e of group) {
      if (sent.has(e.name)) continue;
      sent.add(e.name);
      out.push(e);
    }
  }
  const { kept, longest } = applyMaxSize(out, cmd.maxSize);
  if (kept.length) await conn.send(metadataResponse(conn, cmd.mailbox, kept));
  // RFC 5464 4.2.1: the size of the biggest value left out.
  return longest ? { code: `METADATA LONGENTRIES ${longest}` } : {};
}

export async function handleSetMetadata(conn: ImapConnection, cmd: CommandOf<'SETMETADATA'>): Promise<void> {
  const accountId = conn.identity!.accountId;
  const mailbox = cmd.mailbox === '' ? null : conn.storeName(cmd.mailbox);
  const limits = metadataLimitsFrom(conn.ctx.config.limits?.imap);
  for (const e of cmd.entries) {
    if (mailbox === null && e.name === ADMIN_ENTRY) throw no('NOPERM', `${ADMIN_ENTRY} is read-only`);
    // RFC 5464 4.3: the largest value we accept.
    if (e.value !== null && e.value.length > limits.maxValueSize) throw no(`METADATA MAXSIZE ${limits.maxValueSize}`, 'value too large');
  }
  const r = await conn.ctx.store.metadata.set(accountId, mailbox, cmd.entries, limits);
  if (!r.ok) throw no('METADATA TOOMANY', 'too many annotations');
}

/**
 * LIST RETURN (METADATA ...) (RFC 9590 3): after a mailbox's LIST line, a METADATA response with
 * the requested entries that have values (none: no response). Returns the largest value MAXSIZE
 * left out, or 0.
 */
export async function listMetadata(conn: ImapConnection, name: string, opts: ListMetadataReturn): Promise<number> {
  const found = await conn.ctx.store.metadata.get(conn.identity!.accountId, name, opts.entries, 0);
  const { kept, longest } = applyMaxSize(found, opts.maxSize);
  if (kept.length) await conn.send(metadataResponse(conn, conn.wireName(name), kept));
  return longest;
}
