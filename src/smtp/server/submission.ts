// Submission policy (RFC 6409; spec 2.4, 6): only authenticated users, sending as their own
// addresses, to anyone. The message gets Received, and Date and Message-ID when missing
// (RFC 6409 8.2/8.3), then a DKIM signature when the From domain has keys.

import { MessageSource } from '../../delivery/message-source.js';
import { R, formatMailbox } from '../proto/index.js';
import { dkimSignatures } from './dkim-sign.js';
import { dkimKeysFor } from './dkim-keyring.js';
import { checkFrom } from './from-check.js';
import { countFields, fieldValues, hasField, readHeaderSection } from './header-section.js';
import { MAX_HEADER_SECTION, MAX_RECEIVED_FIELDS } from './limits.js';
import type { ListenerPolicy } from './policy.js';
import { classifyRecipient, mailboxFull } from './recipient-lookup.js';
import { S } from './replies.js';
import { newMessageId, receivedField, rfc5322Date, withProtocol } from './trace-headers.js';

export const submissionPolicy: ListenerPolicy = {
  kind: 'submission',
  requiresAuth: true,

  async checkMail(s, from) {
    if (!s.identity) return R.authRequired;
    // Spec 2.4: MAIL FROM must be an address of the account; the null sender is not one.
    if (!from) return S.senderNotOwned;
    const a = await s.ctx.store.lookupAddress(formatMailbox(from));
    if (!a || a.accountId !== s.identity.accountId) return S.senderNotOwned;
    return null;
  },

  async checkRcpt(s, to, tx) {
    const c = await classifyRecipient(s.ctx.store, s.ctx.config.hostname, to);
    switch (c.kind) {
      case 'local':
        if (await mailboxFull(s.ctx.store, c.accountId, tx.params.size)) return { ok: false, reply: R.quotaExceeded };
        return { ok: true, recipient: { address: c.address, accountId: c.accountId } };
      case 'remote':
        return { ok: true, recipient: { address: c.address, accountId: null } };
      case 'unknown':
        return { ok: false, reply: R.mailboxUnknown };
      case 'literal':
        return { ok: false, reply: S.addressLiteral };
    }
  },

  async prepare(s, tx, spool) {
    const identity = s.identity;
    if (!identity) return R.authRequired;
    const head = await readHeaderSection(spool, MAX_HEADER_SECTION);
    if (!head) return S.headerTooBig;
    // RFC 5321 6.3: a message that has passed this many hops is looping.
    if (countFields(head, 'received') > MAX_RECEIVED_FIELDS) return S.mailLoop;
    const from = await checkFrom(s.ctx.store, identity.accountId, fieldValues(head, 'from'), tx.sender);
    if (!from.ok) return from.reason === 'missing' ? S.fromMissing : S.fromNotOwned;

    const now = new Date();
    let added = '';
    if (!hasField(head, 'date')) added += `Date: ${rfc5322Date(now)}\r\n`;
    if (!hasField(head, 'message-id')) added += `Message-ID: ${newMessageId(s.ctx.config.hostname)}\r\n`;
    const body = spool.part(0, spool.size);
    const signed = new MessageSource([Buffer.from(added, 'utf8'), body]);

    let signatures = '';
    try {
      signatures = await dkimSignatures(dkimKeysFor(s.ctx.config, from.domain), from.domain, signed);
    } catch (err) {
      // Unsigned mail may fail DMARC at the receiver, but holding the user's mail back for a
      // broken key file is worse; the error is logged for the admin.
      s.log.error('dkim signing failed', { err, domain: from.domain });
    }
    const received = receivedField({
      helo: s.helo?.raw ?? null,
      ip: s.ip,
      hostname: s.ctx.config.hostname,
      protocol: withProtocol({ ehlo: s.helo?.verb === 'EHLO', smtputf8: tx.params.smtputf8, tls: s.tlsInfo !== null, auth: true }),
      id: tx.id,
      tls: s.tlsInfo,
      recipient: tx.recipients.length === 1 ? tx.recipients[0]!.address : null,
      date: now,
    });
    return signed.prepend(Buffer.from(received + signatures, 'utf8'));
  },
};
