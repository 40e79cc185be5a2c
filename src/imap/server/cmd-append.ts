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
// CATENATE (RFC 4469): a message made of TEXT literals (streamed like message literals) and URLs
// of messages the session can read (src/imap/url/), concatenated in order into one staged blob; each
// URL is resolved when the text that holds it arrives, so a bad one is answered NO [BADURL] before
// the continuation of the next literal (RFC 4469 5.1; non-synchronizing literals after it are read
// and dropped by the reader). TOOBIG and OVERQUOTA count the URL contents too.
import type { CommandPart, ReaderEvent } from '../proto/command-reader.js';
import { commandTag, parseAppendEnd, parseAppendNext, parseCommand, parseMessagePrefix, type AppendResume, type AppendStep } from '../proto/parse-command.js';
import { safeText } from '../proto/response-writer.js';
import { ImapSyntaxError } from '../proto/syntax-error.js';
import type { Command, CommandOf } from '../proto/types.js';
import { StoreError } from '../../store/errors.js';
import { resolveCatenateUrl } from '../url/catenate-url.js';
import { isImapUrlError } from '../url/imap-url.js';
import { UrlSourceCache } from '../url/resolve-url.js';
import { AppendStager, type StagedMessage } from './append-stager.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { ImapError, bad, fromStoreError, no } from './errors.js';
import { commitReplace, resolveReplaced, type Replaced } from './cmd-replace.js';

export type { StagedMessage } from './append-stager.js';

/** RFC 4469 6: `BADURL url-resp-text` names the URL as sent, unquoted (as Dovecot); "]" and controls
 * cannot be in it. The reason goes to the session's own user only. */
function badUrl(url: string, reason: string): ImapError {
  return no(`BADURL ${url.replace(/[\x00-\x1f\x7f\]]/g, '')}`, reason);
}

export class AppendSession {
  private tag: string | null = null;
  private mailboxId = 0;
  /** Bytes of the messages of this command accepted so far (the quota pre-check). */
  private announced = 0;
  private readonly staged: StagedMessage[] = [];
  /** REPLACE (RFC 8508): the message it replaces, resolved at its literal. */
  private replacing: Replaced | null = null;
  private messages = 0;
  /** The message being received, and whether it is a CATENATE (ends at its ")", not its literal). */
  private stager: AppendStager | null = null;
  private catenating = false;
  /** A literal's data is arriving. */
  private receiving = false;
  /** The current message literal was synchronizing: the client waited for "+" (see connection.ts). */
  awaitingLineEnd = false;
  /** Set when staging failed: the rest of the data is read and dropped, the command fails. */
  private failure: unknown = null;
  /** Where the text after the last message literal resumes, and how many command parts are parsed. */
  private resume: AppendResume = 'message';
  private partsSeen = 0;
  /** The message CATENATE section URLs were last read from (most name parts of one message). */
  private readonly sources = new UrlSourceCache();

  constructor(
    private readonly conn: ImapConnection,
    private readonly done: () => void,
  ) {}

  /** Checks at the start of the command: state, the REPLACE target, the mailbox. */
  private async begin(mailbox: string, replace: { uid: boolean; id: number } | null): Promise<void> {
    const conn = this.conn;
    if (conn.state !== 'auth' && conn.state !== 'selected') throw bad(`${replace ? 'REPLACE' : 'APPEND'} not allowed before authentication`);
    // RFC 8508: which message goes, checked before the data like the rest.
    if (replace) this.replacing = resolveReplaced(conn, replace);
    const mb = await conn.ctx.store.getMailbox(conn.identity!.accountId, conn.storeName(mailbox));
    if (!mb) throw no('TRYCREATE', 'no such mailbox');
    this.mailboxId = mb.id;
  }

  /** RFC 9208 4.3.1: refused before the data when it cannot fit (the commit checks again). */
  private async checkQuota(more: number): Promise<void> {
    const q = await this.conn.ctx.store.getQuota(this.conn.identity!.accountId);
    // RFC 8508 3.4: a REPLACE needs room only for the difference.
    const freed = this.replacing?.size ?? 0;
    if (q.limit !== null && q.used + this.announced + more - freed > q.limit) throw no('OVERQUOTA', 'message would exceed the storage quota');
  }

  /** A step of the command's text (parse-command.ts walkAppend), in order. */
  private async step(s: Exclude<AppendStep, { kind: 'literal' }>): Promise<void> {
    if (s.kind === 'message') {
      await this.endMessage();
      if (this.replacing && this.messages > 0) throw bad('REPLACE takes one message');
      this.messages++;
      this.catenating = s.message.catenate !== null;
      if (this.catenating) this.stager = new AppendStager(this.conn.ctx.store, this.conn.appendLimit);
      return;
    }
    // A URL of a CATENATE: resolved, checked against the limits, streamed into the message.
    const conn = this.conn;
    const stager = this.stager!;
    const r = await resolveCatenateUrl(conn, s.url, this.sources);
    if (isImapUrlError(r)) {
      throw badUrl(s.url, r.reason);
    }
    if (stager.size + r.size > conn.appendLimit) throw no('TOOBIG', `message over the APPENDLIMIT of ${conn.appendLimit} bytes`);
    await this.checkQuota(r.size);
    this.announced += r.size;
    try {
      for await (const chunk of r.chunks()) await stager.push(chunk);
    } catch (err) {
      // Expunged while being copied.
      if (err instanceof StoreError && err.code === 'contentmissing') throw badUrl(s.url, 'message expunged while being copied');
      throw err;
    }
  }

  /** The message being built is complete: stage it. */
  private async endMessage(): Promise<void> {
    const stager = this.stager;
    if (!stager) return;
    this.stager = null;
    if (this.failure) {
      await stager.discard();
      return;
    }
    try {
      if (stager.size === 0) throw no(null, 'empty message refused');
      this.staged.push(await stager.finish((err) => this.conn.log.warn('message parse failed at append', { err })));
    } catch (err) {
      await stager.discard();
      this.failure ??= err;
    }
  }

  /** A message literal (or CATENATE TEXT literal) was announced: check it before the continuation. */
  async literal(ev: Extract<ReaderEvent, { kind: 'message-literal' }>): Promise<void> {
    const conn = this.conn;
    let tag: string | null = this.tag ?? commandTag(ev.prefix);
    try {
      let steps: AppendStep[];
      if (this.tag === null) {
        const p = parseMessagePrefix(ev.prefix, ev.size, ev.binary);
        tag = p.tag;
        this.tag = p.tag;
        this.resume = p.resume;
        steps = p.steps;
        await this.begin(p.mailbox, p.replace);
      } else {
        // Only the parts since the previous message literal are new (MULTIAPPEND, CATENATE).
        const n = parseAppendNext(ev.prefix.slice(this.partsSeen), ev.size, ev.binary, this.resume);
        this.resume = n.resume;
        steps = n.steps;
      }
      this.partsSeen = ev.prefix.length;
      // The steps end with this literal; what comes before it (a new message, URLs) first.
      for (const s of steps.slice(0, -1)) await this.step(s as Exclude<AppendStep, { kind: 'literal' }>);
      if (this.failure) throw this.failure;
      // RFC 7889, RFC 4469 5: over APPENDLIMIT (the whole message, URLs included) is refused
      // before the continuation.
      const before = this.catenating ? this.stager!.size : 0;
      if (before + ev.size > conn.appendLimit) throw no('TOOBIG', `message over the APPENDLIMIT of ${conn.appendLimit} bytes`);
      if (ev.size === 0 && !this.catenating) throw no(null, 'empty message refused');
      await this.checkQuota(ev.size);
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
    if (!this.catenating) this.stager = new AppendStager(conn.ctx.store, conn.appendLimit, ev.size);
    // A whole message sent as literal8 is stored with its binary parts as base64 (append-stager.ts);
    // CATENATE pieces are joined as sent (RFC 4469 5), NUL and all.
    if (ev.binary && !this.catenating) this.stager?.markBinary();
    this.receiving = true;
  }

  async data(chunk: Buffer): Promise<void> {
    if (this.receiving) await this.stager?.push(chunk);
  }

  async end(): Promise<void> {
    if (!this.receiving) return;
    this.receiving = false;
    // A CATENATE goes on after its TEXT literal; a plain message is complete.
    if (!this.catenating) await this.endMessage();
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
    // What follows the last literal: CATENATE URLs, more messages made of URLs only.
    await this.runSteps(parseAppendEnd(parts.slice(this.partsSeen), this.resume));
    conn.pendingAppend = this;
    try {
      await conn.execute(cmd);
    } finally {
      conn.pendingAppend = null;
      this.done();
    }
  }

  /** Steps after which no literal comes: failures are kept for the commit to report. */
  private async runSteps(steps: AppendStep[]): Promise<void> {
    try {
      for (const s of steps) {
        if (this.failure) break;
        if (s.kind !== 'literal') await this.step(s);
      }
      await this.endMessage();
    } catch (err) {
      this.failure ??= err;
    }
  }

  /**
   * An APPEND or REPLACE without any literal (every message a CATENATE of URLs): nothing was
   * streamed, so the session starts and ends here, inside dispatch.
   */
  static async withoutLiterals(conn: ImapConnection, cmd: CommandOf<'APPEND'> | CommandOf<'REPLACE'>): Promise<CommandResult> {
    const session = new AppendSession(conn, () => undefined);
    const messages = cmd.name === 'APPEND' ? cmd.messages : [cmd.message];
    if (!messages.every((m) => m.catenate?.every((p) => p.kind === 'url'))) throw bad(`${cmd.name} without message data`);
    try {
      await session.begin(cmd.mailbox, cmd.name === 'REPLACE' ? { uid: cmd.uid, id: cmd.id } : null);
    } catch (err) {
      await session.discard();
      throw err;
    }
    await session.runSteps(messages.flatMap((m): AppendStep[] => [{ kind: 'message', message: m }, ...m.catenate!.map((p) => p as AppendStep)]));
    return cmd.name === 'APPEND' ? session.commit(cmd) : session.commitReplace(cmd);
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
    const stager = this.stager;
    this.stager = null;
    this.receiving = false;
    await stager?.discard();
    for (const s of this.staged.splice(0)) await s.blob.discard().catch(() => undefined);
  }

  /** Connection closed mid-APPEND: drop what was staged. */
  abort(): void {
    void this.discard();
  }
}

export async function handleAppend(conn: ImapConnection, cmd: CommandOf<'APPEND'>): Promise<CommandResult> {
  const session = conn.pendingAppend;
  if (!session) return AppendSession.withoutLiterals(conn, cmd);
  return session.commit(cmd);
}
