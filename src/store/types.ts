// The storage interface. Protocol code (IMAP, SMTP, web, CLI) reaches data only through `Store`.
// Every method is async so that a PostgreSQL implementation can be added behind the same interface;
// the SQLite implementation (store/sqlite/) answers synchronously inside.
//
// Invariants every implementation keeps:
// - A message is visible only after its content file is fsynced (file and directory) and the row is
//   committed; a content file is removed only after the commit that expunged its last row.
// - UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ never go backwards, also across restarts and crashes.
// - Every state change (append, flags, expunge, copy/move, mailbox create/rename/delete) is one
//   transaction, and is published on the change feed only after it committed.
// - An account's quota usage changes in the transaction that adds or removes its messages; a
//   transaction that would take it over the limit fails with StoreError 'overquota' and commits
//   nothing (appendMessages, copyMessages; a move within the account changes no usage).

import type { ChangeFeed } from './change-feed.js';

export interface Domain {
  id: number;
  name: string;
}

export interface Account {
  id: number;
  name: string;
  /** Null when logins are allowed; otherwise the reason shown to the user. */
  loginDisabled: string | null;
  created: Date;
}

/** An account's quota: bytes, null for no limit, or 'default' for the server's default. */
export type QuotaSetting = number | null | 'default';

export interface QuotaUsage {
  /** Bytes of the account's messages (all mailboxes). */
  used: number;
  /** The limit in force in bytes (the account's own or the default); null for none. */
  limit: number | null;
  /** What the account has set. */
  setting: QuotaSetting;
}

export interface Address {
  address: string;
  accountId: number;
  accountName: string;
}

/** Opaque to the store: written and read by src/auth/password.ts. */
export type StoredCredentials = object;

export interface TlsPubKey {
  /** SHA-256 of the SubjectPublicKeyInfo DER, base64url without padding. */
  fingerprint: string;
  type: string;
  name: string;
  accountId: number;
  accountName: string;
  loginAddress: string;
  noImapPreauth: boolean;
  certDer: Buffer;
  created: Date;
  lastUsed: Date | null;
  lastUsedIp: string | null;
}

export interface NewTlsPubKey {
  fingerprint: string;
  type: string;
  name: string;
  loginAddress: string;
  noImapPreauth: boolean;
  certDer: Buffer;
}

export interface LoginAttempt {
  time: Date;
  accountId: number | null;
  address: string;
  mechanism: string;
  keyFingerprint: string | null;
  protocol: string;
  ip: string;
  result: string;
}

export interface Mailbox {
  id: number;
  accountId: number;
  /** Full hierarchical name in UTF-8 with '/' as separator; the inbox is always "INBOX". */
  name: string;
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  created: Date;
  /** Messages from this UID on are \Recent: no session has claimed them yet (RFC 3501 2.3.2). */
  firstRecentUid: number;
}

export interface MailboxCounts {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
  recent: number;
}

export interface MessageMeta {
  id: number;
  mailboxId: number;
  uid: number;
  modseq: number;
  /** System flags (\Seen ...) and keywords, as given, order kept. */
  flags: string[];
  internalDate: Date;
  saveDate: Date;
  size: number;
  fileId: number;
  /** JSON produced by the caller at append time (the parsed MIME structure); opaque to the store. */
  cache: string | null;
}

/** A message's row without its cache, as a session keeps it for the selected mailbox. */
export interface MessageSummary {
  id: number;
  uid: number;
  modseq: number;
  /** Flags as stored: space-separated, "" for none. */
  flags: string;
  /** Milliseconds since the epoch. */
  internalDate: number;
  saveDate: number;
  size: number;
  fileId: number;
}

export interface NewMessage {
  blob: StagedBlob;
  flags: string[];
  internalDate: Date;
  cache: string | null;
}

export interface AppendResult {
  uidValidity: number;
  uids: number[];
  modseq: number;
}

/** replaceMessage: the new message's place, and the expunge of the one it replaced. */
export interface ReplaceResult {
  uidValidity: number;
  uid: number;
  modseq: number;
  expungeModseq: number;
}

export type FlagOp = 'set' | 'add' | 'remove';

export interface FlagUpdate {
  uid: number;
  flags: string[];
  modseq: number;
}

export interface StoreFlagsResult {
  updated: FlagUpdate[];
  /** UIDs left alone because their MODSEQ was above UNCHANGEDSINCE (RFC 7162 3.1.3). */
  failedUnchangedSince: number[];
}

export interface CopyResult {
  uidValidity: number;
  sourceUids: number[];
  destUids: number[];
}

/** A content file written and fsynced, not yet referenced by a committed row. */
/** Contents up to this size given to stageBlob as one buffer are kept in the database (the SQLite
 * store), not in a file: a commit's WAL fsync makes them durable, where a file costs an fsync of
 * its own and one of its directory. Callers that can gather a small message whole do so. */
export const INLINE_BLOB_MAX = 64 * 1024;

/**
 * Bytes of inline contents (above) each process keeps in memory once read, so that repeated FETCHes
 * of small messages do not go to the database (whose page cache another process's commit empties).
 * A content never changes for its file id; contents in files are left to the OS page cache.
 */
export const INLINE_CACHE_MAX = 32 * 1024 * 1024;

export interface StagedBlob {
  readonly fileId: number;
  readonly size: number;
  /** A small message kept in the database instead of a file: written, and made durable, by the
   * commit of the row that references it. */
  readonly inline?: Buffer;
  /** Removes the file when the message was not committed after all. */
  discard(): Promise<void>;
}

export interface QueueMessage {
  id: number;
  accountId: number | null;
  sender: string;
  fileId: number;
  size: number;
  created: Date;
  /** Set for messages that are DSNs themselves: no DSN is ever sent about them. */
  isDsn: boolean;
  /** RFC 8689 REQUIRETLS: relay only over verified TLS. */
  requireTls: boolean;
  /** A report Postern sends (TLS-RPT, DMARC aggregate): the sessions delivering it are not
   * counted for TLS-RPT (RFC 8460 5.3). */
  isReport: boolean;
  recipients: QueueRecipient[];
}

export interface QueueRecipient {
  id: number;
  messageId: number;
  address: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttempt: Date;
  lastError: string | null;
}

/** A fetched MTA-STS policy (RFC 8461 3.2) as cached: its text is parsed again when used. */
export interface MtaStsCacheEntry {
  domain: string;
  /** The id of the _mta-sts TXT record the policy was fetched for. */
  policyId: string;
  policyText: string;
  fetched: Date;
  /** fetched + max_age. */
  expires: Date;
}

/** What one TLS-RPT counter is about (RFC 8460 4.4: policy, then per-failure details). */
export interface TlsResultKey {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  policyDomain: string;
  policyType: 'sts' | 'tlsa' | 'no-policy-found';
  policyString: string[];
  mxHost: string;
  receivingIp: string;
  /** 'success' or an RFC 8460 4.3 result type. */
  resultType: string;
}

/** A received TLS-RPT report, its JSON as sent. */
export interface StoredTlsReport {
  policyDomain: string;
  day: string;
  organization: string;
  reportId: string;
  json: string;
}

export interface TlsResultCount extends TlsResultKey {
  count: number;
}

export interface JunkAccountState {
  /** The account's spam threshold (0..1); null for the server default. */
  threshold: number | null;
  spamMessages: number;
  hamMessages: number;
  /** Existing mail has been trained once (first use). */
  seeded: boolean;
  /** Raised by every training and pruning: a model held in memory at another version is stale
   * (another process trained the account). */
  version: number;
}

export interface JunkTrainResult {
  /** False when the message was already trained as this class. */
  changed: boolean;
  /** It had been trained as the other class, and that was undone. */
  untrained: boolean;
  /** The account's model version after this training (unchanged when `changed` is false). */
  version: number;
}

/** One row of a DMARC aggregate report (RFC 7489 7.2, <record>): messages alike, counted. */
export interface DmarcEvent {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  policyDomain: string;
  sourceIp: string;
  headerFrom: string;
  envelopeFrom: string;
  disposition: 'none' | 'quarantine' | 'reject';
  /** Aligned results as DMARC evaluated them. */
  dkim: 'pass' | 'fail';
  spf: 'pass' | 'fail';
  /** JSON: the underlying SPF and DKIM results (<auth_results>). */
  auth: string;
  /** JSON: the published policy (dmarc/record-tags.ts). */
  policy: string;
  count: number;
}

/** What an account did with one sender key ("a:address", "d:domain", "n:network"). */
export interface JunkReputation {
  key: string;
  /** Messages the user wrote to it (saved in Sent). */
  wrote: number;
  /** Messages from it kept (trained as ham) and junked (trained as spam). */
  ham: number;
  spam: number;
}

/** The junk filter's per-account statistics (src/junk). */
export interface JunkStats {
  state(accountId: number): Promise<JunkAccountState>;
  /** Every token as [hash, spam, ham]; read synchronously in one go by the model loader. */
  tokens(accountId: number): Promise<[number, number, number][]>;
  /** The state and every token, read together (one snapshot: the tokens are those of `version`). */
  model(accountId: number): Promise<{ state: JunkAccountState; tokens: [number, number, number][] }>;
  tokenCount(accountId: number): Promise<number>;
  train(accountId: number, digest: string, spam: boolean, tokens: readonly number[]): Promise<JunkTrainResult>;
  prune(accountId: number): Promise<number>;
  setThreshold(accountId: number, threshold: number | null): Promise<void>;
  /** Marks the account seeded; false when it already was (another process is seeding it). */
  markSeeded(accountId: number): Promise<boolean>;
  reputation(accountId: number, keys: readonly string[]): Promise<JunkReputation[]>;
  bumpReputation(accountId: number, keys: readonly string[], field: 'wrote' | 'ham' | 'spam', delta: number, max: number): Promise<void>;
}

/** A web login session as stored (times in ms since the epoch). */
export interface WebSessionRecord {
  accountId: number;
  accountName: string;
  /** The address the user logged in with. */
  address: string;
  csrfToken: string;
  /** The account's auth generation at login (see authGeneration). */
  generation: number;
  created: number;
  /** Written at most once per `touchAfterMs`: it may lag behind the last request by that much. */
  lastUsed: number;
}

export type NewWebSession = Omit<WebSessionRecord, 'accountName' | 'lastUsed'>;

/** Web session limits, the caller's (src/web/limits.ts), enforced by the store. */
export interface WebSessionLimits {
  maxSessions: number;
  maxPerAccount: number;
  idleMs: number;
  maxAgeMs: number;
  /** last_used is written when it is at least this old: not a write per request. */
  touchAfterMs: number;
}

/** One METADATA entry (RFC 5464 3): a lower-case /private or /shared name and its octets. */
export interface MetadataEntry {
  name: string;
  value: Buffer;
}

/** How far below each requested name GETMETADATA reaches (RFC 5464 4.2.2). */
export type MetadataDepth = 0 | 1 | 'infinity';

export interface MetadataSetLimits {
  /** Entries on the server or one mailbox. */
  maxEntries: number;
  /** Octets of names and values of all the account's entries. */
  maxAccountBytes: number;
}

/** toomany: the change would pass maxEntries or maxAccountBytes; nothing was changed. */
export type MetadataSetResult = { ok: true } | { ok: false; reason: 'toomany' };

/**
 * METADATA annotations of an account: server entries (mailbox null) and mailbox entries. Mailbox
 * entries go with the mailbox: removed when it is deleted, kept when it is renamed. A mailbox name
 * that does not exist is StoreError notfound.
 */
export interface MetadataStore {
  /** Entries named in `names`, each followed by those below it to `depth` (by name); each entry once. */
  get(accountId: number, mailbox: string | null, names: readonly string[], depth: MetadataDepth): Promise<MetadataEntry[]>;
  /** Sets (value) or removes (null) entries, all or none. */
  set(accountId: number, mailbox: string | null, changes: readonly { name: string; value: Buffer | null }[], limits: MetadataSetLimits): Promise<MetadataSetResult>;
}

/**
 * URLAUTH mailbox access keys (RFC 4467 2.2): a random secret of at least 128 bits per mailbox and
 * mechanism (upper case, e.g. INTERNAL), kept with the mailbox (removed with it). Secret: callers
 * use a key to compute or check a token and never log, show or store it elsewhere.
 */
export interface UrlauthKeyStore {
  /** The mailbox's key; with `create`, one is made (durably) when there is none; else null. */
  key(accountId: number, mailboxId: number, mechanism: string, create: boolean): Promise<Buffer | null>;
  /** RESETKEY mailbox: a new key replaces the old one, so every URL made with it fails. */
  resetKey(accountId: number, mailboxId: number, mechanism: string): Promise<void>;
  /** RESETKEY without arguments: removes every key of the account. */
  resetAll(accountId: number): Promise<void>;
}

export interface Store {
  readonly changes: ChangeFeed;
  readonly junk: JunkStats;
  readonly metadata: MetadataStore;
  readonly urlauthKeys: UrlauthKeyStore;

  // Domains, accounts, addresses.
  listDomains(): Promise<Domain[]>;
  /** Creates the account, its first address (adding the domain if new) and the default mailboxes. */
  createAccount(name: string, address: string): Promise<Account>;
  deleteAccount(name: string): Promise<void>;
  getAccount(name: string): Promise<Account | null>;
  getAccountById(id: number): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  setLoginDisabled(name: string, reason: string | null): Promise<void>;
  addAddress(accountName: string, address: string): Promise<Address>;
  /** Storage quota (RFC 9208 STORAGE, in bytes here). */
  getQuota(accountId: number): Promise<QuotaUsage>;
  setQuota(accountName: string, setting: QuotaSetting): Promise<void>;
  /** IMAP capabilities (upper case) hidden from the account's sessions after login. */
  getHiddenCapabilities(accountId: number): Promise<string[]>;
  setHiddenCapabilities(accountName: string, capabilities: string[]): Promise<void>;
  removeAddress(address: string): Promise<void>;
  lookupAddress(address: string): Promise<Address | null>;
  listAddresses(accountId: number): Promise<Address[]>;
  isLocalDomain(domain: string): Promise<boolean>;
  /** Both answers a recipient needs (RCPT): whether `domain` (A-labels) is ours, and the account
   * address `address` (local@domain) when it exists. */
  lookupRecipient(address: string, domain: string): Promise<{ localDomain: boolean; address: Address | null }>;
  /** From domains (lower-case A-labels) whose DMARC failures are not enforced for the account. */
  listDmarcExceptions(accountId: number): Promise<string[]>;
  setDmarcException(accountId: number, domain: string, on: boolean): Promise<void>;
  /** Counts one incoming message's DMARC evaluation for the aggregate report. */
  recordDmarcEvent(e: Omit<DmarcEvent, 'count'>): Promise<void>;
  dmarcEvents(day: string, policyDomain: string | null): Promise<DmarcEvent[]>;
  /** Whether the day's aggregate report to the domain was handed to the queue (or skipped). */
  dmarcReportSent(day: string, policyDomain: string): Promise<boolean>;
  /** Also drops the day's rows of the domain (they are in the report now). */
  markDmarcReportSent(day: string, policyDomain: string, queueId: number | null): Promise<void>;
  /** Drops the rows (and sent-marks) of days before `beforeDay`, reported or not; returns the rows dropped. */
  purgeDmarcEvents(beforeDay: string): Promise<number>;
  /** Aggregate reports others sent to our report addresses; `report` is the parsed report as JSON. */
  addReceivedDmarcReport(r: { orgName: string; reportId: string; policyDomain: string; begin: number; end: number; report: string }): Promise<boolean>;
  listReceivedDmarcReports(policyDomain: string | null): Promise<string[]>;
  /** The newest `limit` of those of the given policy domains only (an account's domains), newest first. */
  listReceivedDmarcReportsFor(policyDomains: readonly string[], limit: number): Promise<string[]>;

  // Credentials (spec 3.3); setting them bumps the account's auth generation (live sessions end).
  setCredentials(accountId: number, creds: StoredCredentials): Promise<void>;
  getCredentials(accountId: number): Promise<StoredCredentials | null>;
  /** Changes whenever login-disabled or credentials of the account change (revocation). */
  authGeneration(accountId: number): Promise<number>;
  /**
   * A value that changes after any commit that may affect authentication, in this process or
   * another one sharing the data (the CLI, other workers), and not after other commits: polled to
   * end revoked sessions (spec 2.5).
   */
  authChangeVersion(): Promise<string>;

  // TLS public keys (spec 2.1).
  addTlsPubKey(accountId: number, key: NewTlsPubKey): Promise<TlsPubKey>;
  getTlsPubKey(fingerprint: string): Promise<TlsPubKey | null>;
  listTlsPubKeys(accountId?: number): Promise<TlsPubKey[]>;
  updateTlsPubKey(
    fingerprint: string,
    change: { name?: string; loginAddress?: string; noImapPreauth?: boolean },
  ): Promise<TlsPubKey>;
  removeTlsPubKey(fingerprint: string): Promise<void>;
  touchTlsPubKey(fingerprint: string, ip: string, time: Date): Promise<void>;

  // Login attempts (spec 3.4).
  recordLoginAttempt(attempt: LoginAttempt): Promise<void>;
  listLoginAttempts(accountId: number, limit: number): Promise<LoginAttempt[]>;

  // Mailboxes.
  listMailboxes(accountId: number): Promise<Mailbox[]>;
  getMailbox(accountId: number, name: string): Promise<Mailbox | null>;
  /** The id of the account's INBOX, null when the account has none: a delivery's only question
   * about it, without the rest of the mailbox. */
  inboxId(accountId: number): Promise<number | null>;
  getMailboxById(id: number): Promise<Mailbox | null>;
  createMailbox(accountId: number, name: string, specialUse?: string | null): Promise<Mailbox>;
  /** Deletes the mailbox and its messages (RFC 9051 6.3.4); the caller checks \Noselect rules. */
  deleteMailbox(accountId: number, name: string): Promise<void>;
  /** Renames the mailbox and its children; renaming INBOX moves its messages to a new mailbox. */
  renameMailbox(accountId: number, from: string, to: string): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void>;
  /** Subscriptions are kept by name, also for mailboxes that do not exist (RFC 9051 6.3.7). */
  listSubscriptions(accountId: number): Promise<string[]>;
  mailboxCounts(mailboxId: number): Promise<MailboxCounts>;
  /**
   * \Recent for the session that selects the mailbox read-write (RFC 3501 2.3.2): the messages from
   * `first` to before `next` (at most `upTo`, the UIDs the session knows of) are recent for it
   * alone; later sessions see them as not recent. The claim is kept, so a restart does not make
   * old mail recent again.
   */
  claimRecent(accountId: number, mailboxId: number, upTo: number): Promise<{ first: number; next: number }>;

  // Messages.
  /** Writes content to a file and fsyncs it (and its directory); nothing is visible yet. */
  stageBlob(content: Buffer | AsyncIterable<Buffer>, maxSize?: number): Promise<StagedBlob>;
  appendMessages(accountId: number, mailboxId: number, messages: NewMessage[]): Promise<AppendResult>;
  listMessages(mailboxId: number): Promise<MessageMeta[]>;
  getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]>;
  /**
   * Calls `each` for up to `limit` of the mailbox's messages with afterUid < UID < beforeUid, in UID
   * order, without cache, flags unsplit, dates as numbers; returns how many it gave (fewer than
   * `limit`: the end). One page is bounded work: a SELECT of a big mailbox reads it page by page,
   * with turns for other sessions in between. `each` must not call the store.
   */
  messageSummaryPage(mailboxId: number, afterUid: number, beforeUid: number, limit: number, each: (m: MessageSummary) => void): Promise<number>;
  /**
   * Calls `each` with the UID and the SORT/THREAD keys of up to `limit` of the mailbox's messages
   * with UIDs above `afterUid`, in UID order: the "sort" member of the message's cache as JSON, null
   * when the cache has none (not built yet, or by an older version). Returns how many it gave (fewer
   * than `limit`: the end). Pages, so a big mailbox is read in turns. `each` must not call the store.
   */
  forEachMessageSortKeys(mailboxId: number, afterUid: number, limit: number, each: (uid: number, keys: string | null) => void): Promise<number>;
  /**
   * The content of a message or queued message. `size` (the row's), when the caller has it, lets
   * the store read it in one go. Content that is gone: StoreError 'contentmissing'. The buffers
   * this and the two below give may be shared with the store's cache (INLINE_CACHE_MAX): read only.
   */
  readBlob(fileId: number, size?: number): Promise<Buffer>;
  /**
   * Bytes [offset, offset + length) of a content, fewer at its end (a partial FETCH of a big
   * message reads what it sends, not the whole file). Gone: StoreError 'contentmissing'.
   */
  readBlobRange(fileId: number, offset: number, length: number): Promise<Buffer>;
  /** A content in pieces of at most `chunkSize` bytes, for contents too big to hold at once. */
  blobChunks(fileId: number, chunkSize?: number): AsyncIterable<Buffer>;
  /**
   * Stores the parsed-structure cache of a message stored without one (built on first use). A
   * cache: written with the next group commit, and callers need not wait for it.
   */
  setMessageCache(messageId: number, cache: string): Promise<void>;
  /** Changes flags; a long list in several transactions, as for expunge (each published as it commits). */
  storeFlags(
    accountId: number,
    mailboxId: number,
    uids: number[],
    op: FlagOp,
    flags: string[],
    unchangedSince?: number,
  ): Promise<StoreFlagsResult>;
  /**
   * Expunges the given UIDs (or all \Deleted when uids is null) and returns the UIDs removed. A long
   * list is expunged in several transactions (each published as it commits, each with its MODSEQ,
   * the last one returned), so that no commit holds the process for long.
   */
  expunge(accountId: number, mailboxId: number, uids: number[] | null): Promise<{ uids: number[]; modseq: number }>;
  copyMessages(accountId: number, fromMailboxId: number, uids: number[], toMailboxId: number): Promise<CopyResult>;
  moveMessages(accountId: number, fromMailboxId: number, uids: number[], toMailboxId: number): Promise<CopyResult>;
  /**
   * RFC 8508 REPLACE: in one transaction, expunges `uid` from the first mailbox and appends the new
   * message to the second (which may be the same): both happen or neither. The quota sees only the
   * net change. StoreError 'notfound' when the message is gone (expunged meanwhile).
   */
  replaceMessage(accountId: number, fromMailboxId: number, uid: number, toMailboxId: number, message: NewMessage): Promise<ReplaceResult>;
  /** UIDs expunged after `modseq` (RFC 7162 QRESYNC VANISHED (EARLIER)). */
  expungedSince(mailboxId: number, modseq: number): Promise<number[]>;

  // Outbound queue (spec 6).
  enqueue(
    accountId: number | null,
    sender: string,
    recipients: string[],
    blob: StagedBlob,
    opts?: { isDsn?: boolean; requireTls?: boolean; isReport?: boolean },
  ): Promise<QueueMessage>;
  listQueue(): Promise<QueueMessage[]>;
  getQueueMessage(id: number): Promise<QueueMessage | null>;
  /** Pending recipients whose next attempt is due and that no queue runner holds a lease on. */
  dueQueueRecipients(now: Date): Promise<QueueRecipient[]>;
  /**
   * Leases recipients to the runner `owner` until `until`: those of `ids` still pending, due at
   * `now`, and not leased by anyone (or whose lease expired). One transaction, so of several
   * runners sharing the store exactly one gets each. Returns the ids leased.
   */
  leaseQueueRecipients(ids: readonly number[], owner: string, now: Date, until: Date): Promise<number[]>;
  /** Extends `owner`'s leases on `ids` to `until`; returns the ids it still holds. */
  renewQueueLeases(ids: readonly number[], owner: string, until: Date): Promise<number[]>;
  /** Gives up `owner`'s leases on `ids` (an attempt that ended without a result). */
  releaseQueueLeases(ids: readonly number[], owner: string): Promise<void>;
  /** The owners of leases still running at `now`. */
  queueLeaseOwners(now: Date): Promise<string[]>;
  /** Ends every lease of `owner` (a runner known to be dead); returns how many. */
  releaseAllQueueLeases(owner: string): Promise<number>;
  /**
   * Records a recipient's new state. With `leaseOwner`: only while that runner holds its lease
   * (which this ends), and returns false when another runner took it over; without (the CLI),
   * the lease is left as it is.
   */
  updateQueueRecipient(
    id: number,
    change: { state?: QueueRecipient['state']; attempts?: number; nextAttempt?: Date; lastError?: string | null },
    leaseOwner?: string,
  ): Promise<boolean>;
  /** Removes a queue message and, after commit, its file. */
  dropQueueMessage(id: number): Promise<void>;

  // Outbound TLS policies (RFC 8461 MTA-STS cache, RFC 8460 TLS-RPT counters).
  getMtaStsPolicy(domain: string): Promise<MtaStsCacheEntry | null>;
  listMtaStsPolicies(): Promise<MtaStsCacheEntry[]>;
  putMtaStsPolicy(entry: MtaStsCacheEntry): Promise<void>;
  deleteMtaStsPolicy(domain: string): Promise<void>;
  addTlsResults(results: { key: TlsResultKey; count: number }[]): Promise<void>;
  listTlsResults(day: string, policyDomain?: string): Promise<TlsResultCount[]>;
  /** A TLS report another sender mailed to us (RFC 8460); one with a known organization and
   * report id is ignored. */
  addTlsReport(r: StoredTlsReport): Promise<void>;
  listTlsReports(policyDomain?: string, day?: string): Promise<StoredTlsReport[]>;
  /** Days (YYYY-MM-DD) that have TLS result counts, oldest first. */
  listTlsResultDays(): Promise<string[]>;
  /** Forgets the counts of days before `day` (their reports went out). */
  deleteTlsResultsBefore(day: string): Promise<void>;

  // Web login sessions (spec 9), keyed by the SHA-256 of the cookie token, shared by every process.
  /** Adds a session; expired ones are purged, and the least recently used ones of the account and
   * of all make room past the limits, in the same transaction. */
  createWebSession(tokenHash: Buffer, session: NewWebSession, limits: WebSessionLimits): Promise<void>;
  /** The session if it is live at `now` (and records its use, at most once per touchAfterMs);
   * an expired one is removed. */
  getWebSession(tokenHash: Buffer, now: number, limits: WebSessionLimits): Promise<WebSessionRecord | null>;
  /** Removes a session; with `generation`, only while it still has that auth generation. */
  deleteWebSession(tokenHash: Buffer, generation?: number): Promise<void>;
  /** Ends every session of the account but `keep` (if given), which moves to `generation`. */
  endOtherWebSessions(accountId: number, keep: Buffer | null, generation: number | null): Promise<void>;
  countWebSessions(): Promise<number>;

  /** A secret stored in the database, created on first use (e.g. fake SCRAM salts, cookie keys). */
  secret(name: string): Promise<Buffer>;

  close(): Promise<void>;
}
