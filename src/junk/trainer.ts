// Training from what users do, in any IMAP client: a message copied or moved into the \Junk
// mailbox, or given the $Junk keyword, is spam; one moved out of Junk (not to Trash) or given
// $NotJunk is ham. The change feed reports these after their commit; the work (reading and
// tokenizing the message, updating the statistics) is queued and done one job at a time, off the
// IMAP command's path, in a queue of bounded length. On an account's first use, its existing mail
// trains the filter (Junk as spam; Inbox, Archive and Sent as ham; SEED_MESSAGES_PER_CLASS each).
// Training also keeps sender reputation (reputation.ts): kept and junked mail per sender, and the
// recipients of mail the user sent (messages a client saves in \Sent).

import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Change } from '../store/change-feed.js';
import type { Mailbox, Store } from '../store/types.js';
import { MAX_PENDING_TRAINING, MAX_REPUTATION_KEYS, MAX_TOKENS_PER_ACCOUNT, SEED_MESSAGES_PER_CLASS } from './limits.js';
import { recipientKeys, senderKeys } from './reputation.js';
import type { JunkModels } from './model.js';
import { tokenize } from './tokenizer.js';

const JUNK_KEYWORD = '$junk';
const NOT_JUNK_KEYWORD = '$notjunk';
/** Mailboxes whose mail counts as ham when seeding (RFC 6154 special uses, and INBOX). */
const HAM_SPECIAL_USES = new Set(['\\Archive', '\\Sent']);

interface Job {
  accountId: number;
  mailboxId: number;
  uids: number[];
  /** Train as spam or ham; 'wrote': mail the user sent (saved in Sent), for reputation only. */
  spam: boolean | 'wrote';
}

/** A digest naming a message across copies and moves: its bytes after our own added fields would
 * differ per copy only by what we prepend, so the header block and body start are hashed. */
export function messageDigest(raw: Buffer): string {
  return createHash('sha256').update(raw.subarray(0, 16 * 1024)).digest('base64url').slice(0, 22);
}

export class JunkTrainer {
  private readonly jobs: Job[] = [];
  private running: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private dropped = 0;
  /** Trained messages, for tests and the bench. */
  trained = 0;

  constructor(
    private readonly store: Store,
    private readonly models: JunkModels,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.store.changes.subscribeAll((accountId, changes) => {
      void this.onChanges(accountId, changes).catch((err) => this.log.warn('junk training event failed', { err, account: accountId }));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.jobs.length = 0;
    await this.running;
  }

  /** Resolves when no job is waiting or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async onChanges(accountId: number, changes: Change[]): Promise<void> {
    for (const c of changes) {
      if (c.kind === 'append' && c.fromMailboxId === undefined) {
        // A client saving what the user sent (APPEND to \Sent): its recipients become known.
        const to = await this.store.getMailboxById(c.mailboxId);
        if (to?.specialUse === '\\Sent') this.enqueue({ accountId, mailboxId: to.id, uids: c.uids, spam: 'wrote' });
      } else if (c.kind === 'append' && c.fromMailboxId !== undefined) {
        const [to, from] = await Promise.all([this.store.getMailboxById(c.mailboxId), this.store.getMailboxById(c.fromMailboxId)]);
        if (!to || !from) continue;
        if (isJunk(to) && !isJunk(from)) this.enqueue({ accountId, mailboxId: to.id, uids: c.uids, spam: true });
        else if (isJunk(from) && !isJunk(to) && to.specialUse !== '\\Trash') this.enqueue({ accountId, mailboxId: to.id, uids: c.uids, spam: false });
      } else if (c.kind === 'flags') {
        const spam: number[] = [];
        const ham: number[] = [];
        for (const u of c.updates) {
          const lower = u.flags.map((f) => f.toLowerCase());
          const j = lower.includes(JUNK_KEYWORD);
          const n = lower.includes(NOT_JUNK_KEYWORD);
          if (j && !n) spam.push(u.uid);
          else if (n && !j) ham.push(u.uid);
        }
        if (spam.length) this.enqueue({ accountId, mailboxId: c.mailboxId, uids: spam, spam: true });
        if (ham.length) this.enqueue({ accountId, mailboxId: c.mailboxId, uids: ham, spam: false });
      }
    }
  }

  private enqueue(job: Job): void {
    if (this.jobs.length >= MAX_PENDING_TRAINING) {
      // Bounded: a burst beyond the queue is not trained (the user can move the mail again).
      if (this.dropped++ % 100 === 0) this.log.warn('junk training queue full, events dropped', { dropped: this.dropped });
      return;
    }
    this.jobs.push(job);
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  private async drain(): Promise<void> {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      try {
        await this.trainMessages(job.accountId, job.mailboxId, job.uids, job.spam);
      } catch (err) {
        this.log.warn('junk training failed', { err, account: job.accountId });
      }
    }
  }

  /** Trains the given messages as spam or ham; already-trained ones are skipped or moved over. */
  async trainMessages(accountId: number, mailboxId: number, uids: number[], spam: boolean | 'wrote'): Promise<void> {
    for (const m of await this.store.getMessages(mailboxId, uids)) {
      const raw = await this.store.readBlob(m.fileId);
      if (spam === 'wrote') await this.store.junk.bumpReputation(accountId, recipientKeys(raw), 'wrote', 1, MAX_REPUTATION_KEYS);
      else await this.trainOne(accountId, raw, spam);
    }
  }

  async trainOne(accountId: number, raw: Buffer, spam: boolean): Promise<void> {
    const tokens = tokenize(stripOwnFields(raw));
    const r = await this.store.junk.train(accountId, messageDigest(stripOwnFields(raw)), spam, tokens);
    if (!r.changed) return;
    this.trained++;
    const sender = senderKeys(raw).keys;
    await this.store.junk.bumpReputation(accountId, sender, spam ? 'spam' : 'ham', 1, MAX_REPUTATION_KEYS);
    if (r.untrained) await this.store.junk.bumpReputation(accountId, sender, spam ? 'ham' : 'spam', -1, MAX_REPUTATION_KEYS);
    const loaded = this.models.peek(accountId);
    if (loaded) {
      // One step ahead of the model held: apply it; further (another process trained the account
      // too): load it again when next needed.
      const m = await loaded;
      if (m.version === r.version - 1) m.apply(tokens, spam, r.untrained, r.version);
      else if (m.version < r.version) this.models.forget(accountId);
    }
    if ((await this.store.junk.tokenCount(accountId)) > MAX_TOKENS_PER_ACCOUNT) {
      await this.store.junk.prune(accountId);
      this.models.forget(accountId);
    }
  }

  /** First use: the account's existing mail trains its filter, once. */
  async seed(accountId: number): Promise<void> {
    // Marked in one step: of several processes meeting the account at once, one seeds it.
    if (!(await this.store.junk.markSeeded(accountId))) return;
    const boxes = await this.store.listMailboxes(accountId);
    const take = async (list: Mailbox[], spam: boolean) => {
      let n = 0;
      for (const b of list) {
        const msgs = await this.store.listMessages(b.id);
        for (const m of msgs.slice(-SEED_MESSAGES_PER_CLASS)) {
          if (n++ >= SEED_MESSAGES_PER_CLASS) return;
          await this.trainOne(accountId, await this.store.readBlob(m.fileId), spam);
        }
      }
    };
    await take(boxes.filter(isJunk), true);
    await take(boxes.filter((b) => b.name === 'INBOX' || (b.specialUse !== null && HAM_SPECIAL_USES.has(b.specialUse))), false);
    for (const b of boxes.filter((x) => x.specialUse === '\\Sent')) {
      for (const m of (await this.store.listMessages(b.id)).slice(-SEED_MESSAGES_PER_CLASS)) {
        await this.store.junk.bumpReputation(accountId, recipientKeys(await this.store.readBlob(m.fileId)), 'wrote', 1, MAX_REPUTATION_KEYS);
      }
    }
  }
}

function isJunk(m: Mailbox): boolean {
  return m.specialUse === '\\Junk';
}

/** Our own verdict field (and the Return-Path delivery added) are not the sender's evidence, and
 * would make copies of one message look different. */
export function stripOwnFields(raw: Buffer): Buffer {
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol < 0) return raw.subarray(pos);
    const line = raw.toString('latin1', pos, Math.min(eol, pos + 20)).toLowerCase();
    if (!line.startsWith('x-postern-junk:') && !line.startsWith('return-path:')) return raw.subarray(pos);
    pos = eol + 2;
  }
}
