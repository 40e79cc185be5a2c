// APPEND (RFC 9051 6.3.12), MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315 3), APPENDLIMIT (RFC 7889),
// literal8 (RFC 3516) and UTF8 (~{n}) (RFC 6855 4); also the message of REPLACE (RFC 8508, cmd-replace.ts).
// Each message literal is checked (mailbox exists: else [TRYCREATE]; size within APPENDLIMIT: else
// [TOOBIG]; room in the account's quota: else [OVERQUOTA], RFC 9208 4.3.1) before its continuation,
// then streamed through a bounded channel into store.stageBlob, so a message is never held whole in
// memory (small ones are also kept to build the MIME cache).
// Literals up to INLINE_BLOB_MAX are collected and staged as one buffer, which the store keeps in its
// database: no file and no fsyncs of their own.
// All messages of one command are committed together (RFC 3502: all or none); the store checks the
// quota again in that transaction, so concurrent appends cannot overshoot it.
// A non-synchronizing literal over APPENDLIMIT closes the connection (RFC 7888 4, RFC 7889): the
// client sends the data anyway, and reading up to 4 GiB only to drop it serves no one.
import { INLINE_BLOB_MAX, type StagedBlob } from '../../store/types.js';
import type { CommandPart, ReaderEvent } from '../proto/command-reader.js';
import { commandTag, parseAppendNext, parseCommand, parseMessagePrefix } from '../proto/parse-command.js';
import { safeText } from '../proto/response-writer.js';
import { ImapSyntaxError } from '../proto/syntax-error.js';
import type { Command, CommandOf } from '../proto/types.js';
import { ChunkChannel } from './chunk-channel.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { ImapError, bad, fromStoreError, no } from './errors.js';
import { CACHE_AT_STORE_MAX, messageCacheJson } from '../../mime/message-cache.js';
import { binaryPartsAsBase64 } from '../../mime/nul-free.js';
import { commitReplace, resolveReplaced, type Replaced } from './cmd-replace.js';

export interface StagedMessage {
  blob: StagedBlob;
  cache: string | null;
}

interface Current {
  /** Streaming to a file; null for a small literal, kept whole in `kept` and staged at its end. */
  channel: ChunkChannel | null;
  staging: Promise<StagedBlob> | null;
  kept: Buffer[] | null;
  keptBytes: number;
  /** A literal8 (`~{n}`): its binary parts are stored as base64 (mime/nul-free.ts). */
  binary: boolean;
}

export class AppendSession {
  private tag: string | null = null;
  private mailboxId = 0;
  /** Bytes of the message literals of this command accepted so far (the quota pre-check). */
  private announced = 0;
  private readonly staged: StagedMessage[] = [];
  /** REPLACE (RFC 8508): the message it replaces, resolved at its literal. */
  private replacing: Replaced | null = null;
  private current: Current | null = null;
  /** The current message literal was synchronizing: the client waited for "+" (see connection.ts). */
  awaitingLineEnd = false;
  /** Set when staging failed: the rest of the data is read and dropped, the command fails. */
  private failure: unknown = null;
  /** The previous message of this command was `UTF8 (~{n})`: its ")" opens the next text. */
  private lastUtf8 = false;

  constructor(
    private readonly conn: ImapConnection,
    private readonly done: () => void,
  ) {}

  /** A message literal was announced: check it before sending the continuation. */
  async literal(ev: Extract<ReaderEvent, { kind: 'message-literal' }>): Promise<void> {
    const conn = this.conn;
    let tag: string | null = this.tag ?? commandTag(ev.prefix);
    try {
      if (this.tag === null) {
        const p = parseMessagePrefix(ev.prefix, ev.size, ev.binary);
        tag = p.tag;
        this.lastUtf8 = p.message.utf8;
        this.tag = p.tag;
        if (conn.state !== 'auth' && conn.state !== 'selected') throw bad(`${p.replace ? 'REPLACE' : 'APPEND'} not allowed before authentication`);
        // RFC 8508: which message goes, checked before the data like the rest.
        if (p.replace) this.replacing = resolveReplaced(conn, p.replace);
        const mb = await conn.ctx.store.getMailbox(conn.identity!.accountId, conn.storeName(p.mailbox));
        if (!mb) throw no('TRYCREATE', 'no such mailbox');
        this.mailboxId = mb.id;
      } else if (this.replacing) {
        throw bad('REPLACE takes one message');
      } else {
        // MULTIAPPEND: only the text since the previous message literal is new.
        this.lastUtf8 = parseAppendNext(ev.prefix[ev.prefix.length - 1]!.text, ev.size, ev.binary, this.lastUtf8).utf8;
      }
      // RFC 7889: over APPENDLIMIT is refused before the continuation.
      if (ev.size > conn.appendLimit) throw no('TOOBIG', `message over the APPENDLIMIT of ${conn.appendLimit} bytes`);
      if (ev.size === 0) throw no(null, 'empty message refused');
      // RFC 9208 4.3.1: refused before the data when it cannot fit (the commit checks again).
      const q = await conn.ctx.store.getQuota(conn.identity!.accountId);
      // RFC 8508 3.4: a REPLACE needs room only for the difference.
      const freed = this.replacing?.size ?? 0;
      if (q.limit !== null && q.used + this.announced + ev.size - freed > q.limit) throw no('OVERQUOTA', 'message would exceed the storage quota');
    } catch (err) {
      const e = err instanceof ImapSyntaxError ? new ImapError('BAD', err.code, err.message) : err;
      // RFC 7888 4: a non-synchronizing literal over the limit is on its way whatever we answer;
      // rather than read and drop up to 4 GiB, BYE and close.
      const fatal = !ev.sync && ev.size > conn.appendLimit;
      conn.rejectMessage(fatal);
      if (fatal) await conn.send(`* BYE [ALERT] message literal over the APPENDLIMIT of ${conn.appendLimit} bytes; closing connection\r\n`);
      await this.fail(tag, e, this.replacing ? 'REPLACE' : 'APPEND');
      if (fatal) conn.close();
      return;
    }
    this.announced += ev.size;
    conn.acceptMessage();
    this.awaitingLineEnd = ev.sync;
    if (ev.sync) await conn.send('+ Ready for message data\r\n');
    const channel = ev.size <= INLINE_BLOB_MAX ? null : new ChunkChannel();
    const staging = channel ? conn.ctx.store.stageBlob(channel, conn.appendLimit) : null;
    // Keep the outcome for end(); an early failure must not become an unhandled rejection.
    staging?.catch(() => undefined);
    this.current = { channel, staging, kept: !channel || ev.size <= CACHE_AT_STORE_MAX ? [] : null, keptBytes: 0, binary: ev.binary };
  }

  async data(chunk: Buffer): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    if (cur.kept) cur.kept.push(chunk);
    if (cur.channel) await cur.channel.push(chunk);
  }

  async end(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    cur.channel?.end();
    try {
      let whole: Buffer | null = cur.kept ? Buffer.concat(cur.kept) : null;
      let staging = cur.staging;
      // RFC 3516 4.4, as Dovecot: a literal8 message is stored with its binary parts as base64, so
      // that BODY[], RFC822.SIZE and BODYSTRUCTURE agree on bytes a plain literal can carry.
      const converted = whole && cur.binary ? binaryPartsAsBase64(whole) : whole;
      if (converted !== whole) {
        if (staging) await (await staging).discard();
        staging = null;
        whole = converted;
      }
      const blob = await (staging ?? this.conn.ctx.store.stageBlob(whole!, Math.max(this.conn.appendLimit, whole!.length)));
      let cache: string | null = null;
      if (whole) {
        try {
          cache = messageCacheJson(whole);
        } catch (err) {
          this.conn.log.warn('message parse failed at append', { err });
        }
      }
      this.staged.push({ blob, cache });
    } catch (err) {
      this.failure ??= err;
    }
  }

  /** The command is complete (all literals read): parse it and run it through dispatch. */
  async finish(parts: CommandPart[]): Promise<void> {
    const conn = this.conn;
    let cmd: Command;
    try {
      cmd = parseCommand(parts);
      if (cmd.name !== 'APPEND' && cmd.name !== 'REPLACE') throw new ImapSyntaxError('expected APPEND or REPLACE');
    } catch (err) {
      await this.discard();
      this.done();
      const msg = err instanceof ImapSyntaxError ? err.message : 'malformed command';
      await conn.send(`${this.tag ?? '*'} BAD ${safeText(msg)}\r\n`);
      return;
    }
    conn.pendingAppend = this;
    try {
      await conn.execute(cmd);
    } finally {
      conn.pendingAppend = null;
      this.done();
    }
  }

  /** Called by handleAppend: commit every staged message in one transaction. */
  async commit(cmd: CommandOf<'APPEND'>): Promise<CommandResult> {
    const conn = this.conn;
    if (this.failure) {
      await this.discard();
      throw fromStoreError(this.failure) ?? this.failure;
    }
    if (this.staged.length !== cmd.messages.length) {
      await this.discard();
      throw bad('APPEND message count mismatch');
    }
    const now = new Date();
    try {
      const r = await conn.ctx.store.appendMessages(
        conn.identity!.accountId,
        this.mailboxId,
        cmd.messages.map((m, i) => ({
          blob: this.staged[i]!.blob,
          flags: m.flags.filter((f) => f.toLowerCase() !== '\\recent'),
          internalDate: m.internalDate ?? now,
          cache: this.staged[i]!.cache,
        })),
      );
      this.staged.length = 0;
      const view = conn.view;
      if (view && view.mailbox.id === this.mailboxId) {
        view.queue([{ kind: 'append', mailboxId: this.mailboxId, uids: r.uids, modseq: r.modseq }]);
      }
      const uids = r.uids.length === 1 ? String(r.uids[0]) : `${r.uids[0]}:${r.uids[r.uids.length - 1]}`;
      return { code: `APPENDUID ${r.uidValidity} ${uids}`, text: 'APPEND completed' };
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Called by handleReplace: commit the one staged message in place of the replaced one. */
  async commitReplace(cmd: CommandOf<'REPLACE'>): Promise<CommandResult> {
    if (this.failure) {
      await this.discard();
      throw fromStoreError(this.failure) ?? this.failure;
    }
    const staged = this.staged[0];
    if (!this.replacing || !staged || this.staged.length !== 1) {
      await this.discard();
      throw bad('REPLACE message count mismatch');
    }
    try {
      const r = await commitReplace(this.conn, this.mailboxId, this.replacing.uid, staged, cmd.message);
      this.staged.length = 0;
      return r;
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  private async fail(tag: string | null, err: unknown, name: string): Promise<void> {
    await this.discard();
    this.done();
    await this.conn.finishWithError({ tag: tag ?? '*', name }, err);
  }

  private async discard(): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (cur?.staging) {
      cur.channel?.end();
      const b = await cur.staging.catch(() => null);
      if (b) await b.discard().catch(() => undefined);
    }
    for (const s of this.staged.splice(0)) await s.blob.discard().catch(() => undefined);
  }

  /** Connection closed mid-APPEND: drop what was staged. */
  abort(): void {
    void this.discard();
  }
}

export async function handleAppend(conn: ImapConnection, cmd: CommandOf<'APPEND'>): Promise<CommandResult> {
  const session = conn.pendingAppend;
  if (!session) throw bad('APPEND without message data');
  return session.commit(cmd);
}
