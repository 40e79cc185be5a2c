// What differs between the listener kinds. The session core (session.ts) runs the protocol; the
// policy decides who may send, to whom, and what is added to the message:
// - submission (587/465): authenticated users, their own addresses, any recipient; the message
//   gets Received, Date/Message-ID when missing and a DKIM signature (submission.ts).
// - incoming (25): anyone, our domains only; SPF/DKIM/DMARC recorded (incoming.ts).

import type { AuthIdentity } from '../../auth/authenticator.js';
import type { ServerContext } from '../../server/context.js';
import type { Logger } from '../../log/logger.js';
import type { MessageSource } from '../../delivery/message-source.js';
import type { ForwardPath, Mailbox, Reply } from '../proto/index.js';
import type { SpoolFile } from './spool.js';
import type { Recipient, Transaction } from './transaction.js';

/** DNS lookups for SPF/DKIM/DMARC, as mailauth calls them; node:dns when not set. */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** What a policy may see of the session. */
export interface SessionView {
  readonly ctx: ServerContext;
  readonly log: Logger;
  readonly cid: string;
  /** Remote IP as the socket reports it. */
  readonly ip: string;
  readonly helo: { verb: 'EHLO' | 'HELO'; raw: string } | null;
  readonly identity: AuthIdentity | null;
  readonly tlsInfo: { version: string; cipher: string } | null;
  readonly resolver: DnsResolver | undefined;
}

export type RcptDecision = { ok: true; recipient: Recipient } | { ok: false; reply: Reply };

export interface ListenerPolicy {
  readonly kind: 'smtp' | 'submission';
  /** AUTH is offered and MAIL/RCPT/DATA need an authenticated session. */
  readonly requiresAuth: boolean;
  /** Null when the sender is acceptable, else the reply. */
  checkMail(s: SessionView, from: Mailbox | null): Promise<Reply | null>;
  checkRcpt(s: SessionView, to: ForwardPath, tx: Transaction): Promise<RcptDecision>;
  /** The message to deliver (spooled data plus added fields), or the reply refusing it. */
  prepare(s: SessionView, tx: Transaction, spool: SpoolFile): Promise<MessageSource | Reply>;
}
