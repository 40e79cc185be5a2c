// One mail transaction (RFC 5321 3.3): from MAIL to the end of DATA/BDAT LAST, or RSET.

import type { MailParams, Mailbox } from '../proto/index.js';
import type { BdatMessage } from '../proto/index.js';
import type { CrlfNormalizer } from './crlf-normalizer.js';
import type { SpoolFile } from './spool.js';

export interface Recipient {
  /** The forward-path as the client gave it (postmaster resolved), for the queue and Received. */
  address: string;
  /** Set for our own users: the account whose Inbox gets the message. */
  accountId: number | null;
}

export interface BdatState {
  message: BdatMessage;
  spool: SpoolFile;
  normalizer: CrlfNormalizer;
  /** Content read but not yet written to the spool file. */
  pending: Buffer[];
}

export interface Transaction {
  id: string;
  from: Mailbox | null;
  /** Reverse-path without brackets; '' for the null sender. */
  sender: string;
  params: MailParams;
  recipients: Recipient[];
  /** BDAT chunks received so far (RFC 3030). */
  bdat: BdatState | null;
  /** A BDAT of this transaction failed: the rest of its chunks are read and refused. */
  bdatFailed: boolean;
  /** Set by the policy's prepare: where each local copy goes and what it alone gets. */
  routing?: LocalRouting;
}

export interface LocalRouting {
  /** Accounts whose copy goes to Junk (DMARC quarantine, the own-domain rule, the junk filter). */
  junk: Set<number>;
  /** Header fields for one account's copy only. */
  fields: Map<number, Buffer>;
}
