// Crash consistency (spec 10): `postern serve` as a child under mixed IMAP and SMTP load from our
// clients, SIGKILLed at a random moment, restarted, and checked:
// - every acknowledged message is there exactly once (by Message-ID, across INBOX and Archive),
//   where the last acknowledged operation put it; an operation in flight at the kill may have
//   happened or not, never half (a MOVE leaves one copy, not zero or two);
// - acknowledged flags survived; UIDs of settled messages did not change;
// - UIDVALIDITY stays, UIDNEXT and HIGHESTMODSEQ never go back;
// - the content of every message is complete (its body is a function of its Message-ID);
// - files under DIR/msg are exactly the files the database references, each of its recorded size;
// - SQLite `PRAGMA integrity_check` is ok.
// Used by crash-consistency.test.ts (short) and fuzz/crash.ts (long).

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImapClient, sectionKey } from '../../src/imap/client/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ARCHIVE, bodyFor, Model, startLoad } from './mail-load.js';
import { ADDRESS, PASSWORD, quickstartDir, startServe, type ServeChild } from './serve-child.js';

export interface CrashOptions {
  rounds: number;
  /** Load time before the kill, ms: uniform in [min, max). */
  minLoadMs?: number;
  maxLoadMs?: number;
  log?: (line: string) => void;
  /** Existing data directory (default: a new quickstart one). */
  dir?: string;
}

export interface CrashReport {
  dir: string;
  rounds: number;
  acknowledged: number;
  messages: number;
  /** Problems found; empty when every check held. */
  problems: string[];
  /** Per round: operations acknowledged, messages checked, orphan files removed by recovery. */
  perRound: { round: number; loadMs: number; ops: number; messages: number }[];
}

const MAILBOXES = ['INBOX', ARCHIVE] as const;
const HEADER_KEY = sectionKey('HEADER.FIELDS (MESSAGE-ID)');

interface MailboxMark {
  uidValidity: number;
  uidNext: number;
  highestModseq: bigint;
}

function messageIdOf(header: Buffer | null | undefined): string | null {
  const m = /^Message-ID:\s*<([^>]+)>/im.exec(header?.toString('latin1') ?? '');
  return m ? m[1]! : null;
}

/** Checks the server's state against the model after a restart, then settles the model on it. */
async function verify(server: ServeChild, dir: string, model: Model, marks: Map<string, MailboxMark>, problems: string[], round: number): Promise<number> {
  const p = (s: string): void => void problems.push(`round ${round}: ${s}`);
  const c = await ImapClient.connect({ host: '127.0.0.1', port: server.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
  const seen = new Map<string, { mailbox: string; uid: number; flags: string[]; modseq: bigint }[]>();
  try {
    for (const name of MAILBOXES) {
      let box;
      try {
        box = await c.select(name, { condstore: true });
      } catch {
        continue; // Archive is created by the first load session
      }
      const mark: MailboxMark = { uidValidity: box.uidValidity ?? 0, uidNext: box.uidNext ?? 0, highestModseq: box.highestModseq ?? 0n };
      const prev = marks.get(name);
      if (prev) {
        if (mark.uidValidity !== prev.uidValidity) p(`${name} UIDVALIDITY changed ${prev.uidValidity} -> ${mark.uidValidity}`);
        if (mark.uidNext < prev.uidNext) p(`${name} UIDNEXT went back ${prev.uidNext} -> ${mark.uidNext}`);
        if (mark.highestModseq < prev.highestModseq) p(`${name} HIGHESTMODSEQ went back ${prev.highestModseq} -> ${mark.highestModseq}`);
      }
      const maxUid = model.maxUid.get(name) ?? 0;
      if (mark.uidNext <= maxUid) p(`${name} UIDNEXT ${mark.uidNext} not above acknowledged UID ${maxUid}`);
      marks.set(name, mark);
      if (box.exists === 0) continue;
      const msgs = await c.fetch('1:*', { uid: true, flags: true, modseq: true, body: ['HEADER.FIELDS (MESSAGE-ID)'] }, { uid: true });
      const unchecked: number[] = [];
      for (const f of msgs) {
        const id = messageIdOf(f.body?.[HEADER_KEY]);
        if (!id) {
          p(`${name} UID ${f.uid} has no Message-ID`);
          continue;
        }
        const list = seen.get(id) ?? [];
        list.push({ mailbox: name, uid: f.uid!, flags: f.flags ?? [], modseq: f.modseq ?? 0n });
        seen.set(id, list);
        if (f.modseq !== undefined && f.modseq > mark.highestModseq) p(`${name} UID ${f.uid} MODSEQ ${f.modseq} above HIGHESTMODSEQ ${mark.highestModseq}`);
        const m = model.messages.get(id);
        if (m && !m.contentChecked) unchecked.push(f.uid!);
      }
      // The content of messages not checked before: complete, and theirs.
      for (let i = 0; i < unchecked.length; i += 50) {
        const set = unchecked.slice(i, i + 50).join(',');
        for (const f of await c.fetch(set, { uid: true, body: ['HEADER.FIELDS (MESSAGE-ID)', 'TEXT'] }, { uid: true })) {
          const id = messageIdOf(f.body?.[HEADER_KEY])!;
          const m = model.messages.get(id)!;
          const text = f.body?.['TEXT'];
          if (!text || !text.equals(bodyFor(id, m.size))) p(`${id} in ${name}: content differs (${text?.length ?? 'no'} bytes, expected ${bodyFor(id, m.size).length})`);
          m.contentChecked = true;
        }
      }
    }
    await c.logout();
  } finally {
    c.close();
  }
  for (const [name, modseq] of model.maxModseq) {
    const highest = marks.get(name)?.highestModseq ?? 0n;
    if (highest < modseq) p(`${name} HIGHESTMODSEQ ${highest} below an acknowledged MODSEQ ${modseq}`);
  }

  for (const [id, where] of seen) {
    const m = model.messages.get(id);
    if (!m) {
      p(`${id}: a message nobody sent (${where.map((w) => w.mailbox).join(', ')})`);
      continue;
    }
    if (where.length > 1) p(`${id}: ${where.length} copies (${where.map((w) => `${w.mailbox}/${w.uid}`).join(', ')})`);
    const w = where[0]!;
    if (!m.possible.has(w.mailbox as 'INBOX')) p(`${id}: found in ${w.mailbox}, acknowledged state is ${[...m.possible].join('|')}`);
    if (m.possible.size === 1 && m.uid !== undefined && m.uid !== w.uid) p(`${id}: UID changed ${m.uid} -> ${w.uid} in ${w.mailbox}`);
    for (const f of m.flags) if (!w.flags.includes(f)) p(`${id}: acknowledged flag ${f} lost`);
    if (w.modseq < m.modseq) p(`${id}: MODSEQ went back ${m.modseq} -> ${w.modseq}`);
    m.possible = new Set([w.mailbox as 'INBOX']);
    m.uid = w.uid;
    m.modseq = w.modseq;
    model.noteUid(w.mailbox, w.uid);
  }
  for (const m of [...model.messages.values()]) {
    if (seen.has(m.id)) continue;
    if (!m.possible.has('gone')) p(`${m.id}: acknowledged in ${[...m.possible].join('|')}, but missing`);
    model.messages.delete(m.id);
  }

  // Files against the database, with the server running and idle.
  const store = await SqliteStore.open({ dir });
  try {
    const ic = store.db.pragma('integrity_check', { simple: true });
    if (ic !== 'ok') p(`integrity_check: ${String(ic)}`);
    const rows = store.db.prepare('SELECT file_id AS id, size FROM messages UNION ALL SELECT file_id AS id, size FROM queue_messages').all() as { id: number; size: number }[];
    const referenced = new Map<number, number>();
    for (const r of rows) referenced.set(r.id, r.size);
    const files = readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    for (const f of files) {
      const id = Number(f.name);
      const path = join(f.parentPath ?? (f as unknown as { path: string }).path, f.name);
      if (!referenced.has(id)) p(`orphaned file msg/${path.slice(join(dir, 'msg').length + 1)} (${statSync(path).size} bytes)`);
      else if (statSync(path).size !== referenced.get(id)) p(`file ${id}: ${statSync(path).size} bytes on disk, ${referenced.get(id)} in the database`);
    }
    // Small contents live in the database: each must be referenced, with the right size.
    const inline = store.db.prepare('SELECT file_id AS id, length(data) AS size FROM blob_inline').all() as { id: number; size: number }[];
    for (const b of inline) {
      if (!referenced.has(b.id)) p(`orphaned inline blob ${b.id} (${b.size} bytes)`);
      else if (b.size !== referenced.get(b.id)) p(`inline blob ${b.id}: ${b.size} bytes stored, ${referenced.get(b.id)} in the row`);
    }
    const held = new Set([...files.map((f) => Number(f.name)), ...inline.map((b) => b.id)]);
    for (const id of referenced.keys()) if (!held.has(id)) p(`file ${id} referenced but missing`);
  } finally {
    await store.close();
  }
  return seen.size;
}

export async function crashConsistency(o: CrashOptions): Promise<CrashReport> {
  const log = o.log ?? (() => {});
  const dir = o.dir ?? quickstartDir(['submission', 'imap']);
  const model = new Model();
  const marks = new Map<string, MailboxMark>();
  const problems: string[] = [];
  const perRound: CrashReport['perRound'] = [];
  const minMs = o.minLoadMs ?? 300;
  const maxMs = o.maxLoadMs ?? 2500;
  for (let round = 0; round <= o.rounds; round++) {
    const server = await startServe(dir, ['submission', 'imap']);
    try {
      const messages = await verify(server, dir, model, marks, problems, round);
      if (round === o.rounds) {
        log(`final check: ${messages} messages`);
        break;
      }
      let killedAt: number | null = null;
      const load = startLoad(model, { imapPort: server.ports.imap!, submissionPort: server.ports.submission!, imapSessions: 2, tag: `r${round}-${Date.now().toString(36)}`, killedAt: () => killedAt });
      // Kill while the load is in full swing: the delay counts from the first acknowledgement.
      const t0 = Date.now();
      while (load.ops() === 0 && Date.now() - t0 < 30_000 && server.proc.exitCode === null) await new Promise((r) => setTimeout(r, 10));
      const loadMs = minMs + Math.floor(Math.random() * (maxMs - minMs));
      await new Promise((r) => setTimeout(r, loadMs));
      killedAt = Date.now();
      await server.kill('SIGKILL');
      load.stop();
      await load.done;
      perRound.push({ round, loadMs, ops: load.ops(), messages });
      log(`round ${round}: ${messages} messages checked, ${load.ops()} operations acknowledged in ${loadMs} ms, then SIGKILL`);
      if (model.unexpected.length) {
        problems.push(...model.unexpected.map((e) => `round ${round}: operation failed before the kill: ${e}`));
        model.unexpected.length = 0;
      }
    } finally {
      await server.kill(round === o.rounds ? 'SIGTERM' : 'SIGKILL');
    }
  }
  return { dir, rounds: o.rounds, acknowledged: model.acked, messages: model.messages.size, problems, perRound };
}
