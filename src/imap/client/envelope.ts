// ENVELOPE (RFC 9051 7.5.2) as a typed object. Strings are as the server sent them: header
// values may still hold RFC 2047 encoded words (use mime/encoded-word to decode for display).

import { listOf, nstring, type Value } from './response.js';

export interface EnvelopeAddress {
  /** Display name (RFC 5322 phrase), or null. */
  name: string | null;
  /** Source route (obsolete; RFC 9051 says servers send NIL). */
  adl: string | null;
  mailbox: string | null;
  host: string | null;
  /** `mailbox@host`, or just the mailbox when there is no host. */
  address: string | null;
  /** The group this address belongs to (RFC 5322 group syntax), if any. */
  group?: string;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[];
  sender: EnvelopeAddress[];
  replyTo: EnvelopeAddress[];
  to: EnvelopeAddress[];
  cc: EnvelopeAddress[];
  bcc: EnvelopeAddress[];
  inReplyTo: string | null;
  messageId: string | null;
}

export function parseEnvelope(v: Value): Envelope {
  const l = listOf(v);
  return {
    date: nstring(l[0]),
    subject: nstring(l[1]),
    from: parseAddresses(l[2]),
    sender: parseAddresses(l[3]),
    replyTo: parseAddresses(l[4]),
    to: parseAddresses(l[5]),
    cc: parseAddresses(l[6]),
    bcc: parseAddresses(l[7]),
    inReplyTo: nstring(l[8]),
    messageId: nstring(l[9]),
  };
}

/**
 * RFC 9051 7.5.2: a group starts with an address whose host is NIL and mailbox the group
 * name, and ends with one whose mailbox and host are both NIL. Members carry `group`.
 */
export function parseAddresses(v: Value | undefined): EnvelopeAddress[] {
  if (v === null || v === undefined) return [];
  const out: EnvelopeAddress[] = [];
  let group: string | undefined;
  for (const item of listOf(v)) {
    const [name, adl, mailbox, host] = listOf(item).map(nstring);
    if (host === null || host === undefined) {
      if (mailbox === null || mailbox === undefined) group = undefined;
      else group = mailbox;
      continue;
    }
    const address = mailbox === null ? null : host === '' ? mailbox : `${mailbox}@${host}`;
    out.push({ name: name ?? null, adl: adl ?? null, mailbox: mailbox ?? null, host, address, ...(group !== undefined && { group }) });
  }
  return out;
}
