// The SQLite implementation of Store (better-sqlite3, WAL, synchronous=FULL so that a commit is on
// disk when it returns). Message contents are files (blob-files.ts) fsynced before the commit that
// references them; files of expunged messages are queued in `blob_removals` inside the expunging
// transaction and unlinked after it, so a crash in between is finished at the next start.

import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BlobFiles } from '../blob-files.js';
import { LocalChangeFeed, type Change, type ChangeFeed } from '../change-feed.js';
import { StoreError, asStoreIoError, notFound } from '../errors.js';
import { SharedFsync, fsyncPath, fsyncPathSync } from '../shared-fsync.js';
import type {
  DmarcEvent,
  JunkStats,
  Account, Address, AppendResult, CopyResult, Domain, FlagOp, LoginAttempt, Mailbox, MailboxCounts, MessageMeta,
  MessageSummary, MetadataStore, NewMessage, NewTlsPubKey, QueueMessage, QueueRecipient, QuotaSetting, QuotaUsage, ReplaceResult, StagedBlob, Store, StoreFlagsResult,
  StoredCredentials, TlsPubKey, MtaStsCacheEntry, TlsResultCount, TlsResultKey, StoredTlsReport,
  NewWebSession, WebSessionLimits, WebSessionRecord, UrlauthKeyStore,
} from '../types.js';
import { INLINE_BLOB_MAX, INLINE_CACHE_MAX } from '../types.js';
import { ByteLru } from '../byte-lru.js';
import { AccountRepo } from './account-repo.js';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { WRITE_LOCK_WAIT_MS, immediateAsync } from './write-lock.js';
import { cacheStatements } from './statement-cache.js';
import { MailboxRepo } from './mailbox-repo.js';
import { MessageRepo } from './message-repo.js';
import { QueueRepo } from './queue-repo.js';
import { QuotaRepo } from './quota-repo.js';
import { DmarcRepo } from './dmarc-repo.js';
import { JunkRepo } from './junk-repo.js';
import { MetadataRepo, metadataStore } from './metadata-repo.js';
import { migrate } from './schema.js';
import { TlsKeyRepo } from './tls-key-repo.js';
import { TlsPolicyRepo } from './tls-policy-repo.js';
import { UrlauthRepo, urlauthKeyStore } from './urlauth-repo.js';
import { WebSessionRepo } from './web-session-repo.js';

/**
 * Blocks of file ids reserved by the store instances of this process (several can share a process:
 * tests, tools), with their database: recovery must not take them for a dead process's blocks
 * while that database is open (once closed, nothing staged in the block can be committed).
 */
const blocksOfThisProcess = new Map<number, Database.Database>();

/**
 * Whether the process that reserved a block may still write files in it. A pid that now names
 * another process counts as alive (its files are left for a later recovery: safe, never wrong).
 */
function writerMayBeAlive(pid: number, start: number): boolean {
  if (pid === process.pid) return blocksOfThisProcess.get(start)?.open === true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Messages per expunge transaction: a few milliseconds of deletes each. */
const EXPUNGE_CHUNK = 1000;

/** Messages per flag-change transaction (STORE 1:* of a big mailbox). */
const FLAGS_CHUNK = 2000;

/** Default piece size of blobChunks. */
const BLOB_CHUNK = 1024 * 1024;

export interface SqliteStoreOptions {
  /** Data directory: holds postern.db and msg/. */
  dir: string;
  /**
   * Run crash recovery of message files at open: finish pending removals, and remove the files of
   * writers that died before committing them. Safe in any process at any time (the blocks of
   * writers still alive are left alone); see recover().
   */
  recover?: boolean;
  changes?: ChangeFeed;
  /** Storage quota of accounts that have none of their own, in bytes; null or absent: none. */
  defaultQuota?: number | null;
  /**
   * Checkpoint the WAL from a worker thread instead of inside commits (checkpointer.ts): for the
   * serving processes. Short-lived processes (the CLI) keep SQLite's automatic checkpoint. An
   * object sets the thread's interval (tests).
   */
  backgroundCheckpoints?: boolean | { intervalMs: number };
}

export class SqliteStore implements Store {
  readonly changes: ChangeFeed;
  readonly db: Database.Database;
  private readonly blobs: BlobFiles;
  /** Inline contents read lately, by file id (INLINE_CACHE_MAX): ids are never reused, so an entry
   * is never stale; one whose row this process deletes is dropped with it (queueRemovals). */
  private readonly inlineCache = new ByteLru<number, Buffer>(INLINE_CACHE_MAX);
  private readonly accounts: AccountRepo;
  private readonly mailboxes: MailboxRepo;
  private readonly messages: MessageRepo;
  private readonly keys: TlsKeyRepo;
  private readonly queue: QueueRepo;
  private readonly quota: QuotaRepo;
  private readonly tlsPolicies: TlsPolicyRepo;
  private readonly dmarc: DmarcRepo;
  private readonly webSessions: WebSessionRepo;
  readonly junk: JunkStats;
  readonly metadata: MetadataStore;
  private readonly metadataRepo: MetadataRepo;
  readonly urlauthKeys: UrlauthKeyStore;
  private readonly myBlocks: number[] = [];
  /** One transaction wrapper for unsynced() (better-sqlite3 builds one per transaction()). */
  private readonly unsyncedTx: Database.Transaction<(fn: () => unknown) => unknown>;
  /** Write transactions of the hot paths (mail, flags, queue, login records) commit in groups. */
  readonly group: GroupCommit;
  private readonly walPath: string;
  private readonly walSync: SharedFsync;
  private readonly checkpointer: Checkpointer | null = null;

  private constructor(opts: SqliteStoreOptions) {
    this.db = new Database(join(opts.dir, 'postern.db'));
    this.db.pragma('journal_mode = WAL');
    // Commits write the WAL without fsync; GroupCommit then fsyncs the WAL file off the event loop
    // (one fsync for every commit made meanwhile) before any caller is told its write is done:
    // what synchronous=FULL guarantees, without blocking every connection on each commit's fsync.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // Savepoint journals (a group commit's requests each run in one) and temporary indexes stay in
    // memory: by default a journal past 64 KiB spills to a new file in /var/tmp, created, written
    // and unlinked inside the commit. Their size is bounded by the pages one transaction changes.
    this.db.pragma('temp_store = MEMORY');
    if (opts.backgroundCheckpoints) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Checkpointer(join(opts.dir, 'postern.db'), opts.backgroundCheckpoints === true ? undefined : opts.backgroundCheckpoints.intervalMs);
    }
    // The CLI and the server share the database; wait for each other's short transactions (the hot
    // write paths take the lock without this blocking wait: write-lock.ts).
    this.db.pragma(`busy_timeout = ${WRITE_LOCK_WAIT_MS}`);
    migrate(this.db);
    cacheStatements(this.db);
    this.changes = opts.changes ?? new LocalChangeFeed();
    this.accounts = new AccountRepo(this.db);
    this.mailboxes = new MailboxRepo(this.db);
    this.messages = new MessageRepo(this.db);
    this.keys = new TlsKeyRepo(this.db);
    this.queue = new QueueRepo(this.db);
    this.tlsPolicies = new TlsPolicyRepo(this.db);
    this.quota = new QuotaRepo(this.db, opts.defaultQuota ?? null);
    this.dmarc = new DmarcRepo(this.db);
    this.webSessions = new WebSessionRepo(this.db);
    this.unsyncedTx = this.db.transaction((fn: () => unknown) => fn());
    const junk = new JunkRepo(this.db);
    this.junk = {
      state: async (id) => junk.state(id),
      tokens: async (id) => [...junk.tokens(id)],
      // One read transaction: a consistent snapshot of the state and its tokens.
      model: async (id) => this.db.transaction(() => ({ state: junk.state(id), tokens: [...junk.tokens(id)] }))(),
      tokenCount: async (id) => junk.tokenCount(id),
      train: (id, digest, spam, tokens) => this.group.run(() => junk.train(id, digest, spam, tokens)),
      prune: (id) => this.group.run(() => junk.prune(id)),
      setThreshold: async (id, t) => void (await this.group.run(() => junk.setThreshold(id, t))),
      markSeeded: (id) => this.group.run(() => junk.markSeeded(id)),
      reputation: async (id, keys) => junk.reputation(id, keys),
      bumpReputation: async (id, keys, field, delta, max) => void (await this.group.run(() => junk.bumpReputation(id, keys, field, delta, max))),
    };
    this.walPath = join(opts.dir, 'postern.db-wal');
    // Without a WAL file (never written yet) the database file itself holds every commit.
    this.walSync = new SharedFsync(this.walPath, { onMissing: () => fsyncPath(join(opts.dir, 'postern.db')), dataOnly: true, keepOpen: true });
    this.group = new GroupCommit(this.db, () => this.walSync.covering());
    this.urlauthKeys = urlauthKeyStore(new UrlauthRepo(this.db), this.group);
    this.metadataRepo = new MetadataRepo(this.db);
    this.metadata = metadataStore(this.metadataRepo, this.group, (a, n) => this.mailboxes.require(a, n), (a, c) => this.changes.publish(a, c));
    this.blobs = new BlobFiles(join(opts.dir, 'msg'), {
      reserveBlock: (size) => this.tx(() => {
        const r = this.db.prepare("SELECT value FROM meta WHERE key = 'next_file_id'").get() as { value: number } | undefined;
        const start = r?.value ?? 1;
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('next_file_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(start + size);
        this.db.prepare('INSERT INTO blob_blocks (start, end, pid) VALUES (?, ?, ?)').run(start, start + size, process.pid);
        this.myBlocks.push(start);
        blocksOfThisProcess.set(start, this.db);
        return { start, end: start + size };
      }),
    });
  }

  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    const store = new SqliteStore(opts);
    if (opts.recover) await store.recover();
    return store;
  }

  /**
   * Crash recovery: finishes pending file removals, and removes the unreferenced files of id blocks
   * whose writer process is gone (it died between writing a file and committing its row). The
   * blocks of live writers, other processes sharing the store as well as this one, are left alone:
   * their files may be committed any moment. Worker processes of one server can each run it, at
   * start or when another worker died; a block is removed from blob_blocks only after its files.
   */
  async recover(): Promise<void> {
    await this.finishRemovals();
    const blocks = this.db.prepare('SELECT start, end, pid FROM blob_blocks').all() as { start: number; end: number; pid: number }[];
    for (const b of blocks) {
      if (writerMayBeAlive(b.pid, b.start)) continue;
      await this.blobs.removeOrphans(b.start, b.end, (id) => this.messages.isFileReferenced(id));
      this.db.prepare('DELETE FROM blob_blocks WHERE start = ?').run(b.start);
      blocksOfThisProcess.delete(b.start);
    }
    this.accounts.expireLoginAttempts(Date.now());
  }

  /**
   * A write transaction committed at once and not waited for on disk: for state whose loss in a
   * system crash is harmless (\Recent claims, queue leases: every process dies with the system;
   * a web session's last use),
   * and that other processes must see the moment it is decided.
   */
  private unsynced<T>(fn: () => T): T {
    try {
      return this.unsyncedTx.immediate(fn) as T;
    } catch (err) {
      throw asStoreIoError(err);
    }
  }

  /** unsynced() for an async caller: the write lock is waited for from timers, not on the event
   * loop (write-lock.ts). */
  private async unsyncedAsync<T>(fn: () => T): Promise<T> {
    try {
      return await immediateAsync(this.group.lock, this.unsyncedTx, fn);
    } catch (err) {
      throw asStoreIoError(err);
    }
  }

  /** A transaction made durable before it returns, on the event loop: only for the rare
   * synchronous paths (file id blocks, start-up, close); everything else goes through `group`. */
  private tx<T>(fn: () => T): T {
    try {
      const r = this.db.transaction(fn).immediate();
      fsyncPathSync(this.walPath);
      return r;
    } catch (err) {
      throw asStoreIoError(err);
    }
  }

  private async finishRemovals(): Promise<void> {
    const ids = (this.db.prepare('SELECT file_id FROM blob_removals').all() as { file_id: number }[]).map((r) => r.file_id);
    if (ids.length === 0) return;
    await this.blobs.remove(ids);
    const del = this.db.prepare('DELETE FROM blob_removals WHERE file_id = ?');
    await this.group.run(() => ids.forEach((id) => del.run(id)));
  }

  /** In the transaction that drops the rows: inline contents go with them, files are queued. */
  private queueRemovals(fileIds: number[]): void {
    const dropInline = this.db.prepare('DELETE FROM blob_inline WHERE file_id = ?');
    const stmt = this.db.prepare('INSERT OR IGNORE INTO blob_removals (file_id) VALUES (?)');
    for (const id of fileIds) {
      // A session of this process that still shows the message then gets NO [EXPUNGEISSUED], as it
      // does for a file; one of another process may get the old content (RFC 9051 7.5.1 allows it).
      this.inlineCache.delete(id);
      if (dropInline.run(id).changes === 0) stmt.run(id);
    }
  }

  // Domains, accounts, addresses.

  async listDomains(): Promise<Domain[]> {
    return this.accounts.listDomains();
  }

  async createAccount(name: string, address: string): Promise<Account> {
    return this.group.run(() => {
      const account = this.accounts.insertAccount(name, address);
      this.mailboxes.createDefaults(account.id);
      return account;
    });
  }

  async deleteAccount(name: string): Promise<void> {
    const account = this.accounts.requireAccount(name);
    await this.group.run(() => {
      this.authChange(undefined);
      this.queueRemovals((this.db.prepare('SELECT file_id FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)')
        .all(account.id) as { file_id: number }[]).map((r) => r.file_id));
      this.db.prepare('DELETE FROM accounts WHERE id = ?').run(account.id);
    });
    await this.finishRemovals();
  }

  async getAccount(name: string): Promise<Account | null> {
    return this.accounts.getAccount(name);
  }

  async getAccountById(id: number): Promise<Account | null> {
    return this.accounts.getAccountById(id);
  }

  async listAccounts(): Promise<Account[]> {
    return this.accounts.listAccounts();
  }

  async setLoginDisabled(name: string, reason: string | null): Promise<void> {
    await this.group.run(() => this.authChange(this.accounts.setLoginDisabled(name, reason)));
  }

  async addAddress(accountName: string, address: string): Promise<Address> {
    return this.group.run(() => this.accounts.addAddress(accountName, address));
  }

  async removeAddress(address: string): Promise<void> {
    await this.group.run(() => this.authChange(this.accounts.removeAddress(address)));
  }

  async getQuota(accountId: number): Promise<QuotaUsage> {
    return this.quota.get(accountId);
  }

  async setQuota(accountName: string, setting: QuotaSetting): Promise<void> {
    await this.group.run(() => this.quota.set(this.accounts.requireAccount(accountName).id, setting));
  }

  async getHiddenCapabilities(accountId: number): Promise<string[]> {
    const r = this.db.prepare('SELECT hidden_capabilities FROM accounts WHERE id = ?').get(accountId) as { hidden_capabilities: string } | undefined;
    if (!r) throw notFound('account');
    return r.hidden_capabilities.split(' ').filter((c) => c !== '');
  }

  async setHiddenCapabilities(accountName: string, capabilities: string[]): Promise<void> {
    const value = [...new Set(capabilities.map((c) => c.toUpperCase()))].sort().join(' ');
    await this.group.run(() => {
      this.db.prepare('UPDATE accounts SET hidden_capabilities = ? WHERE id = ?').run(value, this.accounts.requireAccount(accountName).id);
    });
  }

  async lookupAddress(address: string): Promise<Address | null> {
    return this.accounts.lookupAddress(address);
  }

  async listAddresses(accountId: number): Promise<Address[]> {
    return this.accounts.listAddresses(accountId);
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return this.accounts.isLocalDomain(domain);
  }

  async lookupRecipient(address: string, domain: string): Promise<{ localDomain: boolean; address: Address | null }> {
    return this.accounts.lookupRecipient(address, domain);
  }

  async listDmarcExceptions(accountId: number): Promise<string[]> {
    return this.dmarc.list(accountId);
  }

  async setDmarcException(accountId: number, domain: string, on: boolean): Promise<void> {
    await this.group.run(() => this.dmarc.set(accountId, domain, on));
  }

  async recordDmarcEvent(e: Omit<DmarcEvent, 'count'>): Promise<void> {
    await this.group.run(() => this.dmarc.record(e));
  }

  async dmarcEvents(day: string, policyDomain: string | null): Promise<DmarcEvent[]> {
    return this.dmarc.events(day, policyDomain);
  }

  async dmarcReportSent(day: string, policyDomain: string): Promise<boolean> {
    return this.dmarc.reportSent(day, policyDomain);
  }

  async addReceivedDmarcReport(r: { orgName: string; reportId: string; policyDomain: string; begin: number; end: number; report: string }): Promise<boolean> {
    return this.group.run(() => this.dmarc.addReceived(r));
  }

  async listReceivedDmarcReports(policyDomain: string | null): Promise<string[]> {
    return this.dmarc.listReceived(policyDomain).map((r) => r.report);
  }

  async markDmarcReportSent(day: string, policyDomain: string, queueId: number | null): Promise<void> {
    await this.group.run(() => this.dmarc.markReportSent(day, policyDomain, queueId));
  }

  async purgeDmarcEvents(beforeDay: string): Promise<number> {
    return this.group.run(() => this.dmarc.purgeBefore(beforeDay));
  }

  async listReceivedDmarcReportsFor(policyDomains: readonly string[], limit: number): Promise<string[]> {
    return this.dmarc.listReceivedFor(policyDomains, limit).map((r) => r.report);
  }

  async setCredentials(accountId: number, creds: StoredCredentials): Promise<void> {
    await this.group.run(() => this.authChange(this.accounts.setCredentials(accountId, creds)));
  }

  async getCredentials(accountId: number): Promise<StoredCredentials | null> {
    return this.accounts.getCredentials(accountId);
  }

  async authGeneration(accountId: number): Promise<number> {
    return this.accounts.authGeneration(accountId);
  }

  /**
   * Counts an auth-relevant change, in its transaction (the `auth_version` row of meta): pollers of
   * authChangeVersion, in any process, see the new version only together with the committed
   * change, and only for such changes. (SQLite's data_version moves with every commit of every
   * other connection: with several worker processes writing mail, every poll would recheck every
   * session.)
   */
  private authChange<T>(result: T): T {
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('auth_version', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1").run();
    return result;
  }

  async authChangeVersion(): Promise<string> {
    const r = this.db.prepare("SELECT value FROM meta WHERE key = 'auth_version'").get() as { value: number } | undefined;
    return String(r?.value ?? 0);
  }

  // TLS public keys.

  async addTlsPubKey(accountId: number, key: NewTlsPubKey): Promise<TlsPubKey> {
    return this.group.run(() => this.keys.add(accountId, key));
  }

  async getTlsPubKey(fingerprint: string): Promise<TlsPubKey | null> {
    return this.keys.get(fingerprint);
  }

  async listTlsPubKeys(accountId?: number): Promise<TlsPubKey[]> {
    return this.keys.list(accountId);
  }

  async updateTlsPubKey(fingerprint: string, change: { name?: string; loginAddress?: string; noImapPreauth?: boolean }): Promise<TlsPubKey> {
    return this.group.run(() => this.authChange(this.keys.update(fingerprint, change)));
  }

  async removeTlsPubKey(fingerprint: string): Promise<void> {
    await this.group.run(() => this.authChange(this.keys.remove(fingerprint)));
  }

  async touchTlsPubKey(fingerprint: string, ip: string, time: Date): Promise<void> {
    await this.group.run(() => this.keys.touch(fingerprint, ip, time));
  }

  // Login attempts.

  async recordLoginAttempt(attempt: LoginAttempt): Promise<void> {
    await this.group.run(() => this.accounts.recordLoginAttempt(attempt));
  }

  async listLoginAttempts(accountId: number, limit: number): Promise<LoginAttempt[]> {
    return this.accounts.listLoginAttempts(accountId, limit);
  }

  // Mailboxes.

  async listMailboxes(accountId: number): Promise<Mailbox[]> {
    return this.mailboxes.list(accountId);
  }

  async getMailbox(accountId: number, name: string): Promise<Mailbox | null> {
    return this.mailboxes.get(accountId, name);
  }

  async inboxId(accountId: number): Promise<number | null> {
    return this.mailboxes.inboxId(accountId);
  }

  async getMailboxById(id: number): Promise<Mailbox | null> {
    return this.mailboxes.getById(id);
  }

  async createMailbox(accountId: number, name: string, specialUse: string | null = null): Promise<Mailbox> {
    const mb = await this.group.run(() => this.mailboxes.create(accountId, name, specialUse));
    this.changes.publish(accountId, [{ kind: 'mailbox-create', mailboxId: mb.id, name: mb.name }]);
    return mb;
  }

  async deleteMailbox(accountId: number, name: string): Promise<void> {
    const mb = await this.group.run(() => {
      const mb = this.mailboxes.require(accountId, name);
      if (mb.name === 'INBOX') throw new StoreError('invalid', 'INBOX cannot be deleted');
      const rows = this.db.prepare('SELECT file_id, size FROM messages WHERE mailbox_id = ?').all(mb.id) as { file_id: number; size: number }[];
      this.queueRemovals(rows.map((r) => r.file_id));
      this.quota.release(accountId, rows.reduce((n, r) => n + r.size, 0));
      this.mailboxes.delete(mb);
      return mb;
    });
    this.changes.publish(accountId, [{ kind: 'mailbox-delete', mailboxId: mb.id, name: mb.name }]);
    await this.finishRemovals();
  }

  async renameMailbox(accountId: number, from: string, to: string): Promise<void> {
    const changes: Change[] = await this.group.run(() => {
      const src = this.mailboxes.require(accountId, from);
      if (src.name === 'INBOX') {
        // RFC 9051 6.3.6: renaming INBOX moves its messages to a new mailbox; INBOX stays, empty.
        const dest = this.mailboxes.create(accountId, to);
        this.metadataRepo.copyMailbox(src.id, dest.id);
        const uids = this.messages.list(src.id).map((m) => m.uid);
        const out: Change[] = [{ kind: 'mailbox-create', mailboxId: dest.id, name: dest.name }];
        if (uids.length) {
          const moved = this.moveTx(src, uids, dest);
          out.push(...moved.changes);
        }
        return out;
      }
      const renamed = this.mailboxes.rename(accountId, from, to);
      const sub = this.db.prepare('UPDATE OR IGNORE subscriptions SET name = ? WHERE account_id = ? AND name = ?');
      for (const r of renamed) sub.run(r.name, accountId, r.oldName);
      return renamed.map((r) => ({ kind: 'mailbox-rename', mailboxId: r.id, name: r.name, oldName: r.oldName }) as Change);
    });
    this.changes.publish(accountId, changes);
  }

  async setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    await this.group.run(() => this.mailboxes.setSubscribed(accountId, name, subscribed));
    this.changes.publish(accountId, [{ kind: 'subscription', name, subscribed }]);
  }

  async listSubscriptions(accountId: number): Promise<string[]> {
    return this.mailboxes.listSubscriptions(accountId);
  }

  async mailboxCounts(mailboxId: number): Promise<MailboxCounts> {
    return this.mailboxes.counts(mailboxId);
  }

  async claimRecent(accountId: number, mailboxId: number, upTo: number): Promise<{ first: number; next: number }> {
    const mb = this.requireMailbox(accountId, mailboxId);
    // Nothing to claim (the common SELECT of a mailbox without new mail): no write at all.
    const seen = Math.min(upTo, mb.uidNext);
    if (mb.firstRecentUid >= seen) return { first: seen, next: seen };
    // Read and raised in one write transaction, so that of all sessions of all processes sharing
    // the store exactly one gets each UID. Committed without waiting for its fsync: a SELECT must
    // not wait for a disk flush for this. The next group commit's fsync covers it; a crash before
    // that makes these messages recent again, which RFC 3501 2.3.2 allows ("the first session to
    // be notified" is then the next one).
    return this.unsyncedAsync(() => this.mailboxes.claimRecent(mailboxId, upTo));
  }

  // Messages.

  async stageBlob(content: Buffer | AsyncIterable<Buffer>, maxSize?: number): Promise<StagedBlob> {
    if (Buffer.isBuffer(content) && content.length <= INLINE_BLOB_MAX) {
      if (maxSize !== undefined && content.length > maxSize) throw new StoreError('toobig', 'message too large');
      return this.inlineStaged(content);
    }
    return this.blobs.stage(content, maxSize);
  }

  private inlineStaged(data: Buffer): StagedBlob {
    return { fileId: this.blobs.allocateId(), size: data.length, inline: data, discard: async () => undefined };
  }

  /** Inside the transaction that commits the rows referencing them: inline contents go in too. */
  private persistInline(blobs: readonly StagedBlob[]): void {
    const ins = this.db.prepare('INSERT INTO blob_inline (file_id, data) VALUES (?, ?)');
    for (const b of blobs) if (b.inline) ins.run(b.fileId, b.inline);
  }

  /** The content of a small message kept in the database, or null when it is a file (store-internal). */
  inlineBlob(fileId: number): Buffer | null {
    const have = this.inlineCache.get(fileId);
    if (have) return have;
    const r = this.db.prepare('SELECT data FROM blob_inline WHERE file_id = ?').get(fileId) as { data: Buffer } | undefined;
    if (!r) return null;
    this.inlineCache.set(fileId, r.data, r.data.length);
    return r.data;
  }

  private requireMailbox(accountId: number, mailboxId: number): Mailbox {
    const mb = this.mailboxes.getById(mailboxId);
    if (!mb || mb.accountId !== accountId) throw notFound('mailbox');
    return mb;
  }

  async appendMessages(accountId: number, mailboxId: number, messages: NewMessage[]): Promise<AppendResult> {
    const result = await this.group.run(() => {
      // In the inserting transaction: two concurrent appends cannot both pass on the old usage.
      this.quota.charge(accountId, messages.reduce((n, m) => n + m.blob.size, 0));
      // MODSEQ and UIDs in one statement: appends are the hot path of delivery and APPEND.
      const slot = this.messages.reserveForAppend(accountId, mailboxId, messages.length);
      if (!slot) {
        // Not the account's mailbox, or the UID space is used up: the long way says which.
        const mb = this.requireMailbox(accountId, mailboxId);
        this.persistInline(messages.map((m) => m.blob));
        const modseq = this.messages.bumpModseq(mb);
        return { uidValidity: mb.uidValidity, uids: this.messages.insert(mb, messages, modseq), modseq };
      }
      this.persistInline(messages.map((m) => m.blob));
      const uids = this.messages.insertRows(mailboxId, slot.firstUid, messages, slot.modseq);
      return { uidValidity: slot.uidValidity, uids, modseq: slot.modseq };
    });
    this.changes.publish(accountId, [{ kind: 'append', mailboxId, uids: result.uids, modseq: result.modseq }]);
    return result;
  }

  async listMessages(mailboxId: number): Promise<MessageMeta[]> {
    return this.messages.list(mailboxId);
  }

  async getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
    return this.messages.get(mailboxId, uids);
  }

  async messageSummaryPage(mailboxId: number, afterUid: number, beforeUid: number, limit: number, each: (m: MessageSummary) => void): Promise<number> {
    return this.messages.summaries(mailboxId, afterUid, beforeUid, limit, each);
  }

  async forEachMessageSortKeys(mailboxId: number, afterUid: number, limit: number, each: (uid: number, keys: string | null) => void): Promise<number> {
    return this.messages.sortKeys(mailboxId, afterUid, limit, each);
  }

  async setMessageCache(messageId: number, cache: string): Promise<void> {
    await this.group.run(() => this.messages.setCache(messageId, cache));
  }

  async readBlob(fileId: number, size?: number): Promise<Buffer> {
    // Small messages may be kept in the database rather than in a file (a primary-key lookup).
    return this.inlineBlob(fileId) ?? this.blobs.read(fileId, size);
  }

  async readBlobRange(fileId: number, offset: number, length: number): Promise<Buffer> {
    const inline = this.inlineBlob(fileId);
    if (inline) return inline.subarray(Math.min(offset, inline.length), Math.min(offset + Math.max(length, 0), inline.length));
    return this.blobs.readRange(fileId, offset, length);
  }

  async *blobChunks(fileId: number, chunkSize = BLOB_CHUNK): AsyncIterable<Buffer> {
    const inline = this.inlineBlob(fileId);
    if (inline) {
      for (let o = 0; o < inline.length; o += chunkSize) yield inline.subarray(o, o + chunkSize);
      return;
    }
    for (let o = 0; ; o += chunkSize) {
      const b = await this.blobs.readRange(fileId, o, chunkSize);
      if (b.length) yield b;
      if (b.length < chunkSize) return;
    }
  }

  /** The path of a message file (store-internal and tests: callers read through readBlob). */
  blobPath(fileId: number): string {
    return this.blobs.path(fileId);
  }

  async storeFlags(accountId: number, mailboxId: number, uids: number[], op: FlagOp, flags: string[], unchangedSince?: number): Promise<StoreFlagsResult> {
    if (uids.length <= FLAGS_CHUNK) return this.storeFlagsOnce(accountId, mailboxId, uids, op, flags, unchangedSince);
    // In chunks, each its own commit (and fsync, during which other sessions run).
    const out: StoreFlagsResult = { updated: [], failedUnchangedSince: [] };
    for (let i = 0; i < uids.length; i += FLAGS_CHUNK) {
      const r = await this.storeFlagsOnce(accountId, mailboxId, uids.slice(i, i + FLAGS_CHUNK), op, flags, unchangedSince);
      for (const u of r.updated) out.updated.push(u);
      for (const u of r.failedUnchangedSince) out.failedUnchangedSince.push(u);
    }
    return out;
  }

  private async storeFlagsOnce(accountId: number, mailboxId: number, uids: number[], op: FlagOp, flags: string[], unchangedSince?: number): Promise<StoreFlagsResult> {
    const r = await this.group.run(() => this.messages.storeFlags(this.requireMailbox(accountId, mailboxId), uids, op, flags, unchangedSince));
    if (r.updated.length) this.changes.publish(accountId, [{ kind: 'flags', mailboxId, updates: r.updated }]);
    return { updated: r.updated, failedUnchangedSince: r.failed };
  }

  async expunge(accountId: number, mailboxId: number, uids: number[] | null): Promise<{ uids: number[]; modseq: number }> {
    if (uids === null || uids.length <= EXPUNGE_CHUNK) return this.expungeOnce(accountId, mailboxId, uids);
    // In chunks, each its own commit (and fsync, during which other sessions run).
    const removed: number[] = [];
    let modseq = 0;
    for (let i = 0; i < uids.length; i += EXPUNGE_CHUNK) {
      const r = await this.expungeOnce(accountId, mailboxId, uids.slice(i, i + EXPUNGE_CHUNK));
      for (const u of r.uids) removed.push(u);
      modseq = Math.max(modseq, r.modseq);
    }
    return { uids: removed.sort((a, b) => a - b), modseq };
  }

  private async expungeOnce(accountId: number, mailboxId: number, uids: number[] | null): Promise<{ uids: number[]; modseq: number }> {
    const r = await this.group.run(() => {
      const mb = this.requireMailbox(accountId, mailboxId);
      const modseq = mb.highestModseq + 1;
      const removed = this.messages.remove(mb, uids, modseq);
      if (removed.uids.length === 0) return { uids: [], modseq: mb.highestModseq };
      this.messages.bumpModseq(mb);
      this.queueRemovals(removed.fileIds);
      this.quota.release(accountId, removed.bytes);
      return { uids: removed.uids, modseq };
    });
    if (r.uids.length) {
      this.changes.publish(accountId, [{ kind: 'expunge', mailboxId, uids: r.uids, modseq: r.modseq }]);
      await this.finishRemovals();
    }
    return r;
  }

  async copyMessages(accountId: number, fromMailboxId: number, uids: number[], toMailboxId: number): Promise<CopyResult> {
    const src = this.requireMailbox(accountId, fromMailboxId);
    this.requireMailbox(accountId, toMailboxId);
    const msgs = this.messages.get(src.id, uids);
    const staged: StagedBlob[] = [];
    try {
      for (const m of msgs) {
        const inline = this.inlineBlob(m.fileId);
        staged.push(inline ? this.inlineStaged(inline) : await this.blobs.link(m.fileId));
      }
      const r = await this.group.run(() => {
        const dest = this.requireMailbox(accountId, toMailboxId);
        const current = new Set(this.messages.get(src.id, msgs.map((m) => m.uid)).map((m) => m.uid));
        const keep = msgs.map((m, i) => ({ m, blob: staged[i]! })).filter((x) => current.has(x.m.uid));
        this.quota.charge(accountId, keep.reduce((n, x) => n + x.blob.size, 0));
        this.persistInline(keep.map((x) => x.blob));
        const modseq = this.messages.bumpModseq(dest);
        const destUids = this.messages.insert(dest, keep.map((x) => ({ blob: x.blob, flags: x.m.flags, internalDate: x.m.internalDate, cache: x.m.cache })), modseq);
        return { uidValidity: dest.uidValidity, sourceUids: keep.map((x) => x.m.uid), destUids, modseq, unused: staged.filter((b) => !keep.some((k) => k.blob === b)) };
      });
      for (const b of r.unused) await b.discard();
      if (r.destUids.length) this.changes.publish(accountId, [{ kind: 'append', mailboxId: toMailboxId, uids: r.destUids, modseq: r.modseq, fromMailboxId: src.id }]);
      return { uidValidity: r.uidValidity, sourceUids: r.sourceUids, destUids: r.destUids };
    } catch (err) {
      for (const b of staged) await b.discard();
      throw err;
    }
  }

  /** A move inside the caller's transaction: rows change mailbox, files stay. */
  private moveTx(src: Mailbox, uids: number[], dest: Mailbox): { result: CopyResult; changes: Change[] } {
    const msgs = this.messages.get(src.id, uids);
    if (msgs.length === 0) return { result: { uidValidity: dest.uidValidity, sourceUids: [], destUids: [] }, changes: [] };
    const destModseq = this.messages.bumpModseq(dest);
    const srcModseq = this.messages.bumpModseq(this.mailboxes.getById(src.id)!);
    const cur = this.db.prepare('SELECT uidnext FROM mailboxes WHERE id = ?').get(dest.id) as { uidnext: number };
    let uid = cur.uidnext;
    const update = this.db.prepare('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, save_date = ? WHERE id = ?');
    const tomb = this.db.prepare('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
    const now = Date.now();
    const destUids: number[] = [];
    for (const m of msgs) {
      update.run(dest.id, uid, destModseq, now, m.id);
      tomb.run(src.id, m.uid, srcModseq);
      destUids.push(uid++);
    }
    this.db.prepare('UPDATE mailboxes SET uidnext = ? WHERE id = ?').run(uid, dest.id);
    const sourceUids = msgs.map((m) => m.uid);
    return {
      result: { uidValidity: dest.uidValidity, sourceUids, destUids },
      changes: [
        { kind: 'append', mailboxId: dest.id, uids: destUids, modseq: destModseq, fromMailboxId: src.id },
        { kind: 'expunge', mailboxId: src.id, uids: [...sourceUids].sort((a, b) => a - b), modseq: srcModseq },
      ],
    };
  }

  async moveMessages(accountId: number, fromMailboxId: number, uids: number[], toMailboxId: number): Promise<CopyResult> {
    const r = await this.group.run(() => this.moveTx(this.requireMailbox(accountId, fromMailboxId), uids, this.requireMailbox(accountId, toMailboxId)));
    this.changes.publish(accountId, r.changes);
    return r.result;
  }

  async replaceMessage(accountId: number, fromMailboxId: number, uid: number, toMailboxId: number, message: NewMessage): Promise<ReplaceResult> {
    const r = await this.group.run(() => {
      const src = this.requireMailbox(accountId, fromMailboxId);
      const dest = this.requireMailbox(accountId, toMailboxId);
      // Expunge first, so that the quota is charged only the difference (RFC 8508 3.4).
      const expungeModseq = this.messages.bumpModseq(src);
      const removed = this.messages.remove(src, [uid], expungeModseq);
      if (removed.uids.length === 0) throw new StoreError('notfound', 'the message to replace has been expunged');
      this.queueRemovals(removed.fileIds);
      this.quota.release(accountId, removed.bytes);
      this.quota.charge(accountId, message.blob.size);
      this.persistInline([message.blob]);
      const modseq = this.messages.bumpModseq(dest);
      const [newUid] = this.messages.insert(dest, [message], modseq);
      return { uidValidity: dest.uidValidity, uid: newUid!, modseq, expungeModseq };
    });
    this.changes.publish(accountId, [
      { kind: 'expunge', mailboxId: fromMailboxId, uids: [uid], modseq: r.expungeModseq },
      { kind: 'append', mailboxId: toMailboxId, uids: [r.uid], modseq: r.modseq },
    ]);
    await this.finishRemovals();
    return r;
  }

  async expungedSince(mailboxId: number, modseq: number): Promise<number[]> {
    return this.messages.expungedSince(mailboxId, modseq);
  }

  // Outbound queue.

  async enqueue(accountId: number | null, sender: string, recipients: string[], blob: StagedBlob, opts?: { isDsn?: boolean; requireTls?: boolean; isReport?: boolean }): Promise<QueueMessage> {
    const id = await this.group.run(() => {
      this.persistInline([blob]);
      return this.queue.insert(accountId, sender, recipients, blob.fileId, blob.size, { isDsn: opts?.isDsn ?? false, requireTls: opts?.requireTls ?? false, isReport: opts?.isReport ?? false });
    });
    return this.queue.get(id)!;
  }

  async listQueue(): Promise<QueueMessage[]> {
    return this.queue.list();
  }

  async getQueueMessage(id: number): Promise<QueueMessage | null> {
    return this.queue.get(id);
  }

  async getMtaStsPolicy(domain: string): Promise<MtaStsCacheEntry | null> {
    return this.tlsPolicies.getMtaSts(domain);
  }

  async listMtaStsPolicies(): Promise<MtaStsCacheEntry[]> {
    return this.tlsPolicies.listMtaSts();
  }

  async putMtaStsPolicy(entry: MtaStsCacheEntry): Promise<void> {
    await this.group.run(() => this.tlsPolicies.putMtaSts(entry));
  }

  async deleteMtaStsPolicy(domain: string): Promise<void> {
    await this.group.run(() => this.tlsPolicies.deleteMtaSts(domain));
  }

  async addTlsResults(results: { key: TlsResultKey; count: number }[]): Promise<void> {
    if (results.length === 0) return;
    await this.group.run(() => results.forEach((r) => this.tlsPolicies.addResult(r.key, r.count)));
  }

  async listTlsResults(day: string, policyDomain?: string): Promise<TlsResultCount[]> {
    return this.tlsPolicies.listResults(day, policyDomain);
  }

  async addTlsReport(r: StoredTlsReport): Promise<void> {
    await this.group.run(() => this.tlsPolicies.addReport(r));
  }

  async listTlsReports(policyDomain?: string, day?: string): Promise<StoredTlsReport[]> {
    return this.tlsPolicies.listReports(policyDomain, day);
  }

  async listTlsResultDays(): Promise<string[]> {
    return this.tlsPolicies.resultDays();
  }

  async deleteTlsResultsBefore(day: string): Promise<void> {
    await this.group.run(() => this.tlsPolicies.pruneResults(day));
  }

  async dueQueueRecipients(now: Date): Promise<QueueRecipient[]> {
    return this.queue.due(now);
  }

  async leaseQueueRecipients(ids: readonly number[], owner: string, now: Date, until: Date): Promise<number[]> {
    return this.unsyncedAsync(() => this.queue.lease(ids, owner, now.getTime(), until.getTime()));
  }

  async renewQueueLeases(ids: readonly number[], owner: string, until: Date): Promise<number[]> {
    return this.unsyncedAsync(() => this.queue.renew(ids, owner, until.getTime()));
  }

  async releaseQueueLeases(ids: readonly number[], owner: string): Promise<void> {
    await this.unsyncedAsync(() => this.queue.release(ids, owner));
  }

  async queueLeaseOwners(now: Date): Promise<string[]> {
    return this.queue.owners(now.getTime());
  }

  async releaseAllQueueLeases(owner: string): Promise<number> {
    return this.unsyncedAsync(() => this.queue.releaseAll(owner));
  }

  async updateQueueRecipient(id: number, change: { state?: QueueRecipient['state']; attempts?: number; nextAttempt?: Date; lastError?: string | null }, leaseOwner?: string): Promise<boolean> {
    return this.group.run(() => this.queue.updateRecipient(id, change, leaseOwner));
  }

  async dropQueueMessage(id: number): Promise<void> {
    await this.group.run(() => {
      const fileId = this.queue.remove(id);
      if (fileId === null) throw notFound(`queue message ${id}`);
      this.queueRemovals([fileId]);
    });
    await this.finishRemovals();
  }

  // Web sessions.

  async createWebSession(tokenHash: Buffer, session: NewWebSession, limits: WebSessionLimits): Promise<void> {
    await this.group.run(() => this.webSessions.create(tokenHash, session, limits));
  }

  async getWebSession(tokenHash: Buffer, now: number, limits: WebSessionLimits): Promise<WebSessionRecord | null> {
    const s = this.webSessions.get(tokenHash);
    if (!s) return null;
    if (now - s.lastUsed > limits.idleMs || now - s.created > limits.maxAgeMs) {
      // Not waited for on disk: the session is refused either way, and a lost delete is redone.
      this.unsynced(() => this.webSessions.delete(tokenHash, s.generation));
      return null;
    }
    if (now - s.lastUsed >= limits.touchAfterMs) {
      // Nor this: a request must not wait for a disk flush to record that it came; a crash loses
      // at most a minute of idle time.
      this.unsynced(() => this.webSessions.touch(tokenHash, now));
      s.lastUsed = now;
    }
    return s;
  }

  async deleteWebSession(tokenHash: Buffer, generation?: number): Promise<void> {
    await this.group.run(() => this.webSessions.delete(tokenHash, generation));
  }

  async endOtherWebSessions(accountId: number, keep: Buffer | null, generation: number | null): Promise<void> {
    await this.group.run(() => this.webSessions.endOthers(accountId, keep, generation));
  }

  async countWebSessions(): Promise<number> {
    return this.webSessions.count();
  }

  async secret(name: string): Promise<Buffer> {
    return this.group.run(() => {
      const r = this.db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as { value: Buffer } | undefined;
      if (r) return r.value;
      const value = randomBytes(32);
      this.db.prepare('INSERT INTO secrets (name, value) VALUES (?, ?)').run(name, value);
      return value;
    });
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // Every file this process staged is committed or discarded by now: its blocks need no recovery.
    const del = this.db.prepare('DELETE FROM blob_blocks WHERE start = ?');
    await this.checkpointer?.stop();
    try {
      this.group.flushAll();
      this.tx(() => this.myBlocks.forEach((s) => del.run(s)));
      for (const s of this.myBlocks) blocksOfThisProcess.delete(s);
    } finally {
      this.inlineCache.clear();
      this.db.close();
      this.walSync.close();
    }
  }
}
