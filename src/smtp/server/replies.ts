// Server replies that the shared table (proto/enhanced-status.ts R) does not name. Codes follow
// RFC 5321 4.2.2 and RFC 3463; texts are ours.

import { constantReplies, reply, type Reply } from '../proto/index.js';

/** RFC 5321 4.2: the greeting carries no enhanced code (RFC 2034 3). */
export function greeting(hostname: string): Reply {
  return reply(220, undefined, `${hostname} ESMTP Postern`);
}

/** RFC 5321 4.1.1.1: HELO reply. */
export function heloReply(hostname: string): Reply {
  return reply(250, undefined, hostname);
}

export const S = constantReplies({
  /** RFC 3030 2: a chunk that was accepted, not yet the end of the message. */
  chunkReceived: (n: number): Reply => reply(250, '2.0.0', `${n} octets received`),
  messageQueued: (id: string): Reply => reply(250, '2.6.0', `message accepted, id ${id}`),
  tooManyErrors: reply(421, '4.7.0', 'too many errors, closing connection'),
  revoked: (reason: string): Reply => reply(421, '4.7.0', reason),
  /** An address-literal recipient: we deliver to our domains and to DNS names only. */
  addressLiteral: reply(550, '5.1.2', 'address literals are not accepted as recipients'),
  /** Submission: MAIL FROM or a From address that is not the account's (spec 2.4). */
  senderNotOwned: reply(550, '5.7.1', 'sender address is not an address of your account'),
  fromNotOwned: reply(550, '5.7.1', 'message From address is not an address of your account'),
  fromMissing: reply(550, '5.7.1', 'message has no From address'),
  headerTooBig: reply(552, '5.3.4', 'message header too big'),
  /** RFC 5321 6.3 / RFC 3463 X.4.6: more Received fields than MAX_RECEIVED_FIELDS. */
  mailLoop: reply(554, '5.4.6', 'too many Received header fields: mail loop'),
  /** RFC 7489 6.6.3 / 10.3: the From domain's DMARC policy is reject and the message failed. */
  dmarcReject: (domain: string): Reply => reply(550, '5.7.1', `message rejected by the DMARC policy of ${domain}`),
  expnDisabled: reply(502, '5.5.1', 'EXPN not available'),
  authNotAvailable: reply(502, '5.5.1', 'AUTH not available on this port, use submission'),
  authInTransaction: reply(503, '5.5.1', 'AUTH not allowed during a mail transaction'),
  /** Spec 3.4: closing after failed logins; the text says why and how long to wait. */
  authRefused: (text: string): Reply => reply(421, '4.7.0', text),
  /** RFC 3207 4: submission before STARTTLS. */
  starttlsFirst: reply(530, '5.7.0', 'must issue a STARTTLS command first'),
  /** RFC 8689 4.1 / RFC 3463 X.7.10: REQUIRETLS on a session without TLS. */
  requireTlsNeedsTls: reply(530, '5.7.10', 'REQUIRETLS needs a TLS session: issue STARTTLS first'),
  tooManyConnections: reply(421, '4.7.0', 'too many connections from your address or network'),
  /** RFC 4468 6: the URL's authorization failed (bad token, access, expiry, owner): one answer
   * for every reason, as URLFETCH's NIL (RFC 4467 7, URLFETCH). */
  burlUnauthorized: reply(554, '5.7.0', 'IMAP URL authorization failed'),
  /** RFC 4468 6: a BURL without LAST whose content was taken. */
  burlReceived: reply(250, '2.5.0', 'waiting for additional BURL or BDAT commands'),
  /** RFC 4468 6, RFC 5248 2.4 (X.7.14 replaces X.7.8): a plain IMAP URL of another server. */
  burlUntrusted: reply(554, '5.7.14', 'URL resolution requires trust relationship: plain IMAP URLs of this server only'),
  /** RFC 4468 6 / RFC 3463 X.6.6: authorized, but the content is not there (expunged meanwhile). */
  burlUnresolved: reply(554, '5.6.6', 'IMAP URL resolution failed'),
  /** RFC 4468 3: only imap URLs (of this server) are taken. */
  burlScheme: reply(554, '5.5.4', 'only imap URLs are supported by BURL'),
} as const);
