// Change feed: after a commit that changes an account's mailboxes or messages, the change is handed to
// every subscriber of that account (the account's other sessions), in every process: with several
// workers, cluster/change-feed.ts carries each batch to the others over the cluster bus, whose
// transport (IPC today, PostgreSQL LISTEN/NOTIFY later) the subscribers never see.

export type Change =
  | { kind: 'append'; mailboxId: number; uids: number[]; modseq: number; /** Set for COPY and MOVE: where they came from. */ fromMailboxId?: number }
  | { kind: 'flags'; mailboxId: number; updates: { uid: number; flags: string[]; modseq: number }[] }
  | { kind: 'expunge'; mailboxId: number; uids: number[]; modseq: number }
  | { kind: 'mailbox-create'; mailboxId: number; name: string }
  | { kind: 'mailbox-delete'; mailboxId: number; name: string }
  | { kind: 'mailbox-rename'; mailboxId: number; name: string; oldName: string }
  | { kind: 'subscription'; name: string; subscribed: boolean }
  /**
   * METADATA entries set or removed (RFC 5464): names only, never values; mailbox null: server
   * entries. Not a `mailboxId` field: no message view has anything to do with it.
   */
  | { kind: 'metadata'; mailbox: { id: number; name: string } | null; entries: string[] };

export type ChangeListener = (changes: Change[]) => void;
export type AnyAccountListener = (accountId: number, changes: Change[]) => void;

export interface ChangeFeed {
  /** Returns the unsubscribe function. */
  subscribe(accountId: number, listener: ChangeListener): () => void;
  /**
   * Hands `changes` to every listener of the account, after the commit, in every process. Every
   * listener of one process gets the same array object (not a copy), which listeners must not
   * modify: sessions use it to share the work for one batch (src/imap/server/change-fanout.ts).
   */
  publish(accountId: number, changes: Change[]): void;
  /**
   * Every account's changes made IN THIS PROCESS (server-wide consumers such as junk filter
   * training): each change reaches exactly one process's subscribeAll listeners, so work done per
   * change (training a message) is done once however many workers run.
   */
  subscribeAll(listener: AnyAccountListener): () => void;
  /**
   * Resolves once commits of the account made by any process from now on reach this process's
   * listeners (subscribe first). A session awaits it before it reads what it then keeps current
   * from the feed; in one process it is at once.
   */
  subscribed(accountId: number): Promise<void>;
}

export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<number, Set<ChangeListener>>();
  private readonly everyAccount = new Set<AnyAccountListener>();

  subscribeAll(listener: AnyAccountListener): () => void {
    this.everyAccount.add(listener);
    return () => void this.everyAccount.delete(listener);
  }

  async subscribed(_accountId: number): Promise<void> {}

  subscribe(accountId: number, listener: ChangeListener): () => void {
    let set = this.listeners.get(accountId);
    if (!set) {
      set = new Set();
      this.listeners.set(accountId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(accountId) === set) this.listeners.delete(accountId);
    };
  }

  publish(accountId: number, changes: Change[]): void {
    this.deliver(accountId, changes, true);
  }

  /** A change committed by another process: to this process's account listeners, not to subscribeAll. */
  deliverFromElsewhere(accountId: number, changes: Change[]): void {
    this.deliver(accountId, changes, false);
  }

  private deliver(accountId: number, changes: Change[], local: boolean): void {
    if (changes.length === 0) return;
    // A listener that throws must not keep the change from the others, nor fail the committed
    // operation that published it.
    const calls = [...(this.listeners.get(accountId) ?? []).values()].map((l) => () => l(changes));
    if (local) for (const l of this.everyAccount) calls.push(() => l(accountId, changes));
    for (const call of calls) {
      try {
        call();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
