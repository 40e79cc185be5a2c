// One SMTP connection: the session core shared by submission and incoming; the listener's
// ListenerPolicy decides who may send what to whom.
//
// Invariants:
// - Commands are handled one at a time, in the order received. Replies are buffered and written
//   when no complete command is left in the input (RFC 2920 3.2: pipelined replies in order, in
//   one batch), and at every point where the client must see a reply before it can go on (354,
//   334, 220 for STARTTLS).
// - Input is pulled: nothing more is read while a command runs, and at most INPUT_HIGH_WATER
//   unprocessed bytes are held (socket paused beyond), so memory per connection is bounded. Message
//   data goes to a spool file as it arrives.
// - 250 after DATA/BDAT LAST is sent only after deliver() returned: every copy fsynced and
//   committed (spec 10). Any failure before that is 451/452, and the spool file is removed.
// - A local recipient over its storage quota: 552 5.2.2 at RCPT when it is full already; after
//   DATA, when no copy could be delivered, 552 5.2.2; when others got it, 250 and a DSN to the
//   sender for the recipients over quota (made durable before the 250).
// - After STARTTLS nothing read before the handshake is used (RFC 3207 6) and all state from the
//   plain phase is forgotten (RFC 3207 4.2); the TLS client certificate may then authenticate.
// - An authenticated session is registered with ctx.sessions: revocation ends it with 421.
// - Unexpected errors are logged with the cid and answered 451 4.3.0; no stack trace on the wire.
//
// Message data policy:
// - Bare LF in DATA is converted to CRLF (Postfix smtpd_forbid_bare_newline = normalize); only
//   CRLF.CRLF ends the data (the proto DataReader), so SMTP smuggling is not possible.
// - A bare CR (not followed by LF) is refused with 554 5.6.11, in DATA and BDAT alike: passed on,
//   "<CR>.<CR>" could end the data early at a next hop (SMTP smuggling); mox refuses it too.
// - NUL bytes are refused (554 5.6.0): no mail client sends them and IMAP cannot show them.
// - More than MAX_RECEIVED_FIELDS Received fields: 554 5.4.6, a mail loop (the policies check it).
// - 8-bit data without BODY=8BITMIME is accepted, as Postfix does: refusing breaks real mail.

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { authAllowedWithoutTls, ConnectionAttempts, refusedMessage } from '../../auth/attempt-policy.js';
import type { AuthIdentity, ConnInfo } from '../../auth/authenticator.js';
import { authLimitsOf } from '../../auth/limits.js';
import { deliver } from '../../delivery/deliver.js';
import { MessageSource } from '../../delivery/message-source.js';
import type { Logger } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import { serverMechanisms, type ServerAuthState } from '../../sasl/index.js';
import { sendDsnAbout } from '../../queue/send-dsn.js';
import { asStoreIoError, StoreError } from '../../store/errors.js';
import {
  BdatChunkReader,
  BdatMessage,
  DataReader,
  LineReader,
  MAX_AUTH_LINE,
  R,
  SmtpError,
  ehloReply,
  formatMailbox,
  formatReply,
  parseCommand,
  type LineEvent,
  type Reply,
  type BurlCommand,
  type SmtpCommand,
} from '../proto/index.js';
import { runAuth } from './auth-command.js';
import { burlOffer, burlPart } from './burl.js';
import { CrlfNormalizer } from './crlf-normalizer.js';
import { COMMAND_TIMEOUT_MS, GREETING_TIMEOUT_MS, MAX_ERRORS, MAX_HEADER_SECTION } from './limits.js';
import type { DnsResolver, ListenerPolicy, SessionView } from './policy.js';
import { S, greeting, heloReply } from './replies.js';
import { ProgressDeadline, SessionEnd, SocketInput, deadlineAfter } from './socket-input.js';
import type { SpoolDir, SpoolFile } from './spool.js';
import { acceptedTlsVersion } from '../../tls/server-context.js';
import type { ListenerTls } from '../../tls/server-tls.js';
import { newTransactionId } from './trace-headers.js';
import type { BdatState, Transaction } from './transaction.js';

export interface SessionTimeouts {
  /** Deadline for one command line, and for each DATA_PROGRESS_BLOCK of message data. */
  commandMs: number;
  /** From the greeting to EHLO/HELO. */
  greetingMs: number;
}

export interface SessionOptions {
  policy: ListenerPolicy;
  implicitTls: boolean;
  /** TLS for STARTTLS (null: not offered) or of the implicit-TLS listener. */
  tls: ListenerTls | null;
  spool: SpoolDir;
  timeouts: SessionTimeouts;
  resolver?: DnsResolver;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = { commandMs: COMMAND_TIMEOUT_MS, greetingMs: GREETING_TIMEOUT_MS };

type Handled = 'continue' | 'quit';

export class SmtpSession implements SessionView {
  readonly log: Logger;
  readonly ip: string;
  readonly resolver: DnsResolver | undefined;
  readonly policy: ListenerPolicy;
  helo: { verb: 'EHLO' | 'HELO'; raw: string } | null = null;
  identity: AuthIdentity | null = null;
  /** The identity the TLS client certificate gave (spec 2.4); kept across RSET/EHLO. */
  certIdentity: AuthIdentity | null = null;
  /** AUTH succeeded on this connection (a second AUTH is refused, RFC 4954 4). */
  authenticatedByCommand = false;
  /** Failed authentication attempts on this connection (the shared attempt policy, spec 3.4). */
  readonly attempts: ConnectionAttempts;
  /** Authentication without TLS is allowed (loopback setting, auth/limits.ts). */
  readonly cleartextAuthAllowed: boolean;
  tx: Transaction | null = null;

  private sock: Socket;
  private tlsSock: TLSSocket | null;
  private readonly input: SocketInput;
  lines: LineReader;
  private out: string[] = [];
  private errors = 0;
  private unregister: (() => void) | null = null;
  private readonly maxCommandLine: number;

  constructor(
    readonly ctx: ServerContext,
    socket: Socket,
    readonly cid: string,
    private readonly opts: SessionOptions,
  ) {
    this.policy = opts.policy;
    this.sock = socket;
    this.tlsSock = socket instanceof TLSSocket ? socket : null;
    this.ip = socket.remoteAddress ?? '';
    this.resolver = opts.resolver;
    this.log = ctx.log.child({ cid, proto: 'smtp', kind: opts.policy.kind });
    this.input = new SocketInput(socket);
    this.maxCommandLine = ctx.config.limits.smtp.maxLineLength;
    const authLimits = authLimitsOf(ctx.config);
    this.attempts = new ConnectionAttempts(authLimits);
    this.cleartextAuthAllowed = authAllowedWithoutTls(authLimits, this.ip);
    // With AUTH offered, an AUTH line may be longer (RFC 4954 4: 12288 with initial response);
    // other commands are held to maxCommandLine after reading.
    this.lines = new LineReader({ maxLineLength: opts.policy.requiresAuth ? Math.max(MAX_AUTH_LINE, this.maxCommandLine) : this.maxCommandLine });
    socket.on('error', (err) => this.log.debug('socket error', { err }));
  }

  /** Protocol and cipher of the TLS layer, for Received fields: taken once per handshake. */
  get tlsInfo(): { version: string; cipher: string } | null {
    return this.tlsSock ? this.tlsParams : null;
  }
  private tlsParams: { version: string; cipher: string } | null = null;

  get tlsActive(): boolean {
    return this.tlsSock !== null;
  }

  /** For the mechanism table (sasl/mechanisms.ts). */
  authState(): ServerAuthState {
    return { protocol: 'smtp', tls: this.tlsActive, certificateMatched: this.certIdentity !== null, cleartextAllowed: this.cleartextAuthAllowed };
  }

  connInfo(): ConnInfo {
    return { protocol: 'smtp', ip: this.ip, tls: this.tlsSock, cid: this.cid };
  }

  /** Ends the session at the next read: shutdown (421 4.3.2) or revocation. */
  end(why: 'shutdown' | 'revoked', reply: Reply): void {
    this.input.abort(new SessionEnd(why, reply));
  }

  async run(): Promise<void> {
    this.log.debug('connected', { ip: this.ip, tls: this.tlsActive });
    try {
      if (this.tlsSock) await this.tlsEstablished();
      // Without TLS to come, no certificate can exempt the client from the budget: refuse now.
      else if (this.opts.tls === null) this.refuseOverBudget();
      this.send(greeting(this.ctx.config.hostname));
      for (;;) {
        const ev = await this.nextLine();
        if ((await this.handleLine(ev)) === 'quit') break;
      }
    } catch (err) {
      if (err instanceof SessionEnd) {
        if (err.why === 'timeout') this.send(R.timeout);
        else if (err.reply) this.send(err.reply);
        if (err.why !== 'closed') this.log.info('session ended', { why: err.why });
      } else {
        this.log.error('session failed', { err });
        this.send(R.localError);
      }
      await this.flush().catch(() => {});
    } finally {
      await this.resetTransaction();
      this.unregister?.();
      this.unregister = null;
      this.close();
    }
  }

  private close(): void {
    const s = this.sock;
    if (s.destroyed) return;
    s.end();
    // A peer that does not close its side is not waited for.
    setTimeout(() => s.destroy(), 2000).unref();
  }

  // ---- output

  send(r: Reply): void {
    if (r.code >= 400) this.errors++;
    this.out.push(formatReply(r));
  }

  /** A reply line written as is (334 challenges: RFC 4954 4 "334" SP [base64]). */
  sendRaw(line: string): void {
    this.out.push(line);
  }

  async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const data = this.out.join('');
    this.out = [];
    const s = this.sock;
    if (s.destroyed || !s.writable) throw new SessionEnd('closed');
    if (!s.write(data)) {
      // A client that pipelines without reading our replies waits here, and so do we, but not
      // forever: it gets the command timeout to read them, like any other wait for the client.
      const drained = await new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(timer);
          s.off('drain', onDrain);
          s.off('close', onClose);
          resolve(ok);
        };
        const onDrain = (): void => done(true);
        const onClose = (): void => done(false);
        const timer = setTimeout(() => done(false), this.timeout());
        s.on('drain', onDrain);
        s.on('close', onClose);
      });
      if (!drained) {
        s.destroy();
        throw new SessionEnd('closed');
      }
    }
  }

  // ---- input

  private timeout(): number {
    return this.helo ? this.opts.timeouts.commandMs : this.opts.timeouts.greetingMs;
  }

  /** The next line; replies are flushed before waiting for more input (RFC 2920). The whole line
   * must arrive within the command timeout from when we start waiting for it (RFC 5321
   * 4.5.3.2.7), however its bytes trickle in. */
  async nextLine(): Promise<LineEvent> {
    let deadline: number | undefined;
    for (;;) {
      const ev = this.lines.next();
      if (ev) return ev;
      await this.flush();
      // Set after the first flush: time spent writing our replies is not the client's.
      deadline ??= deadlineAfter(this.timeout());
      this.lines.push(await this.input.read(deadline));
    }
  }

  /** Starts the clock for one DATA message or BDAT chunk. */
  private dataDeadline(): ProgressDeadline {
    return new ProgressDeadline(this.opts.timeouts.commandMs);
  }

  private async readChunk(clock: ProgressDeadline): Promise<Buffer> {
    const b = await this.input.read(clock.at);
    clock.advance(b.length);
    return b;
  }

  // ---- commands

  private async handleLine(ev: LineEvent): Promise<Handled> {
    if (ev.type === 'overlong') {
      // Spec 4: SMTP command lines over the limit: 500 5.5.0, then close (the rest of the line
      // would be read as commands otherwise).
      throw new SessionEnd('protocol', R.lineTooLong);
    }
    let cmd: SmtpCommand;
    try {
      if (ev.line.length + 2 > this.maxCommandLine && !/^auth /i.test(ev.line.subarray(0, 5).toString('latin1'))) {
        throw new SmtpError(R.lineTooLong, true);
      }
      cmd = parseCommand(ev.line, {
        smtputf8: this.tx?.params.smtputf8 ?? false,
        extensions: { size: true, eightBitMime: true, binaryMime: false, smtputf8: true, dsn: false, auth: this.policy.requiresAuth, requireTls: true },
      });
    } catch (err) {
      if (!(err instanceof SmtpError)) throw err;
      if (err.fatal) throw new SessionEnd('protocol', err.reply);
      return this.fail(err.reply);
    }
    try {
      return await this.dispatch(cmd);
    } catch (err) {
      if (err instanceof SmtpError) {
        if (err.fatal) throw new SessionEnd('protocol', err.reply);
        return this.fail(err.reply);
      }
      throw err;
    }
  }

  /** Sends an error reply; too many of them end the session (Postfix smtpd_hard_error_limit). */
  private fail(r: Reply): Handled {
    this.send(r);
    if (this.errors >= MAX_ERRORS) throw new SessionEnd('protocol', S.tooManyErrors);
    return 'continue';
  }

  private async dispatch(cmd: SmtpCommand): Promise<Handled> {
    switch (cmd.verb) {
      case 'EHLO':
      case 'HELO':
        return this.hello(cmd);
      case 'STARTTLS':
        return this.startTls();
      case 'AUTH':
        await runAuth(this, cmd);
        return 'continue';
      case 'MAIL':
        return this.mail(cmd);
      case 'RCPT':
        return this.rcpt(cmd);
      case 'DATA':
        return this.data();
      case 'BDAT':
        return this.bdat(cmd);
      case 'BURL':
        return this.burl(cmd);
      case 'RSET':
        await this.resetTransaction();
        this.send(R.resetOk);
        return 'continue';
      case 'NOOP':
        this.send(R.noopOk);
        return 'continue';
      case 'QUIT':
        this.send(R.bye);
        await this.flush();
        return 'quit';
      case 'VRFY':
        // RFC 5321 3.5.3: 252 when we do not want to confirm addresses (harvesting).
        this.send(R.cannotVerify);
        return 'continue';
      case 'EXPN':
        return this.fail(S.expnDisabled);
      case 'HELP':
        this.send(R.help);
        return 'continue';
    }
  }

  private async hello(cmd: Extract<SmtpCommand, { verb: 'EHLO' | 'HELO' }>): Promise<Handled> {
    // RFC 5321 4.1.4: EHLO resets the transaction; the authentication state stays (spec 2.4).
    await this.resetTransaction();
    const raw = cmd.host.kind === 'domain' ? cmd.host.domain : cmd.host.raw;
    this.helo = { verb: cmd.verb, raw };
    const hostname = this.ctx.config.hostname;
    if (cmd.verb === 'HELO') {
      this.send(heloReply(hostname));
      return 'continue';
    }
    const tls = this.tlsActive;
    const mechanisms = this.policy.requiresAuth ? serverMechanisms(this.authState()) : undefined;
    this.send(
      ehloReply(hostname, '', {
        maxSize: this.ctx.config.limits.smtp.maxMessageSize,
        pipelining: true,
        startTls: !tls && this.opts.tls !== null && !this.opts.implicitTls,
        auth: mechanisms,
        enhancedStatusCodes: true,
        eightBitMime: true,
        chunking: true,
        smtpUtf8: true,
        requireTls: tls,
        // RFC 4468 3.1: submission only; bare while authentication is still needed to use it.
        burl: this.policy.kind === 'submission' && (this.identity || mechanisms?.length) ? burlOffer(hostname, this.identity !== null) : undefined,
      }),
    );
    return 'continue';
  }

  private async startTls(): Promise<Handled> {
    if (this.tlsSock) return this.fail(R.tlsAlreadyActive);
    const tls = this.opts.tls;
    if (!tls || this.opts.implicitTls) return this.fail(R.tlsNotAvailable);
    this.send(R.readyToStartTls);
    await this.flush();
    const raw = this.sock;
    // Anything the client sent after STARTTLS in the clear is dropped (RFC 3207 6).
    this.lines = new LineReader({ maxLineLength: this.lines.maxLineLength });
    const t = tls.wrap(raw);
    t.on('error', (err) => this.log.debug('tls error', { err }));
    this.input.switchTo(t);
    this.sock = t;
    raw.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionEnd('timeout')), this.opts.timeouts.greetingMs);
      t.once('secure', () => {
        clearTimeout(timer);
        resolve();
      });
      t.once('close', () => {
        clearTimeout(timer);
        reject(new SessionEnd('closed'));
      });
    });
    // RFC 3207 4.2: forget everything learned before TLS, EHLO included.
    this.tlsSock = t;
    this.helo = null;
    await this.resetTransaction();
    this.setIdentity(null);
    this.authenticatedByCommand = false;
    await this.tlsEstablished();
    return 'continue';
  }

  /** After a handshake: protocol version check and the certificate login of spec 2.2/2.4. */
  private async tlsEstablished(): Promise<void> {
    const t = this.tlsSock!;
    const p = acceptedTlsVersion(t);
    if (!p) throw new SessionEnd('closed');
    this.tlsParams = { version: p, cipher: t.getCipher()?.name ?? 'unknown' };
    this.log.debug('tls established', this.tlsParams);
    if (!this.policy.requiresAuth) return;
    const cert = this.opts.tls?.requestCert ? await this.ctx.auth.certificateLogin(this.connInfo()) : null;
    if (cert) {
      this.certIdentity = cert.identity;
      this.setIdentity(cert.identity);
      // The connection is logged in now: one Login attempts row (AUTH EXTERNAL adds none).
      await this.ctx.auth.recordLogin(this.connInfo(), 'tlsclientauth', cert.identity);
      this.log.info('authenticated by tls client certificate', { account: cert.identity.accountName, key: cert.identity.keyFingerprint });
      return;
    }
    this.refuseOverBudget();
  }

  /**
   * Spec 3.4: over the password-failure budget, a submission connection is refused (421 with the
   * time to wait), unless its TLS client certificate matched a key: proof of possession is never
   * refused by a password budget. Port 25 has no AUTH, so refusing mail there would protect nothing.
   */
  private refuseOverBudget(): void {
    if (!this.policy.requiresAuth || this.certIdentity) return;
    const wait = this.ctx.auth.retryAfterMs(this.ip);
    if (wait === 0) return;
    this.log.info('connection refused: too many auth failures', { retryAfterMs: wait });
    throw new SessionEnd('protocol', S.authRefused(refusedMessage(wait)));
  }

  /** Sets the session identity and (re)registers it for revocation (spec 2.5). */
  setIdentity(identity: AuthIdentity | null): void {
    this.unregister?.();
    this.unregister = null;
    this.identity = identity;
    if (identity) {
      this.unregister = this.ctx.sessions.add({
        identity,
        revoke: (reason) => this.end('revoked', S.revoked(reason)),
      });
    }
  }

  private async mail(cmd: Extract<SmtpCommand, { verb: 'MAIL' }>): Promise<Handled> {
    if (!this.helo) return this.fail(R.needEhloFirst);
    // RFC 3207 4 / spec 3.1: no mail submission in the clear (unless allowed for loopback clients).
    if (this.policy.requiresAuth && !this.tlsActive && !this.cleartextAuthAllowed) return this.fail(S.starttlsFirst);
    if (this.policy.requiresAuth && !this.identity) return this.fail(R.authRequired);
    if (this.tx) return this.fail(R.nestedMail);
    // RFC 8689 4.1: REQUIRETLS is only taken over TLS.
    if (cmd.params.requireTls && !this.tlsActive) return this.fail(S.requireTlsNeedsTls);
    const max = this.ctx.config.limits.smtp.maxMessageSize;
    // RFC 1870 6.1: a declared size over the limit is refused at once.
    if (cmd.params.size !== undefined && max > 0 && cmd.params.size > max) return this.fail(R.sizeExceedsLimit);
    const refused = await this.policy.checkMail(this, cmd.from);
    if (refused) return this.fail(refused);
    this.tx = {
      id: newTransactionId(),
      from: cmd.from,
      sender: cmd.from ? formatMailbox(cmd.from) : '',
      params: cmd.params,
      recipients: [],
      bdat: null,
      bdatFailed: false,
    };
    this.send(R.senderOk);
    return 'continue';
  }

  private async rcpt(cmd: Extract<SmtpCommand, { verb: 'RCPT' }>): Promise<Handled> {
    if (!this.helo) return this.fail(R.needEhloFirst);
    if (this.policy.requiresAuth && !this.identity) return this.fail(R.authRequired);
    const tx = this.tx;
    if (!tx) return this.fail(R.needMailFirst);
    if (tx.bdat) return this.fail(R.badSequence);
    // RFC 5321 4.5.3.1.10: 452 for too many recipients; the client sends the rest later.
    if (tx.recipients.length >= this.ctx.config.limits.smtp.maxRecipients) return this.fail(R.tooManyRecipients);
    const d = await this.policy.checkRcpt(this, cmd.to, tx);
    if (!d.ok) return this.fail(d.reply);
    const r = d.recipient;
    const dup = tx.recipients.some((x) => (r.accountId !== null ? x.accountId === r.accountId && x.address.toLowerCase() === r.address.toLowerCase() : x.address === r.address));
    if (!dup) tx.recipients.push(r);
    this.send(R.recipientOk);
    return 'continue';
  }

  /** The reply for a command that needs a transaction with recipients, or null. */
  private transactionState(): Reply | null {
    if (!this.helo) return R.needEhloFirst;
    if (this.policy.requiresAuth && !this.identity) return R.authRequired;
    if (!this.tx) return R.needMailFirst;
    if (this.tx.recipients.length === 0) return R.needRcptFirst;
    return null;
  }

  private async data(): Promise<Handled> {
    const bad = this.transactionState() ?? (this.tx?.bdat || this.tx?.bdatFailed ? R.mixedDataBdat : null);
    if (bad) return this.fail(bad);
    const tx = this.tx!;
    const spool = this.opts.spool.create(this.cid);
    try {
      this.send(R.startData);
      await this.flush();
      const maxSize = this.ctx.config.limits.smtp.maxMessageSize || Number.MAX_SAFE_INTEGER;
      let pending: Buffer[] = [];
      // Slices of socket chunks are kept only until the spool write below, before the next read:
      // no copy needed (socket buffers are never reused).
      const reader = new DataReader({ sink: (b) => pending.push(b), maxSize, bareLf: 'convert' });
      const clock = this.dataDeadline();
      let chunk = this.lines.takeBuffered();
      for (;;) {
        const r = chunk.length ? reader.push(chunk) : undefined;
        const batch = pending;
        pending = [];
        await spool.write(batch);
        if (r) {
          this.lines.push(r.rest);
          if (r.bareLf) this.log.info('bare LF in message data converted to CRLF', { count: r.bareLf });
          await spool.finish();
          if (r.exceeded) return this.fail(R.messageTooBig);
          if (r.nul) return this.fail(R.nulInData);
          if (r.bareCr) return this.refuseBareCr(r.bareCr);
          return await this.finishMessage(tx, spool);
        }
        chunk = await this.readChunk(clock);
      }
    } finally {
      await spool.remove();
      await this.resetTransaction();
    }
  }

  private async bdat(cmd: Extract<SmtpCommand, { verb: 'BDAT' }>): Promise<Handled> {
    // RFC 3030 2: the chunk follows the command in any case; it is read even when refused so the
    // next command is found.
    const bad = this.transactionState() ?? (this.tx?.bdatFailed ? R.mixedDataBdat : null);
    if (bad) {
      await this.readBdatChunk(cmd.size, () => {}, null);
      if (cmd.last && this.tx) await this.resetTransaction();
      return this.fail(bad);
    }
    const tx = this.tx!;
    const st = this.chunkState(tx);
    const chunk = st.message.chunk(cmd.size, cmd.last);
    await this.readBdatChunk(cmd.size, (b) => chunk.push(b), async () => {
      await st.spool.write(st.pending.splice(0));
    });
    return this.chunkDone(tx, st, cmd.size, cmd.last);
  }

  /** The transaction's chunked message (BDAT and BURL add to it), started by its first chunk. */
  private chunkState(tx: Transaction): BdatState {
    if (!tx.bdat) {
      const spool = this.opts.spool.create(this.cid);
      const normalizer = new CrlfNormalizer();
      const pending: Buffer[] = [];
      const message = new BdatMessage({
        sink: (b) => pending.push(...normalizer.push(b)),
        maxSize: this.ctx.config.limits.smtp.maxMessageSize || Number.MAX_SAFE_INTEGER,
      });
      tx.bdat = { message, spool, normalizer, pending };
    }
    return tx.bdat;
  }

  /**
   * RFC 4468: the content of an IMAP URL taken as the next chunk, with the semantics of BDAT
   * (RFC 3030: ordered chunks, LAST ends the message, a failed chunk fails the transaction).
   */
  private async burl(cmd: BurlCommand): Promise<Handled> {
    if (this.policy.kind !== 'submission') return this.fail(R.commandNotImplemented);
    const bad = this.transactionState() ?? (this.tx?.bdatFailed ? R.mixedDataBdat : null);
    if (bad) {
      if (cmd.last && this.tx) await this.resetTransaction();
      return this.fail(bad);
    }
    const tx = this.tx!;
    const part = await burlPart(this, this.identity!, cmd.url);
    if (!('chunks' in part)) return this.burlFailed(tx, cmd.last, part);
    const st = this.chunkState(tx);
    const chunk = st.message.chunk(part.size, cmd.last);
    try {
      for await (const piece of part.chunks()) {
        chunk.push(piece);
        await st.spool.write(st.pending.splice(0));
      }
    } catch (err) {
      // The message was expunged while we read it.
      if (err instanceof StoreError && err.code === 'contentmissing') return this.burlFailed(tx, cmd.last, S.burlUnresolved);
      throw err;
    }
    return this.chunkDone(tx, st, part.size, cmd.last, S.burlReceived);
  }

  /** RFC 3030 2 (RFC 4468 3 takes its chunk rules): the rest of the transaction's chunks are
   * refused, and LAST ends it. */
  private async burlFailed(tx: Transaction, last: boolean, reply: Reply): Promise<Handled> {
    tx.bdatFailed = true;
    if (tx.bdat) await tx.bdat.spool.remove();
    tx.bdat = null;
    if (last) await this.resetTransaction();
    return this.fail(reply);
  }

  /** After a chunk's bytes (BDAT or BURL): over the size limit, more to come (`more`, else BDAT's
   * reply), or the end. */
  private async chunkDone(tx: Transaction, st: BdatState, size: number, last: boolean, more?: Reply): Promise<Handled> {
    if (st.message.exceeded) {
      // RFC 3030 2 / RFC 1870: over the limit; the rest of this transaction's chunks are refused.
      tx.bdatFailed = true;
      await st.spool.remove();
      tx.bdat = null;
      if (last) await this.resetTransaction();
      return this.fail(R.messageTooBig);
    }
    if (!last) {
      this.send(more ?? S.chunkReceived(size));
      return 'continue';
    }
    try {
      await st.spool.finish();
      st.normalizer.finish();
      if (st.normalizer.converted) this.log.info('bare LF in BDAT data converted to CRLF', { count: st.normalizer.converted });
      if (st.message.nul) return this.fail(R.nulInData);
      if (st.normalizer.bareCr) return this.refuseBareCr(st.normalizer.bareCr);
      return await this.finishMessage(tx, st.spool);
    } finally {
      await this.resetTransaction();
    }
  }

  /** Reads the `size` octets of a BDAT chunk from the input into `sink`. */
  private async readBdatChunk(size: number, sink: (b: Buffer) => void, afterEach: (() => Promise<void>) | null): Promise<void> {
    const reader = new BdatChunkReader(size, sink);
    const clock = this.dataDeadline();
    let chunk = this.lines.takeBuffered();
    for (;;) {
      const r = reader.push(chunk);
      if (afterEach) await afterEach();
      if (r) {
        this.lines.push(r.rest);
        return;
      }
      chunk = await this.readChunk(clock);
    }
  }

  private refuseBareCr(count: number): Handled {
    this.log.info('message with bare CR refused', { count, account: this.identity?.accountName });
    return this.fail(R.bareCr);
  }

  /** The end of a message: the policy prepares it, deliver() commits it, then 250. */
  private async finishMessage(tx: Transaction, spool: SpoolFile): Promise<Handled> {
    if (spool.error) return this.fail(this.storageReply(spool.error));
    try {
      const prepared = await this.policy.prepare(this, tx, spool);
      if (!(prepared instanceof MessageSource)) return this.fail(prepared);
      const local = [...new Set(tx.recipients.filter((r) => r.accountId !== null).map((r) => r.accountId!))];
      const remote = tx.recipients.filter((r) => r.accountId === null).map((r) => r.address);
      const res = await deliver(this.ctx.store, {
        sender: tx.sender,
        localAccounts: local,
        remote: remote.length ? { accountId: this.identity?.accountId ?? null, recipients: remote } : null,
        content: prepared,
        ...(tx.params.requireTls && { requireTls: true }),
        junk: tx.routing?.junk,
        accountFields: tx.routing?.fields,
      }, this.log);
      if (res.overQuota.length) await this.bounceOverQuota(tx, prepared, res.overQuota);
      // Remote recipients leave now rather than at the queue's next poll.
      if (res.queueId !== null) this.ctx.queue?.kick();
      this.log.info('message accepted', {
        id: tx.id, from: tx.sender, rcpts: tx.recipients.length, size: prepared.size,
        local: local.length, queued: res.queueId ?? undefined, account: this.identity?.accountName,
      });
      this.errors = 0;
      this.send(S.messageQueued(tx.id));
      return 'continue';
    } catch (err) {
      return this.fail(this.storageReply(err));
    }
  }

  /** The message went to some recipients; the ones over quota get a DSN (RFC 3464, status 5.2.2). */
  private async bounceOverQuota(tx: Transaction, message: MessageSource, accounts: number[]): Promise<void> {
    const failed = tx.recipients.filter((r) => r.accountId !== null && accounts.includes(r.accountId));
    this.log.info('recipients over quota', { id: tx.id, rcpts: failed.map((r) => r.address).join(',') });
    try {
      await sendDsnAbout(this.ctx.store, {
        sender: tx.sender,
        arrivalDate: new Date(),
        original: await message.head(MAX_HEADER_SECTION),
        ref: { id: tx.id },
        ...(tx.params.requireTls && { requireTls: true }),
      }, failed.map((r) => ({ address: r.address, action: 'failed', status: '5.2.2', message: 'mailbox full (storage quota exceeded)', reply: R.quotaExceeded })),
      { hostname: this.ctx.config.hostname, now: new Date(), log: this.log });
      this.ctx.queue?.kick();
    } catch (err) {
      // The others have the message: a retry would deliver it twice. The sender is not told.
      this.log.error('over-quota DSN failed', { id: tx.id, err });
    }
  }

  /** Disk full: 452 4.3.1; over quota (no recipient got it): 552 5.2.2; else 451 4.3.0 (logged). */
  private storageReply(err: unknown): Reply {
    const e = asStoreIoError(err);
    if (e instanceof StoreError && e.code === 'nospace') {
      this.log.error('no space for message', { err });
      return R.insufficientStorage;
    }
    if (e instanceof StoreError && e.code === 'toobig') return R.messageTooBig;
    if (e instanceof StoreError && e.code === 'overquota') return R.quotaExceeded;
    this.log.error('message not stored', { err });
    return R.localError;
  }

  async resetTransaction(): Promise<void> {
    const tx = this.tx;
    this.tx = null;
    if (tx?.bdat) await tx.bdat.spool.remove();
  }
}
