// The one door for mail that leaves: every message sent to another server (queued mail, DSNs,
// and later vacation replies, forwards and reports, which all go through the queue) is delivered
// here, so a rule made here holds for all of them:
// - content: canonical line ends before sending (content.ts), then dot-stuffing after every CRLF
//   by the DATA encoder; BDAT sends the same canonical bytes (SMTP smuggling defence);
// - where: the destination (transport or MX hosts, destination.ts), and never a loopback,
//   link-local or private address that DNS or an address literal chose, unless
//   outbound.allowPrivateAddresses is set (address-policy.ts);
// - TLS: a TlsPolicy per destination and host (tls-policy.ts; DANE and MTA-STS in policy-tls.ts),
//   whose check runs after the handshake and before any transaction; REQUIRETLS messages go
//   only where that check makes the TLS verified (RFC 8689), and a sender's TLS-Required: No
//   makes the policies advisory (tls-required.ts);
// - trace: each transaction's message gets a Received field on top saying which policy applied
//   and how TLS went (trace-field.ts); the delivered outcome (the log line) says the same.
// One attempt delivers one message to the recipients of one domain: try the hosts in order
// (RFC 5321 5.1: the next MX when a host cannot be reached or will not talk to us), and turn what
// happened into an outcome per recipient.

import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { AddressError, parseMailbox } from '../smtp/proto/address.js';
import type { Reply } from '../smtp/proto/reply.js';
import { replyText, SmtpClient, SmtpClientError, type SmtpClientOptions, type SmtpTimeouts } from '../smtp/client/index.js';
import { withProtocol } from '../smtp/server/trace-headers.js';
import { restrictedAddressClass } from './address-policy.js';
import { outboundContent } from './content.js';
import { DestinationError, hostAddresses, resolveDestination, type Destination, type DestinationHost, type ResolveOptions } from './destination.js';
import { MAX_CONNECTION_ATTEMPTS } from './limits.js';
import { defaultTlsPolicy, type DestinationTlsPolicy, type HostTls, type HostTlsDecision, type TlsPolicy } from './tls-policy.js';
import type { TlsCheckFailure } from './tls-check.js';
import { hopTlsText, sentField, type HopTls } from './trace-field.js';
import { tlsRequiredNo } from './tls-required.js';

export type RecipientOutcome =
  | {
      kind: 'delivered'; reply: Reply; remoteMta: string;
      /** Which TLS policy applied and how TLS went, as the Received field says it, e.g.
       * "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 policy=dane verified", "plaintext policy=none". */
      tls: string;
    }
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
  /** The queue id, for the Received field's id clause. */
  id?: string;
  domain: string;
  /** Envelope sender; '' for the null sender. */
  sender: string;
  recipients: string[];
  content: Buffer;
  /** RFC 8689 REQUIRETLS: only over TLS verified by MTA-STS, DANE or a verifying transport, to
   * a server that offers REQUIRETLS; else the message bounces. */
  requireTls?: boolean;
  /** A report Postern sends (TLS-RPT, DMARC): its sessions are not counted for TLS-RPT. */
  report?: boolean;
}

export interface DeliveryContext {
  resolve: ResolveOptions;
  /** Connect to loopback, link-local and private addresses that DNS or an address literal gave
   * (config outbound.allowPrivateAddresses). Transports are never checked. */
  allowPrivateAddresses: boolean;
  /** Default: transport settings, else opportunistic STARTTLS. */
  tlsPolicy?: TlsPolicy;
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

  const content = outboundContent(req.content);
  if (content.bareCr || content.bareLf) {
    ctx.log.warn('outbound message had bare line ends, sent as CRLF', { bareCr: content.bareCr, bareLf: content.bareLf });
  }

  let dest: Destination;
  try {
    dest = await resolveDestination(req.domain, ctx.resolve);
  } catch (err) {
    if (!(err instanceof DestinationError)) throw err;
    return fill({ kind: 'failed', permanent: err.permanent, status: err.status, message: err.message });
  }
  const tlsPolicy = await (ctx.tlsPolicy ?? defaultTlsPolicy).forDestination(req.domain, dest, { uncounted: req.report === true });
  // RFC 8689 4.2.2: the sender's TLS-Required: No makes the recipient's policies advisory;
  // with REQUIRETLS the field is ignored.
  const relaxed = !req.requireTls && tlsRequiredNo(content.data);

  // The failure to report when no host took the message. One refused by policy (a private
  // address, a TLS policy) is reported only when nothing else went wrong: a temporary failure of
  // another host says more, and keeps the message queued.
  let last: Failure | null = null;
  let refused: Failure | null = null;
  let attempts = 0;
  for (const host of dest.hosts) {
    const decision = relaxed ? relax(tlsPolicy.forHost(host), host) : tlsPolicy.forHost(host);
    if (decision.ok && req.requireTls && !verifiedTls(decision.tls, dest)) {
      // RFC 8689 4.2.1: no policy makes this hop's TLS verified; RFC 3463 X.7.10 encryption needed.
      refused = { kind: 'failed', permanent: true, status: '5.7.10', message: `${host.name}: REQUIRETLS: no verified TLS to this host (no MTA-STS or DANE policy applies)` };
      continue;
    }
    if (!decision.ok) {
      if (decision.result) await tlsPolicy.report?.({ host, address: '', result: decision.result });
      refused = { kind: 'failed', permanent: decision.permanent, status: decision.status, message: `${host.name}: ${decision.message}` };
      continue;
    }
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
      // Transports are the admin's choice; MX hosts and address literals come from outside.
      const cls = dest.transport === null && !ctx.allowPrivateAddresses ? restrictedAddressClass(address) : null;
      if (cls) {
        ctx.log.warn('outbound address refused', { host: host.name, address, class: cls });
        // RFC 3463 X.4.4: no usable route. Permanent: the domain's DNS sends its mail into our
        // own network, and retrying for days would not change what we allow.
        refused = {
          kind: 'failed', permanent: true, status: '5.4.4',
          message: `${host.name} [${address}]: not connecting to a ${cls} address given by DNS or an address literal (outbound.allowPrivateAddresses is off)`,
        };
        continue;
      }
      if (attempts++ >= MAX_CONNECTION_ATTEMPTS) return fill(last ?? refused ?? noHost(req.domain));
      const tls = decision.tls;
      const on = { policy: tlsPolicy, host };
      let r = await attempt(req, content.data, todo, dest, tls, address, on, ctx);
      // A failed opportunistic handshake is retried in plain text (RFC 7435), since the
      // alternative (no delivery) protects nothing.
      if ('next' in r && r.retryPlain && tls.plainFallback) {
        // The failed handshake was already reported; the plain retry has nothing to check.
        const { verify: _checked, ...plain } = tls;
        r = await attempt(req, content.data, todo, dest, { ...plain, mode: 'none' }, address, on, ctx);
      }
      if ('done' in r) return fill(r.done);
      last = r.next;
    }
  }
  return fill(last ?? refused ?? noHost(req.domain));
}

/** Under TLS-Required: No a policy's decision becomes what testing mode does: its check still
 * runs and is reported (TLS-RPT counts the session under the policy), but a failure no longer
 * stops delivery, plain text included. A host the policy refused is used with a check that
 * reports the refusal. */
function relax(d: HostTlsDecision, host: DestinationHost): HostTlsDecision {
  if (d.ok) return d.tls.verify ? { ok: true, tls: { ...d.tls, enforce: false, plainFallback: true, relaxed: true } } : d;
  const failure: TlsCheckFailure = { result: d.result ?? 'validation-failure', message: d.message };
  return {
    ok: true,
    tls: {
      mode: 'opportunistic', insecure: false, plainFallback: true, relaxed: true, verify: () => failure,
      ...(host.lookup === 'dns' && { servername: host.name }), ...(d.policy !== undefined && { policy: d.policy }),
    },
  };
}

/** A connection whose server certificate is verified: a policy that enforces its check, or a
 * transport that requires TLS and verifies it. */
function verifiedTls(tls: HostTls, dest: Destination): boolean {
  if (tls.verify) return tls.enforce === true;
  return dest.transport !== null && (tls.mode === 'implicit' || tls.mode === 'starttls') && !tls.insecure;
}

function noHost(domain: string): Failure {
  return { kind: 'failed', permanent: false, status: '4.4.1', message: `no host for ${domain} could be reached` };
}

async function attempt(
  req: DeliveryRequest,
  content: Buffer,
  recipients: string[],
  dest: Destination,
  tls: HostTls,
  address: string,
  on: { policy: DestinationTlsPolicy; host: DestinationHost },
  ctx: DeliveryContext,
): Promise<AttemptResult> {
  const remoteMta = on.host.name;
  const opts: SmtpClientOptions = {
    host: address,
    port: dest.port,
    tls: tls.mode,
    // A policy's check runs after the handshake (tls-check.ts), so that its failure is known.
    insecure: tls.insecure || tls.verify !== undefined,
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.servername !== undefined && { servername: tls.servername }),
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
    // A failed handshake counts for TLS-RPT, under the policy or as no-policy-found (policy-tls.ts).
    if (err.kind === 'tls' && (tls.verify || tls.mode === 'opportunistic')) await on.policy.report?.({ host: on.host, address, result: 'validation-failure' });
    // Any failure before the transaction (refused, greeting or EHLO 4xx/5xx, TLS, AUTH): next
    // host; the message itself was not judged, so the outcome stays temporary.
    const f = fromClientError(err, remoteMta);
    return { next: { ...f, permanent: false, status: f.status.replace(/^5/, '4') }, retryPlain: err.kind === 'tls' && !err.reply };
  }
  const sock = client.secure ? (client.socket as TLSSocket) : null;
  let check: HopTls['check'] = 'unverified';
  if (tls.verify) {
    // RFC 8461 4.2 / RFC 7672 2.2: no TLS at all fails the policy like a bad certificate does.
    const failure: TlsCheckFailure | null = client.secure
      ? tls.verify(client.socket as TLSSocket)
      : { result: 'starttls-not-supported', message: 'server does not offer STARTTLS' };
    await on.policy.report?.({ host: on.host, address, result: failure ? failure.result : 'success' });
    if (failure) ctx.log.warn('outbound tls policy check failed', { host: remoteMta, address, policy: tls.policy, enforce: !!tls.enforce, result: failure.result, err: failure.message });
    if (failure && tls.enforce) {
      await client.quit();
      // RFC 3463 X.7.5: cryptographic failure; temporary, the host may be fixed (RFC 8461 5.1: defer).
      return { next: { kind: 'failed', permanent: false, status: '4.7.5', message: `${remoteMta} [${address}]: ${tls.policy} policy: ${failure.message} (${failure.result})`, remoteMta } };
    }
    check = failure ? failure.result : 'verified';
  } else {
    // No policy: the session is counted all the same (RFC 8460 4.4 no-policy-found).
    if (tls.mode === 'opportunistic') await on.policy.report?.({ host: on.host, address, result: sock ? 'success' : 'starttls-not-supported' });
    // A transport that requires TLS had the chain and name verified in the handshake.
    if (sock && !tls.insecure && tls.mode !== 'opportunistic') check = 'verified';
  }
  if (req.requireTls && !client.capabilities?.requireTls) {
    await client.quit();
    // RFC 8689 5: X.7.30, REQUIRETLS support required (the next hop would not keep the promise).
    return { next: { kind: 'failed', permanent: true, status: '5.7.30', message: `${remoteMta} [${address}]: REQUIRETLS: the server does not offer REQUIRETLS`, remoteMta } };
  }
  const hop: HopTls = {
    version: sock ? sock.getProtocol() ?? 'TLS' : null,
    cipher: sock ? sock.getCipher()?.standardName ?? null : null,
    policy: tls.policy ?? 'none',
    relaxed: tls.relaxed === true,
    check,
  };
  const tlsNote = hopTlsText(hop);
  // The trace field on top of the canonical content keeps it canonical (CRLF line ends); the
  // client dot-stuffs the whole.
  const trace = sentField({
    hostname: ctx.clientName,
    protocol: withProtocol({ ehlo: client.capabilities !== null, smtputf8: [req.sender, ...recipients].some((a) => /[^\x00-\x7f]/.test(a)), tls: sock !== null, auth: client.authMechanism !== null }),
    ...(req.id !== undefined && { id: req.id }),
    tls: hop,
    recipient: recipients.length === 1 ? recipients[0]! : null,
    date: new Date(),
  });
  try {
    const res = await client.send({ from: req.sender === '' ? null : req.sender, to: recipients, ...(req.requireTls && { requireTls: true }) }, Buffer.concat([trace, content]));
    return {
      done: res.recipients.map((r) => (r.accepted ? { kind: 'delivered', reply: r.reply, remoteMta, tls: tlsNote } : fromReply(r.reply, r.permanent, remoteMta))),
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
