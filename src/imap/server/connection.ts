// One IMAP connection: socket I/O, the reader loop, connection state and command dispatch.
//
// Invariants:
// - Commands run one at a time, in order; the socket is paused while the reader holds more than
//   READ_HIGH_WATER unprocessed bytes, so memory per connection is bounded (literal limits in
//   proto/command-reader.ts, APPEND literals streamed to disk through a bounded channel).
// - Changes from other sessions arrive through the change feed after commit and are queued in the
//   MailboxView; they are written only while a command is in progress (before its tagged reply) or
//   during IDLE. EXPUNGE/VANISHED are held back during FETCH, STORE, SEARCH, SORT and THREAD (RFC 9051 7.5.1).
//   One change reaches every session of the account: the sessions that report it share its store
//   lookups, write each report with one socket write, and IDLE updates run a group at a time on one
//   scheduler (change-fanout.ts), so the first sessions are notified before the last ones start.
// - Every tagged reply is produced in exactly one place (finishCommand / the APPEND path); handlers
//   throw ImapError for NO/BAD. Unexpected errors are logged with the cid and answered
//   `NO [SERVERBUG]`; no stack trace ever reaches the wire.
// - After STARTTLS nothing read before the handshake is used (RFC 9051 6.2.1: plaintext injection).
// - An authenticated session is registered with ctx.sessions (spec 2.5): revoked → `* BYE` and close.
// - Idle limit (spec 3.4): one timer, restarted only by progress that costs the client a whole line
//   (a command, a literal announcement), by each LITERAL_PROGRESS bytes of an APPEND message, and
//   by the peer draining our output. A socket timeout would restart on every byte, so a client
//   dribbling one byte a second would never be dropped. While the server itself is busy (not
//   waiting on the peer) the timer does not fire.
// - Closing never waits for the peer: BYE is written only if the output buffer has room, and the
//   socket is destroyed after CLOSE_GRACE_MS whatever the peer does.
// - After COMPRESS (RFC 4978) every byte after the tagged OK goes through compress-layer.ts: input
//   is inflated into the same reader (same limits, paused with the socket), output is deflated and
//   flushed once per burst: when the connection starts waiting for the client, and for writes made
//   while it waits (IDLE updates, BYE) once the burst is over.
// - Without COMPRESS, output is coalesced the same way (coalesced-output.ts): the socket is corked
//   from the first write of a burst until the command is done or the connection waits for the
//   client, so a command's response is one socket write (one TLS record per 16 KiB). Writes made
//   while waiting (IDLE, NOTIFY) go out after the current event-loop turn.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { authAllowedWithoutTls, ConnectionAttempts, refusedMessage } from '../../auth/attempt-policy.js';
import type { AuthIdentity, CertificateLogin, ConnInfo } from '../../auth/authenticator.js';
import { authLimitsOf } from '../../auth/limits.js';
import type { Logger } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import type { Change } from '../../store/change-feed.js';
import { acceptedTlsVersion } from '../../tls/server-context.js';
import type { ListenerTls } from '../../tls/server-tls.js';
import { CommandReader, type CommandPart, type ReaderEvent } from '../proto/command-reader.js';
import { DEFAULT_APPEND_LIMIT, MAX_BAD_COMMANDS, readerLimitsFrom } from '../proto/limits.js';
import { commandTag, parseCommand } from '../proto/parse-command.js';
import { ResponseBuilder, safeText } from '../proto/response-writer.js';
import { ImapSyntaxError, UnknownCommandError } from '../proto/syntax-error.js';
import type { Command, CommandOf, FetchAtt } from '../proto/types.js';
import { AppendSession } from './cmd-append.js';
import { BatchedOutput, idleFanout, storeForBatch } from './change-fanout.js';
import { CoalescedOutput } from './coalesced-output.js';
import { CompressLayer } from './compress-layer.js';
import { availableMechanisms } from './authenticate.js';
import { capabilities, withDependents } from './capabilities.js';
import { dispatch, type CommandResult } from './dispatch.js';
import { ImapError, fromStoreError } from './errors.js';
import { fromWire, toWire } from './mailbox-names.js';
import type { MailboxView, NewMessageFetch, ViewOutput } from './mailbox-view.js';
import { fetchNewMessages, fetchUids, ownEventsOf, type NotifySession } from './notify-session.js';

const READ_HIGH_WATER = 512 * 1024;
/** Commands whose answers have the form of NOTIFY's notifications: those wait until after the reply. */
const ANSWERED_IN_KIND = new Set(['LIST', 'LSUB', 'STATUS', 'GETMETADATA']);
/** Commands that add messages themselves (their new messages get no NOTIFY MessageNew FETCH). */
const ADDS_MESSAGES = new Set(['APPEND', 'COPY', 'MOVE', 'REPLACE']);
/** APPEND message bytes that count as progress for the idle timer (a slow real upload goes on). */
const LITERAL_PROGRESS = 64 * 1024;
/** How long a closing socket may take to flush its BYE before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

export type ConnState = 'notauth' | 'auth' | 'selected' | 'logout';

export interface ConnectionOptions {
  implicitTls: boolean;
  /** The listener asks for client certificates; only then may one log in (spec 2.2). */
  requestClientCert: boolean;
  /** The listener's TLS (implicit TLS and STARTTLS); null without a certificate. */
  tls: ListenerTls | null;
}

export class ImapConnection {
  state: ConnState = 'notauth';
  identity: AuthIdentity | null = null;
  view: MailboxView | null = null;
  /** ENABLEd extensions (RFC 5161), upper case. */
  readonly enabled = new Set<string>();
  /** Capabilities the account hides from its sessions (`postern account capabilities`); none before login. */
  hiddenCapabilities = new Set<string>();
  /** CONDSTORE turned on by ENABLE or a CONDSTORE-enabling command (RFC 7162 3.1). */
  condstore = false;
  readonly log: Logger;
  readonly appendLimit: number;
  /** Set while IDLE waits for DONE: changes are written as they come. */
  idling = false;
  /** NOTIFY (RFC 5465) state; null until the first NOTIFY. */
  notify: NotifySession | null = null;
  /** A command is being executed: unsolicited NOTIFY writes wait for its end (or its syncAfter). */
  private inCommand = false;
  closed = false;
  /** Failed authentication attempts on this connection (the shared attempt policy, spec 3.4). */
  readonly attempts: ConnectionAttempts;
  /** Authentication without TLS is allowed (loopback setting, auth/limits.ts). */
  readonly cleartextAuthAllowed: boolean;
  /** The identity of the TLS client certificate, when its key is known (spec 2.2). */
  certLogin: CertificateLogin | null = null;
  /** After STARTTLS: the certificate check that must finish before the next command. */
  private certCheck: Promise<void> | null = null;

  private sock: Socket;
  /** Coalesces the writes of one burst on `sock` (replaced with it at STARTTLS). */
  private out: CoalescedOutput;
  private tlsSock: TLSSocket | null;
  /** The TCP socket under a TLS socket (for flow control). */
  private rawSock: Socket | null = null;
  private reader: CommandReader;
  private waiter: (() => void) | null = null;
  private paused = false;
  private commandsSeen = 0;
  /** Commands in a row answered BAD by the parser (MAX_BAD_COMMANDS). */
  private badInARow = 0;
  private unsubscribe: (() => void) | null = null;
  private unregister: (() => void) | null = null;
  private append: AppendSession | null = null;
  /** The APPEND whose parsed command is being executed (handleAppend commits its staged messages). */
  pendingAppend: AppendSession | null = null;
  /**
   * The last change batch queued for the selected mailbox: sessions that report the same batch
   * share its store lookups (change-fanout.ts). Null when unknown: the view queries the store.
   */
  private lastBatch: Change[] | null = null;
  /** The IDLE update job (idleJob) is queued on idleFanout or running. */
  private idleJobActive = false;
  /** Changes came that the IDLE update job has not started to report yet. */
  private idleWanted = false;
  /** waitIdleFlush callers, until the job is over. */
  private idleWaiters: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  /** >0 while the connection waits for the peer: for input, or for it to drain our output. */
  private waitingOnPeer = 0;
  /** APPEND message bytes received since the idle timer was last restarted. */
  private literalBytes = 0;
  private ending = false;
  /** COMPRESS=DEFLATE is active (RFC 4978). */
  private compressor: CompressLayer | null = null;
  /** The loop waits for client input: writes now are a burst of their own (IDLE updates, BYE). */
  private awaitingInput = false;
  private readonly onData = (d: Buffer): void => this.received(d);
  private readonly onEnd = (): void => this.markClosed();

  constructor(
    readonly ctx: ServerContext,
    socket: Socket,
    readonly cid: string,
    readonly opts: ConnectionOptions,
    raw?: Socket,
  ) {
    this.rawSock = raw ?? null;
    this.sock = socket;
    this.out = new CoalescedOutput(socket);
    this.tlsSock = socket instanceof TLSSocket ? socket : null;
    this.log = ctx.log.child({ cid, proto: 'imap', ip: socket.remoteAddress });
    this.reader = new CommandReader(readerLimitsFrom(ctx.config.limits?.imap));
    this.appendLimit = ctx.config.limits?.imap?.appendLimit ?? DEFAULT_APPEND_LIMIT;
    const authLimits = authLimitsOf(ctx.config);
    this.attempts = new ConnectionAttempts(authLimits);
    this.cleartextAuthAllowed = authAllowedWithoutTls(authLimits, socket.remoteAddress ?? '');
    this.attach(socket);
    this.touch();
  }

  get tls(): boolean {
    return this.tlsSock !== null;
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** Whether mailbox names and quoted strings may carry UTF-8 (RFC 6855 3, RFC 9051). */
  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  /** RFC 9586: UIDs only, no message sequence numbers in commands or responses. */
  get uidOnly(): boolean {
    return this.enabled.has('UIDONLY');
  }

  connInfo(): ConnInfo {
    return { protocol: 'imap', ip: this.sock.remoteAddress ?? '', tls: this.tlsSock, cid: this.cid };
  }

  capabilityList(): string[] {
    const caps = capabilities({
      authenticated: this.state !== 'notauth',
      tls: this.tls,
      authAllowed: this.tls || this.cleartextAuthAllowed,
      starttlsAvailable: !this.opts.implicitTls && this.opts.tls !== null,
      appendLimit: this.appendLimit,
      mechanisms: availableMechanisms(this),
    });
    return this.hiddenCapabilities.size === 0 ? caps : caps.filter((c) => !this.hiddenCapabilities.has(c.toUpperCase()));
  }

  builder(): ResponseBuilder {
    return new ResponseBuilder(this.utf8);
  }

  wireName(name: string): string {
    return toWire(name, this.utf8);
  }

  storeName(wire: string): string {
    return fromWire(wire, this.utf8);
  }

  flagList(flags: string[]): string {
    return `(${flags.join(' ')})`;
  }

  viewOutput(): ViewOutput {
    return {
      untagged: (t) => this.untagged(t),
      condstore: this.condstore,
      qresync: this.qresync,
      rev2: this.rev2,
      uidOnly: this.uidOnly,
      flagList: (f) => this.flagList(f),
    };
  }

  // ---- socket I/O ----

  private attach(sock: Socket): void {
    sock.on('data', this.onData);
    sock.on('end', this.onEnd);
    sock.on('close', this.onEnd);
    sock.on('error', (err) => {
      this.log.debug('socket error', { err });
      this.markClosed();
    });
  }

  private idleMs(): number {
    const l = this.ctx.config.limits?.imap;
    return this.state === 'notauth' ? (l?.idleTimeoutBeforeAuthMs ?? 30_000) : (l?.idleTimeoutAfterAuthMs ?? 30 * 60_000);
  }

  /** Restarts the idle timer: the peer made real progress (see the invariants above). */
  private touch(): void {
    if (this.closed) return;
    this.literalBytes = 0;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.idleExpired(), this.idleMs());
    this.idleTimer.unref();
  }

  private idleExpired(): void {
    this.idleTimer = null;
    // Slow work of our own (a big SEARCH) is not the client's idleness.
    if (this.waitingOnPeer === 0) return this.touch();
    this.log.info('idle timeout', { state: this.state });
    void this.bye('autologout; idle for too long');
  }

  private received(d: Buffer): void {
    if (this.compressor) return this.compressor.input(d);
    // A TLS ClientHello on the plain port is not IMAP (spec 4: non-IMAP first line gets BYE).
    if (this.commandsSeen === 0 && !this.tls && this.reader.buffered === 0 && d[0] === 0x16) {
      this.commandsSeen++;
      void this.bye('this port speaks IMAP, not TLS');
      return;
    }
    this.plainReceived(d);
  }

  /** Client bytes as IMAP (inflated ones after COMPRESS). */
  private plainReceived(d: Buffer): void {
    this.reader.push(d);
    if (this.reader.buffered > READ_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.sock.pause();
      // Under TLS the TCP socket must stop too, or ciphertext piles up in the TLS layer's buffer.
      this.rawSock?.pause();
      // And the inflater: the next chunk of a decompression bomb waits until the reader has room.
      this.compressor?.pauseInput();
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.cleanup();
    this.wake();
  }

  private cleanup(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unregister?.();
    this.unregister = null;
    this.append?.abort();
    this.append = null;
  }

  async send(data: Buffer | string): Promise<void> {
    if (this.closed || this.sock.destroyed) return;
    const z = this.compressor;
    if (z) {
      const room = z.write(data);
      if (this.awaitingInput) z.flushSoon(this.idling);
      if (!room) await this.peerDrained(z.drained());
      return;
    }
    // A write with no flush point ahead (the loop waits for the client, or runs no command) ends
    // its burst after this event-loop turn.
    if (!this.out.write(data, this.awaitingInput || !this.inCommand)) await this.peerDrained(this.drainedSocket());
  }

  /**
   * Back-pressure: memory stays bounded. The idle timer bounds the wait (a peer that never reads is
   * dropped), and each drain is progress.
   */
  private async peerDrained(drained: Promise<void>): Promise<void> {
    this.waitingOnPeer++;
    try {
      await drained;
    } finally {
      this.waitingOnPeer--;
    }
    this.touch();
  }

  private drainedSocket(): Promise<void> {
    const sock = this.sock;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        sock.off('drain', done);
        sock.off('close', done);
        resolve();
      };
      sock.on('drain', done);
      sock.on('close', done);
    });
  }

  /** Sends what the connection holds now (a reply the client must see before it goes on). */
  flushOutput(): void {
    if (this.compressor) this.compressor.flush();
    else this.out.flush();
  }

  get compressed(): boolean {
    return this.compressor !== null;
  }

  /**
   * COMPRESS=DEFLATE (RFC 4978 3): writes the tagged OK as it is, then compresses everything after
   * its CRLF, both ways. Bytes already read after the command are compressed ones: inflated too.
   */
  async startCompression(okLine: string): Promise<void> {
    // The OK leaves uncompressed and at once; the compressor writes to the socket itself.
    const room = this.out.write(okLine, false);
    this.out.flush();
    const z = new CompressLayer(this.sock, {
      plain: (d) => this.plainReceived(d),
      failed: (err) => {
        this.log.info('compression failed', { err: err.message });
        void this.bye('invalid compressed data');
      },
    });
    this.compressor = z;
    for (const chunk of this.reader.takeUnread()) z.input(chunk);
    if (!room) await this.peerDrained(this.drainedSocket());
  }

  untagged(text: string): Promise<void> {
    return this.send(`* ${text}\r\n`);
  }

  /**
   * `* BYE` (RFC 9051 7.1.5), then close. Best effort: the BYE is written only when the output
   * buffer has room, never awaited, so a peer that does not read cannot hold the connection.
   */
  async bye(text: string): Promise<void> {
    if (this.closed) return;
    const line = `* BYE ${safeText(text)}\r\n`;
    if (this.compressor) {
      if (!this.sock.destroyed && !this.compressor.needDrain) this.compressor.write(line);
    } else if (!this.sock.destroyed && !this.sock.writableNeedDrain) this.sock.write(line);
    this.close();
  }

  close(): void {
    this.state = 'logout';
    this.markClosed();
    if (this.ending) return;
    this.ending = true;
    const sock = this.sock;
    const raw = this.rawSock;
    const z = this.compressor;
    // What the client still sends is not read; a socket paused at the high-water mark must flow
    // (into nothing) to see the client's FIN, or it stays open until the grace timer.
    sock.off('data', this.onData);
    sock.resume();
    raw?.resume();
    // Compressed: the final deflate block carries what is left (a BYE), then the socket ends.
    if (z) z.end(() => sock.end());
    else {
      this.out.flush();
      sock.end();
    }
    // A peer that does not read must not keep the socket (and its buffered output) for long.
    setTimeout(() => {
      z?.destroy();
      sock.destroy();
      raw?.destroy();
    }, CLOSE_GRACE_MS).unref();
  }

  /** The next reader event; null once the connection is closed or the reader is dead. */
  async nextEvent(): Promise<ReaderEvent | null> {
    for (;;) {
      if (this.closed) return null;
      const ev = this.reader.next();
      if (ev) {
        this.progress(ev);
        return ev;
      }
      if (this.reader.dead) return null;
      if (this.paused) {
        this.paused = false;
        this.rawSock?.resume();
        this.sock.resume();
        this.compressor?.resumeInput();
      }
      // The client waits for what we wrote (a tagged reply, a continuation): end the burst. In
      // IDLE the session goes quiet: the deflate state is freed at once.
      if (this.compressor) this.compressor.flush(this.idling);
      else this.out.flush();
      this.waitingOnPeer++;
      this.awaitingInput = true;
      try {
        await new Promise<void>((r) => (this.waiter = r));
      } finally {
        this.waitingOnPeer--;
        this.awaitingInput = false;
      }
    }
  }

  /** Whole lines restart the idle timer; APPEND data does every LITERAL_PROGRESS bytes; a partial line never does. */
  private progress(ev: ReaderEvent): void {
    if (ev.kind === 'message-data') {
      this.literalBytes += ev.chunk.length;
      if (this.literalBytes >= LITERAL_PROGRESS) this.touch();
      return;
    }
    this.touch();
  }

  acceptMessage(): void {
    this.reader.acceptMessage();
  }

  /** `fatal`: the reader stops (the connection is closing), nothing of the literal is read. */
  rejectMessage(fatal = false): void {
    this.reader.rejectMessage(fatal);
  }

  /** Reads one continuation line (AUTHENTICATE response, IDLE's DONE); null when the connection ended. */
  async readLine(): Promise<Buffer | null> {
    for (;;) {
      const ev = await this.nextEvent();
      if (!ev) return null;
      if (ev.kind === 'command') return Buffer.concat(ev.parts.map((p) => p.text));
      // A literal in a continuation line is not valid here: drop and handle as the reader says.
      if (!(await this.handleReaderProblem(ev))) return null;
    }
  }

  // ---- the loop ----

  async run(): Promise<void> {
    try {
      // A resumed session may carry a certificate although this listener asked for none.
      if (this.tlsSock && this.opts.requestClientCert) await this.checkCertificate();
      // Without TLS to come, no certificate can exempt the client from the budget: refuse now.
      if ((this.tlsSock || this.opts.implicitTls || this.opts.tls === null) && (await this.refusedByBudget())) return;
      if (this.certLogin && !this.certLogin.noImapPreauth) {
        // Spec 2.3: a known key on implicit TLS pre-authenticates the connection.
        await this.loggedIn(this.certLogin.identity);
        await this.ctx.auth.recordLogin(this.connInfo(), 'tlsclientauth', this.certLogin.identity);
        await this.untagged(`PREAUTH [CAPABILITY ${this.capabilityList().join(' ')}] Postern IMAP4rev2 server ready, logged in as ${this.certLogin.identity.username}`);
      } else {
        await this.untagged(`OK [CAPABILITY ${this.capabilityList().join(' ')}] Postern IMAP4rev2 server ready`);
      }
      for (;;) {
        const ev = await this.nextEvent();
        if (!ev) break;
        if (this.certCheck) {
          await this.certCheck;
          this.certCheck = null;
          if (await this.refusedByBudget()) break;
        }
        await this.handleEvent(ev);
        // The command's tagged reply (or a literal's continuation) goes out now, even when the
        // client pipelined the next command.
        if (!this.compressor) this.out.flush();
        // The client's idle time starts when it has our answer, not when it sent the command
        // (not after APPEND data events: one per byte would otherwise each restart the timer).
        if (ev.kind === 'command') this.touch();
      }
    } catch (err) {
      this.log.error('connection failed', { err: (err as Error)?.stack ?? String(err) });
      await this.bye('internal server error');
    } finally {
      this.close();
    }
  }

  private async handleEvent(ev: ReaderEvent): Promise<void> {
    // Notifications being written between commands (NOTIFY) end before this command's responses.
    if (this.idleJobActive) await this.waitIdleFlush();
    this.inCommand = true;
    try {
      await this.handleEventNow(ev);
    } finally {
      this.inCommand = false;
      if (this.notifyPending()) this.flushIdle();
    }
  }

  private async handleEventNow(ev: ReaderEvent): Promise<void> {
    switch (ev.kind) {
      case 'command':
        if (this.append) return this.append.finish(ev.parts);
        return this.onCommand(ev.parts);
      case 'continue':
        return this.send('+ Ready for literal data\r\n');
      case 'message-literal':
        if (!this.append) this.append = new AppendSession(this, () => (this.append = null));
        return this.append.literal(ev);
      case 'message-data':
        return this.append?.data(ev.chunk);
      case 'message-end':
        if (this.append?.awaitingLineEnd && this.reader.buffered === 0) {
          // The client waited for "+" and wrote the message: most (python imaplib, Roundcube) then
          // write the closing CRLF separately, with Nagle's algorithm on, so their kernel holds it
          // until the message is acknowledged, and ours delays that ACK by up to 40 ms (it has
          // just answered, so it expects to reply again soon). Dovecot re-arms TCP_QUICKACK, which
          // Node cannot set; any data we send carries the ACK at once, so an untagged OK (which a
          // client accepts at any time, RFC 9051 7.1.1) does it.
          await this.send('* OK message data received\r\n');
          this.flushOutput();
        }
        return this.append?.end();
      default:
        await this.handleReaderProblem(ev);
    }
  }

  /** toobig / line-too-long; returns whether the connection goes on. */
  private async handleReaderProblem(ev: ReaderEvent): Promise<boolean> {
    if (ev.kind === 'toobig') {
      this.commandsSeen++;
      // A failed APPEND in progress is over too.
      this.append?.abort();
      this.append = null;
      if (ev.sync) {
        await this.send(`${ev.tag ?? '*'} BAD [TOOBIG] ${ev.message}\r\n`);
        return true;
      }
      // RFC 7888 4: the server cannot find the end of the data: BYE and close.
      await this.send(`* BYE [ALERT] ${ev.message}; closing connection\r\n`);
      if (ev.tag) await this.send(`${ev.tag} BAD [TOOBIG] ${ev.message}\r\n`);
      this.close();
      return false;
    }
    if (ev.kind === 'line-too-long') {
      await this.send(`* BYE [ALERT] command line too long\r\n`);
      this.close();
      return false;
    }
    return true;
  }

  private async onCommand(parts: CommandPart[]): Promise<void> {
    const first = this.commandsSeen++ === 0;
    let cmd: Command;
    try {
      cmd = parseCommand(parts);
    } catch (err) {
      if (err instanceof UnknownCommandError && first) {
        // Spec 4: a non-IMAP first line (HTTP, SMTP, garbage) gets BYE and a close.
        await this.bye('this is an IMAP server; unrecognised first command');
        return;
      }
      if (err instanceof ImapSyntaxError) {
        const tag = err instanceof UnknownCommandError ? err.tag : commandTag(parts);
        // RFC 9051 6.4.4: an unsupported charset is NO [BADCHARSET], not a syntax error.
        const status = err.code?.startsWith('BADCHARSET') ? 'NO' : 'BAD';
        await this.send(`${tag ?? '*'} ${status} ${err.code ? `[${err.code}] ` : ''}${safeText(err.message)}\r\n`);
        if (status === 'BAD' && ++this.badInARow >= MAX_BAD_COMMANDS) await this.bye('too many invalid commands');
        return;
      }
      throw err;
    }
    this.badInARow = 0;
    await this.execute(cmd);
  }

  /** Runs a parsed command and writes its tagged reply. */
  async execute(cmd: Command): Promise<void> {
    let result: CommandResult | void;
    // RFC 5465 5: the mailbox events this command causes are not reported to this session.
    const own = this.notify?.startOwn(ownEventsOf(cmd, (w) => this.storeName(w))) ?? false;
    try {
      result = await dispatch(this, cmd);
    } catch (err) {
      // Failed: the changes it held were another session's, reported now (after a NO) or soon.
      const requeued = own && (this.notify?.endOwn(false, this.view?.mailbox.id ?? null) ?? false);
      await this.finishWithError(cmd, err);
      if (requeued && this.notify?.hasPending) this.flushIdle();
      return;
    }
    if (own) this.notify?.endOwn(true, null);
    if (result?.taggedSent || this.closed) return;
    await this.syncAfter(cmd);
    const code = result?.code ? `[${result.code}] ` : '';
    await this.send(`${cmd.tag} OK ${code}${safeText(result?.text ?? `${cmd.name} completed`)}\r\n`);
  }

  async finishWithError(cmd: { tag: string; name: string }, err: unknown): Promise<void> {
    let e: ImapError | null = err instanceof ImapError ? err : fromStoreError(err);
    if (!e && err instanceof ImapSyntaxError) e = new ImapError('BAD', err.code, err.message);
    if (!e) {
      this.log.error('command failed', { cmd: cmd.name, err: (err as Error)?.stack ?? String(err) });
      e = new ImapError('NO', 'SERVERBUG', `internal error; reference ${this.cid}`);
    }
    if (this.closed) return;
    // Untagged updates may still go out before a NO (not before BAD: the command did not run).
    if (e.status === 'NO') await this.syncAfter(cmd as Command);
    await this.send(`${cmd.tag} ${e.status} ${e.code ? `[${e.code}] ` : ''}${safeText(e.message)}\r\n`);
  }

  /** Reports queued changes before a tagged reply (RFC 9051 7.5.1 rules for EXPUNGE). */
  async syncAfter(cmd: { name: string; uid?: boolean }): Promise<void> {
    if (this.view) {
      const noExpunge = (cmd.name === 'FETCH' || cmd.name === 'STORE' || cmd.name === 'SEARCH' || cmd.name === 'SORT' || cmd.name === 'THREAD') && !cmd.uid;
      // RFC 5465 5.2: no MessageNew FETCH for the messages the session's own APPEND, COPY or MOVE added.
      await this.syncSelected(!noExpunge, !ADDS_MESSAGES.has(cmd.name));
    }
    // NOTIFY's STATUS/LIST/METADATA for other mailboxes; not among a LIST's, STATUS's or
    // GETMETADATA's own answers, where they would read as part of them: those get them after.
    if (this.notify?.hasPending && !ANSWERED_IN_KIND.has(cmd.name)) await this.notify.flush(this);
  }

  /**
   * syncView, then NOTIFY's MessageNew fetch-att list for the new messages (RFC 5465 5.2) that the
   * kept results' UPDATE lists did not fetch already (RFC 5465 7, search-context.ts).
   */
  private async syncSelected(allowExpunge: boolean, fetchNew = true): Promise<void> {
    const view = this.view;
    if (!view) return;
    const atts = fetchNew ? (this.notify?.spec?.selected?.fetchAtts ?? null) : null;
    const last = view.uids.length ? view.uids[view.uids.length - 1]! : 0;
    const done = new Set<number>();
    await this.syncView(allowExpunge, fetchNew ? { messageNew: atts, done, fetch: (lists) => this.fetchLists(lists) } : undefined);
    if (!atts || this.view !== view) return;
    try {
      await fetchNewMessages(this, last, atts, done);
    } catch (err) {
      // A convenience copy of what a FETCH would say: failing it must not fail the command.
      this.log.warn('NOTIFY MessageNew fetch failed', { err: (err as Error)?.message ?? String(err) });
    }
  }

  /** UID FETCHes of new messages, the UIDs with equal lists in one command (RFC 5465 5.2, 7). */
  private async fetchLists(lists: Map<number, FetchAtt[]>): Promise<void> {
    const groups = new Map<string, { atts: FetchAtt[]; uids: number[] }>();
    for (const [uid, atts] of lists) {
      const key = JSON.stringify(atts);
      const g = groups.get(key);
      if (g) g.uids.push(uid);
      else groups.set(key, { atts, uids: [uid] });
    }
    try {
      for (const g of groups.values()) await fetchUids(this, g.uids, g.atts);
    } catch (err) {
      // A convenience copy of what a FETCH would say: failing it must not fail the command.
      this.log.warn('UPDATE fetch failed', { err: (err as Error)?.message ?? String(err) });
    }
  }

  /** A command is running, or an APPEND is between its literals. */
  private get busy(): boolean {
    return this.inCommand || this.append !== null;
  }

  /** With NOTIFY: something may be written between commands now. */
  private notifyPending(): boolean {
    const n = this.notify;
    if (!n) return false;
    return n.hasPending || (n.selectedPushed && !!this.view?.hasPending);
  }

  /**
   * Writes what may go out unsolicited now: in IDLE without NOTIFY the selected mailbox's changes
   * (RFC 2177); with NOTIFY exactly what it asked for (RFC 5465 4), between commands too.
   */
  private async pushUpdates(): Promise<void> {
    const n = this.notify;
    // Kept results' UPDATE fetch lists (RFC 5465 7) apply in IDLE too.
    if (!n) return this.syncSelected(true);
    // selected-delayed (RFC 5465 6.1.2): expunges wait for a command that allows them; IDLE does.
    if (n.selectedPushed) await this.syncSelected(this.idling || !n.selectedDelayed);
    if (n.hasPending) await n.flush(this);
  }

  /**
   * Applies and reports the view's queued changes, its untagged lines written together (one
   * socket write, not one per line), its store lookups shared with the other sessions that
   * report the same change batch.
   */
  private async syncView(allowExpunge: boolean, newMessages?: NewMessageFetch): Promise<void> {
    const view = this.view;
    if (!view?.hasWork) return;
    const batch = this.lastBatch;
    const out = new BatchedOutput((d) => this.send(d), this.condstore, this.qresync, this.rev2, (f) => this.flagList(f));
    out.uidOnly = this.uidOnly;
    if (newMessages) {
      // The FETCHes follow the lines produced so far (the EXISTS that numbers them).
      out.newMessages = {
        messageNew: newMessages.messageNew,
        done: newMessages.done,
        fetch: async (lists) => {
          await out.flush();
          await newMessages.fetch(lists);
        },
      };
    }
    try {
      await view.sync(storeForBatch(this.ctx.store, batch), out, allowExpunge);
    } finally {
      // Lines already produced describe changes the view has applied: they go out in any case.
      await out.flush();
    }
    // Done with the batch (unless a newer one came meanwhile): its shared lookups can be freed.
    if (this.lastBatch === batch && this.view === view && !view.hasPending) this.lastBatch = null;
  }

  // ---- state changes ----

  /** Called by LOGIN/AUTHENTICATE on success. */
  async loggedIn(identity: AuthIdentity): Promise<void> {
    // Read before the state changes: the login's CAPABILITY response code already leaves them out.
    // Hiding one hides what needs it too (capabilities.ts REQUIRES).
    this.hiddenCapabilities = withDependents(await this.ctx.store.getHiddenCapabilities(identity.accountId));
    this.identity = identity;
    this.state = 'auth';
    // Spec 4: the literals of one command may total more once logged in.
    this.reader.authenticated = true;
    this.touch();
    this.unsubscribe = this.ctx.store.changes.subscribe(identity.accountId, (changes) => this.onChanges(changes));
    // With several workers: the account's commits on the others reach this one from here on, so
    // nothing the session reads afterwards (SELECT, STATUS, NOTIFY) can miss a later change.
    await this.ctx.store.changes.subscribed(identity.accountId);
    // Spec 2.5: the registry ends the session within a second when its credentials are revoked.
    this.unregister = this.ctx.sessions.add({ identity, revoke: (reason) => void this.bye(reason) });
    this.log.info('login', { user: identity.username, account: identity.accountName });
  }

  private onChanges(changes: Change[]): void {
    const view = this.view;
    const queued = this.notify?.collect(changes, view?.mailbox.id ?? null) ?? false;
    if (!view) {
      if (queued && (this.idling || !this.busy)) this.flushIdle();
      return;
    }
    const id = view.mailbox.id;
    for (const c of changes) {
      if ('mailboxId' in c && c.mailboxId === id) {
        this.lastBatch = changes;
        break;
      }
    }
    view.queue(changes);
    if (this.idling || (!this.busy && this.notifyPending())) this.flushIdle();
  }

  /**
   * During IDLE, changes are written at once (RFC 2177): the update job is queued on the shared
   * scheduler (change-fanout.ts), at most once per session; changes that arrive before or while
   * it runs are reported by it.
   */
  flushIdle(): void {
    this.idleWanted = true;
    if (this.idleJobActive) return;
    this.idleJobActive = true;
    idleFanout.schedule(this.idleJob);
  }

  private readonly idleJob = async (): Promise<void> => {
    try {
      while (this.idleWanted) {
        this.idleWanted = false;
        if (this.idling || (this.notify && !this.busy)) await this.pushUpdates();
      }
    } catch (err) {
      this.log.warn('idle update failed', { err });
    } finally {
      this.idleJobActive = false;
      for (const w of this.idleWaiters.splice(0)) w();
      // Changes that came while a failed update ran get their own attempt.
      if (this.idleWanted) this.flushIdle();
    }
  };

  /** Resolves when no IDLE update is queued or running. */
  waitIdleFlush(): Promise<void> {
    if (!this.idleJobActive) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** STARTTLS: the caller sent the tagged OK; from here on only TLS bytes count. */
  startTls(): void {
    const raw = this.sock;
    // The tagged OK reaches the client in clear before the handshake (RFC 9051 6.2.1).
    this.out.flush();
    raw.off('data', this.onData);
    raw.off('end', this.onEnd);
    raw.off('close', this.onEnd);
    // Discard anything pipelined after STARTTLS (RFC 9051 6.2.1).
    this.reader = new CommandReader(readerLimitsFrom(this.ctx.config.limits?.imap));
    if (this.paused) {
      this.paused = false;
    }
    const t = this.opts.tls!.wrap(raw);
    // The greeting was sent already, so a certificate given here never pre-authenticates; it
    // enables AUTHENTICATE EXTERNAL (spec 2.3). Commands wait for this check.
    this.certCheck = new Promise<void>((resolve) => {
      t.once('secure', () => {
        if (!acceptedTlsVersion(t)) {
          this.log.info('refusing old TLS version', { protocol: t.getProtocol() });
          t.destroy();
          return resolve();
        }
        if (!this.opts.requestClientCert) return resolve();
        this.checkCertificate().then(resolve, resolve);
      });
      t.once('close', () => resolve());
    });
    this.sock = t;
    this.out = new CoalescedOutput(t);
    this.tlsSock = t;
    this.rawSock = raw;
    this.attach(t);
    this.touch();
    raw.resume();
  }

  /**
   * Spec 3.4: over the password-failure budget, a connection is refused (`* BYE` with the time to
   * wait), unless its TLS client certificate matched a key: proof of possession is never refused
   * by a password budget. Checked once TLS is up (or at once when there will be no TLS).
   */
  private async refusedByBudget(): Promise<boolean> {
    if (this.certLogin) return false;
    const wait = this.ctx.auth.retryAfterMs(this.connInfo().ip);
    if (wait === 0) return false;
    this.log.info('connection refused: too many auth failures', { retryAfterMs: wait });
    await this.bye(refusedMessage(wait));
    return true;
  }

  private async checkCertificate(): Promise<void> {
    try {
      this.certLogin = await this.ctx.auth.certificateLogin(this.connInfo());
    } catch (err) {
      this.log.error('client certificate check failed', { err });
      this.certLogin = null;
    }
  }

  /** For shutdown: BYE and close, even in the middle of a command. */
  async shutdown(): Promise<void> {
    await this.bye('server shutting down');
  }

  /** Mailbox view selection (SELECT/EXAMINE/CLOSE/UNSELECT). */
  setView(view: MailboxView | null): void {
    this.view = view;
    this.lastBatch = null;
    this.state = view ? 'selected' : this.identity ? 'auth' : 'notauth';
  }
}
