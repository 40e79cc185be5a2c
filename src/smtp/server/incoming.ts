// Incoming policy (port 25, spec 6): anyone may send, to our domains only (no open relay); the
// message gets our Received field and the SPF/DKIM/DMARC verdicts, and goes to the Inbox, to Junk
// or is refused as the From domain's DMARC policy and our own-domain rule say (dmarc-routing.ts).

import { MessageSource, type SourcePart } from '../../delivery/message-source.js';
import { R } from '../proto/index.js';
import { authenticationFields, isForgedAuthResults } from './auth-results.js';
import { fieldValue } from '../../mime/index.js';
import { countFields, readHeaderSection } from './header-section.js';
import { MAX_HEADER_SECTION, MAX_RECEIVED_FIELDS } from './limits.js';
import type { ListenerPolicy } from './policy.js';
import { classifyRecipient, mailboxFull } from './recipient-lookup.js';
import { S } from './replies.js';
import { dmarcRouting } from './dmarc-routing.js';
import { reportEvent } from '../../dmarc/report-event.js';
import { isReportAddress, takeReport } from '../../dmarc/report-intake.js';
import { MAX_REPORT_MAIL } from '../../dmarc/report-attachment.js';
import { junkVerdicts } from './junk-verdicts.js';
import { plainIp, receivedField, withProtocol } from './trace-headers.js';

export const incomingPolicy: ListenerPolicy = {
  kind: 'smtp',
  requiresAuth: false,

  async checkMail() {
    // The sender is judged after DATA (SPF with the message's DMARC policy), not here.
    return null;
  },

  async checkRcpt(s, to, tx) {
    const c = await classifyRecipient(s.ctx.store, s.ctx.config.hostname, to);
    switch (c.kind) {
      case 'local':
        if (await mailboxFull(s.ctx.store, c.accountId, tx.params.size)) return { ok: false, reply: R.quotaExceeded };
        return { ok: true, recipient: { address: c.address, accountId: c.accountId } };
      case 'unknown':
        return { ok: false, reply: R.mailboxUnknown };
      case 'remote':
      case 'literal':
        // RFC 5321 3.6.2 / 7.1: no relaying for unauthenticated clients.
        return { ok: false, reply: R.relayDenied };
    }
  },

  async prepare(s, tx, spool) {
    const head = await readHeaderSection(spool, MAX_HEADER_SECTION);
    if (!head) return S.headerTooBig;
    // RFC 5321 6.3: a message that has passed this many hops is looping.
    if (countFields(head, 'received') > MAX_RECEIVED_FIELDS) return S.mailLoop;
    const hostname = s.ctx.config.hostname;
    // The message as received, minus Authentication-Results fields forged with our name.
    const parts: SourcePart[] = [];
    let pos = 0;
    for (const f of head.fields) {
      // Our verdict fields come from us only.
      const forged = f.name === 'x-postern-junk' || (f.name === 'authentication-results' && isForgedAuthResults(fieldValue(head.buf, f), hostname));
      if (!forged) continue;
      if (f.start > pos) parts.push(spool.part(pos, f.start));
      pos = f.end;
    }
    parts.push(spool.part(pos, spool.size));
    const original = new MessageSource(parts);

    const auth = await authenticationFields(original, {
      ip: plainIp(s.ip),
      helo: s.helo?.raw ?? null,
      sender: tx.sender,
      hostname,
      resolver: s.resolver,
    }, s.log);
    const routing = await dmarcRouting(s, tx, auth);
    const event = reportEvent(auth, {
      ip: plainIp(s.ip), sender: tx.sender, now: new Date(),
      disposition: routing.verdict === 'reject' ? 'reject' : [...routing.perAccount.values()].some((d) => d === 'junk') ? 'quarantine' : 'none',
    });
    // Counted for the aggregate report; a failure to count never holds up the message.
    if (event) void s.ctx.store.recordDmarcEvent(event).catch((err) => s.log.warn('dmarc report row not recorded', { err }));
    const dmarcLog = { id: tx.id, from: auth.dmarc.fromDomain ?? undefined, dmarc: auth.dmarc.result, policy: auth.dmarc.policy ?? undefined, own: routing.ownDomain || undefined };
    if (routing.verdict === 'reject') {
      s.log.info('message refused by DMARC', dmarcLog);
      return S.dmarcReject(auth.dmarc.fromDomain ?? auth.fromDomains[0] ?? 'the sender');
    }
    if (routing.junk.size) s.log.info('message to Junk by DMARC', { ...dmarcLog, accounts: [...routing.junk].join(',') });
    tx.routing = { junk: routing.junk, fields: new Map() };
    const received = receivedField({
      helo: s.helo?.raw ?? null,
      ip: s.ip,
      hostname,
      protocol: withProtocol({ ehlo: s.helo?.verb === 'EHLO', smtputf8: tx.params.smtputf8, tls: s.tlsInfo !== null, auth: false }),
      id: tx.id,
      tls: s.tlsInfo,
      recipient: tx.recipients.length === 1 ? tx.recipients[0]!.address : null,
      date: new Date(),
    });
    // RFC 8601 5: our verdicts on top, above our Received field.
    const message = original.prepend(Buffer.from(auth.fields + received, 'utf8'));
    if (s.ctx.junk) await junkVerdicts(s.ctx.junk, message, tx.routing, s, routing.perAccount.keys());
    const reportAddresses = s.ctx.config.dmarc?.reportAddresses ?? [];
    if (tx.recipients.some((r) => isReportAddress(r.address, reportAddresses)) && message.size <= MAX_REPORT_MAIL) {
      // Read now (the spool goes away after delivery), parsed after the reply.
      const raw = await message.toBuffer();
      setImmediate(() => void takeReport(s.ctx.store, raw, s.log));
    }
    return message;
  },
};
