// One delivery attempt of one message to the recipients of one domain: resolve the destination,
// try its hosts in order (RFC 5321 5.1: the next MX when a host cannot be reached or will not
// talk to us), and turn what happened into an outcome per recipient.

import type { Logger } from '../log/logger.js';
import { AddressError, parseMailbox } from '../smtp/proto/address.js';
import type { Reply } from '../smtp/proto/reply.js';
import { replyText, SmtpClient, SmtpClientError, type SmtpClientOptions, type SmtpTimeouts, type TlsMode } from '../smtp/client/index.js';
import { DestinationError, hostAddresses, resolveDestination, type Destination, type ResolveOptions } from './destination.js';
import { MAX_CONNECTION_ATTEMPTS } from './limits.js';

export type RecipientOutcome =
  | { kind: 'delivered'; reply: Reply; remoteMta: string }
  | {
      kind: 'failed';
      /** 5xx or a destination that cannot exist: bounce now; else retry later. */
      permanent: boolean;
      /** RFC 3463 status for the DSN. */
      status: string;
      /** One line for lastError and the DSN's human part. */
      message: string;
      /** The remote server's reply, for the DSN's Diagnostic-Code. */
      reply?: Reply;
      remoteMta?: string;
    };

type Failure = Extract<RecipientOutcome, { kind: 'failed' }>;

export interface DeliveryRequest {
  domain: string;
  /** Envelope sender; '' for the null sender. */
  sender: string;
  recipients: string[];
  content: Buffer;
}

export interface DeliveryContext {
  resolve: ResolveOptions;
  /** EHLO name. */
  clientName: string;
  timeouts?: SmtpTimeouts;
  signal?: AbortSignal;
  log: Logger;
}

/** RFC 3463 status from a reply: its enhanced code, else the class with .0.0. */
export function statusOf(r: Reply): string {
  return r.enhanced ?? `${Math.floor(r.code / 100)}.0.0`;
}

function fromReply(r: Reply, permanent: boolean, remoteMta: string): Failure {
  return { kind: 'failed', permanent, status: statusOf(r), message: `${remoteMta} said: ${replyText(r)}`, reply: r, remoteMta };
}

/** What a client error means for every recipient of the attempt. */
function fromClientError(e: SmtpClientError, remoteMta: string): Failure {
  if (e.reply) return { ...fromReply(e.reply, e.permanent, remoteMta), message: `${remoteMta}: ${e.message}` };
  let status = e.permanent ? '5.0.0' : '4.4.1';
  if (e.kind === 'timeout') status = '4.4.2';
  if (e.kind === 'tls') status = '4.7.5';
  // RFC 6531 3.7.4 (5.6.7: no SMTPUTF8), RFC 1870 (5.3.4: too big), RFC 3463 5.6.3 (conversion needed).
  if (e.kind === 'capability') status = e.extension === 'SMTPUTF8' ? '5.6.7' : e.extension === 'SIZE' ? '5.3.4' : '5.6.3';
  return { kind: 'failed', permanent: e.permanent, status, message: `${remoteMta}: ${e.message}`, remoteMta };
}

type AttemptResult = { done: RecipientOutcome[] } | { next: Failure; retryPlain?: boolean };

export async function deliverToDomain(req: DeliveryRequest, ctx: DeliveryContext): Promise<RecipientOutcome[]> {
  const outcomes: (RecipientOutcome | undefined)[] = req.recipients.map((r) => {
    try {
      parseMailbox(r, { smtputf8: true });
      return undefined;
    } catch (err) {
      const why = err instanceof AddressError ? err.message : String(err);
      return { kind: 'failed', permanent: true, status: '5.1.3', message: `invalid recipient address: ${why}` };
    }
  });
  const todo = req.recipients.filter((_, i) => outcomes[i] === undefined);
  if (todo.length === 0) return outcomes as RecipientOutcome[];
  const fill = (got: RecipientOutcome[] | Failure): RecipientOutcome[] => {
    let j = 0;
    return outcomes.map((o) => o ?? (Array.isArray(got) ? got[j++]! : got));
  };

  let dest: Destination;
  try {
    dest = await resolveDestination(req.domain, ctx.resolve);
  } catch (err) {
    if (!(err instanceof DestinationError)) throw err;
    return fill({ kind: 'failed', permanent: err.permanent, status: err.status, message: err.message });
  }

  let last: Failure = { kind: 'failed', permanent: false, status: '4.4.1', message: `no host for ${req.domain} could be reached` };
  let attempts = 0;
  for (const host of dest.hosts) {
    let targets: string[];
    if (host.lookup === 'dns') {
      try {
        targets = await hostAddresses(host.name, ctx.resolve.resolver);
      } catch (err) {
        if (!(err instanceof DestinationError)) throw err;
        last = { kind: 'failed', permanent: false, status: err.status, message: err.message };
        continue;
      }
      if (targets.length === 0) {
        last = { kind: 'failed', permanent: false, status: '4.4.4', message: `${host.name} has no address` };
        continue;
      }
    } else {
      targets = [host.name];
    }
    for (const address of targets) {
      if (attempts++ >= MAX_CONNECTION_ATTEMPTS) return fill(last);
      const servername = host.lookup === 'dns' ? host.name : undefined;
      let r = await attempt(req, todo, dest, dest.tls, address, servername, host.name, ctx);
      // Postfix `may`: a failed opportunistic handshake is retried in plain text, since the
      // alternative (no delivery) protects nothing (RFC 7435).
      if ('next' in r && r.retryPlain) r = await attempt(req, todo, dest, 'none', address, servername, host.name, ctx);
      if ('done' in r) return fill(r.done);
      last = r.next;
    }
  }
  return fill(last);
}

async function attempt(
  req: DeliveryRequest,
  recipients: string[],
  dest: Destination,
  tls: TlsMode,
  address: string,
  servername: string | undefined,
  remoteMta: string,
  ctx: DeliveryContext,
): Promise<AttemptResult> {
  const opts: SmtpClientOptions = {
    host: address,
    port: dest.port,
    tls,
    insecure: dest.insecure,
    ...(servername !== undefined && { servername }),
    ...(dest.auth && { auth: { username: dest.auth.username, password: dest.auth.password } }),
    clientName: ctx.clientName,
    timeouts: ctx.timeouts,
    signal: ctx.signal,
    log: ctx.log,
  };
  let client: SmtpClient;
  try {
    client = await SmtpClient.connect(opts);
  } catch (err) {
    if (!(err instanceof SmtpClientError) || err.kind === 'aborted') throw err;
    ctx.log.info('queue connect failed', { host: remoteMta, address, err: err.message });
    // Any failure before the transaction (refused, greeting or EHLO 4xx/5xx, TLS, AUTH): next
    // host; the message itself was not judged, so the outcome stays temporary.
    const f = fromClientError(err, remoteMta);
    return { next: { ...f, permanent: false, status: f.status.replace(/^5/, '4') }, retryPlain: err.kind === 'tls' && tls === 'opportunistic' && !err.reply };
  }
  try {
    const res = await client.send({ from: req.sender === '' ? null : req.sender, to: recipients }, req.content);
    return {
      done: res.recipients.map((r) => (r.accepted ? { kind: 'delivered', reply: r.reply, remoteMta } : fromReply(r.reply, r.permanent, remoteMta))),
    };
  } catch (err) {
    if (!(err instanceof SmtpClientError) || err.kind === 'aborted') throw err;
    if (err.recipients) return { done: err.recipients.map((r) => fromReply(r.reply, r.permanent, remoteMta)) };
    const f = fromClientError(err, remoteMta);
    // A refused MAIL or a message this server cannot take is an answer; a broken connection
    // mid-transaction is not, and the next host may do better.
    if (err.kind === 'reply' || err.kind === 'capability' || err.kind === 'address') return { done: recipients.map(() => f) };
    return { next: f };
  } finally {
    await client.quit();
  }
}
