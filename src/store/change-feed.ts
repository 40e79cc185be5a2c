// Change feed: after a commit that changes an account's mailboxes or messages, the change is handed to
// every subscriber of that account (the account's other sessions). In-process now; a cross-process
// implementation (PostgreSQL LISTEN/NOTIFY, or polling) can implement the same interface later.

export type Change =
  | { kind: 'append'; mailboxId: number; uids: number[]; modseq: number; /** Set for COPY and MOVE: where they came from. */ fromMailboxId?: number }
  | { kind: 'flags'; mailboxId: number; updates: { uid: number; flags: string[]; modseq: number }[] }
  | { kind: 'expunge'; mailboxId: number; uids: number[]; modseq: number }
  | { kind: 'mailbox-create'; mailboxId: number; name: string }
  | { kind: 'mailbox-delete'; mailboxId: number; name: string }
  | { kind: 'mailbox-rename'; mailboxId: number; name: string; oldName: string }
  | { kind: 'subscription'; name: string; subscribed: boolean };

export type ChangeListener = (changes: Change[]) => void;
export type AnyAccountListener = (accountId: number, changes: Change[]) => void;

export interface ChangeFeed {
  /** Returns the unsubscribe function. */
  subscribe(accountId: number, listener: ChangeListener): () => void;
  /**
   * Hands `changes` to every listener of the account, after the commit. Every listener gets the
   * same array object (not a copy), which listeners must not modify: sessions use it to share the
   * work for one batch (src/imap/server/change-fanout.ts).
   */
  publish(accountId: number, changes: Change[]): void;
  /** Every account's changes (server-wide consumers such as junk filter training). */
  subscribeAll(listener: AnyAccountListener): () => void;
}

export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<number, Set<ChangeListener>>();
  private readonly everyAccount = new Set<AnyAccountListener>();

  subscribeAll(listener: AnyAccountListener): () => void {
    this.everyAccount.add(listener);
    return () => void this.everyAccount.delete(listener);
  }

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
    if (changes.length === 0) return;
    // A listener that throws must not keep the change from the others, nor fail the committed
    // operation that published it.
    const calls = [...(this.listeners.get(accountId) ?? []).values()].map((l) => () => l(changes));
    for (const l of this.everyAccount) calls.push(() => l(accountId, changes));
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
