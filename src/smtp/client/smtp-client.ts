// The SMTP client: one connection, any number of transactions (RFC 5321 3.3). Built on the shared
// protocol layer (src/smtp/proto) and the SASL client halves (src/sasl).
//
// Invariants:
// - Replies are matched to commands by position; every command written has exactly one read.
// - After STARTTLS nothing read before the handshake is used (RFC 3207 4.2, CVE-2011-0411: data
//   pipelined after the 220 is an injection attempt and fails the connection), and the EHLO
//   capabilities are asked again.
// - A failed transaction leaves the connection clean for the next one (RSET), unless the
//   connection itself failed.

import { hostname } from 'node:os';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { channelBindingOf } from '../../tls/channel-binding.js';
import { chooseClientMechanism, serverOffersPlus, type ChannelBinding, type SaslMechanism } from '../../sasl/index.js';
import { AddressError, formatMailbox, hasNonAscii, parseMailbox } from '../proto/address.js';
import { parseEhloReply, type EhloCapabilities } from '../proto/capabilities.js';
import type { Reply } from '../proto/reply.js';
import { encodeXtext } from '../proto/xtext.js';
import { authenticate } from './authenticate.js';
import { replyText, SmtpClientError, type RecipientResult } from './errors.js';
import { hasEightBit } from './line-endings.js';
import { transferBdat, transferData } from './message-data.js';
import type { Envelope, MessageSource, SmtpClientOptions, TlsMode } from './options.js';
import { ReplyChannel } from './reply-channel.js';
import { checkServerPin, resolveClientCertificate, tlsConnectionOptions } from './tls-options.js';

const DEFAULT_TIMEOUTS = { connect: 30_000, greeting: 300_000, command: 300_000, data: 600_000 };
/** QUIT is a courtesy: do not wait long for its reply. */
const QUIT_TIMEOUT = 5_000;

/** Outcome of a transaction in which at least one recipient accepted the message. */
export interface SendResult {
  /** Recipients the server accepted the message for. */
  accepted: string[];
  /** Recipients refused at RCPT (4xx or 5xx; see `permanent`). */
  rejected: RecipientResult[];
  /** Every recipient in envelope order. */
  recipients: RecipientResult[];
  /** The reply after the data, e.g. `250 2.0.0 queued as ...`. */
  reply: Reply;
}

/**
 * An SMTP connection.
 *
 * @example
 *   const c = await SmtpClient.connect({ host: 'mail.example.org', port: 587, tls: 'starttls',
 *     auth: { username: 'alice@example.org', password } });
 *   const r = await c.send({ from: 'alice@example.org', to: ['bob@example.com'] }, message);
 *   await c.quit();
 */
export class SmtpClient {
  readonly options: SmtpClientOptions;
  #ch: ReplyChannel;
  #tls: boolean;
  #caps: EhloCapabilities | null = null;
  #greeting: Reply | null = null;
  #mechanism: SaslMechanism | null = null;
  readonly #timeouts: typeof DEFAULT_TIMEOUTS;
  readonly #clientCert: { key: string; cert: string } | undefined;
  #onAbort: (() => void) | undefined;

  private constructor(opts: SmtpClientOptions, ch: ReplyChannel, tls: boolean, clientCert: { key: string; cert: string } | undefined) {
    this.options = opts;
    this.#ch = ch;
    this.#tls = tls;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.#clientCert = clientCert;
  }

  /**
   * Connects, reads the greeting, says EHLO (HELO when EHLO is refused), does STARTTLS as the
   * TLS mode says, and authenticates when `auth` or a client certificate is set.
   */
  static async connect(opts: SmtpClientOptions): Promise<SmtpClient> {
    const mode: TlsMode = opts.tls ?? 'starttls';
    const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    const clientCert = opts.clientCertificate ? resolveClientCertificate(opts.clientCertificate) : undefined;
    const port = opts.port ?? (mode === 'implicit' ? 465 : 25);
    opts.signal?.throwIfAborted();
    let socket: Socket = await tcpConnect(opts, port, timeouts.connect);
    try {
      if (mode === 'implicit') socket = await startTls(socket, opts, clientCert, timeouts.connect);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    const client = new SmtpClient(opts, new ReplyChannel(socket, opts.log), mode === 'implicit', clientCert);
    try {
      client.#watchAbort();
      await client.#open(mode);
    } catch (err) {
      client.close();
      throw client.#abortError(err);
    }
    return client;
  }

  /** EHLO capabilities; null when the server only spoke HELO. */
  get capabilities(): EhloCapabilities | null {
    return this.#caps;
  }

  /** The 220 greeting. */
  get greeting(): Reply {
    return this.#greeting!;
  }

  /** TLS is up (implicit or after STARTTLS). */
  get secure(): boolean {
    return this.#tls;
  }

  /** The SASL mechanism that authenticated this connection, or null. */
  get authMechanism(): SaslMechanism | null {
    return this.#mechanism;
  }

  /** The underlying socket (a TLSSocket when `secure`), e.g. for peer certificate details. */
  get socket(): Socket {
    return this.#ch.socket;
  }

  async #open(mode: TlsMode): Promise<void> {
    const g = await this.#ch.read(this.#timeouts.greeting, 'connection greeting');
    this.#greeting = g;
    // RFC 5321 3.1: 554 instead of 220 means no service here; 4xx (421) is "try later".
    if (g.code !== 220) {
      await this.#quietQuit();
      throw SmtpClientError.fromReply('greeting', g);
    }
    await this.#hello();
    if (!this.#tls && (mode === 'starttls' || mode === 'opportunistic')) {
      if (this.#caps?.startTls) {
        const r = await this.#command('STARTTLS');
        if (r.code === 220) {
          await this.#upgrade();
          await this.#hello();
        } else if (mode === 'starttls') {
          throw new SmtpClientError('tls', `STARTTLS refused: ${replyText(r)}`, { reply: r, command: 'STARTTLS', permanent: false });
        }
        // Opportunistic: RFC 3207 4.1 lets the client go on without TLS.
      } else if (mode === 'starttls') {
        await this.#quietQuit();
        throw new SmtpClientError('tls', 'server does not offer STARTTLS, which is required', { permanent: false });
      }
    }
    await this.#maybeAuthenticate();
  }

  async #hello(): Promise<void> {
    const name = this.options.clientName ?? helloName();
    const r = await this.#command(`EHLO ${name}`);
    if (r.code === 250) {
      this.#caps = parseEhloReply(r);
      return;
    }
    // RFC 5321 4.1.4 / 3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
    if (r.code >= 500) {
      const h = await this.#command(`HELO ${name}`);
      if (h.code === 250) {
        this.#caps = null;
        return;
      }
      throw SmtpClientError.fromReply('HELO', h);
    }
    throw SmtpClientError.fromReply('EHLO', r);
  }

  async #upgrade(): Promise<void> {
    // RFC 3207 4.2 / CVE-2011-0411: anything the server sent after its 220 was not protected.
    if (this.#ch.hasUnread) throw new SmtpClientError('protocol', 'server sent data after its STARTTLS reply (possible injection)');
    const plain = this.#ch.detach();
    const tls = await startTls(plain, this.options, this.#clientCert, this.#timeouts.connect);
    this.#ch = new ReplyChannel(tls, this.options.log);
    this.#tls = true;
    this.#caps = null;
  }

  async #maybeAuthenticate(): Promise<void> {
    const a = this.options.auth;
    const haveCert = this.#clientCert !== undefined;
    if (!a && !haveCert) return;
    const offered = this.#caps?.auth ?? [];
    const cb: ChannelBinding | undefined = this.#tls ? channelBindingOf(this.#ch.socket as TLSSocket, false) : undefined;
    let mech: SaslMechanism | null;
    if (a?.mechanism) {
      // RFC 4954 4 / RFC 4616 1: PLAIN and LOGIN carry the password itself; a server that
      // offers them without TLS (Dovecot does on loopback) must not make us send it in the clear.
      if ((a.mechanism === 'PLAIN' || a.mechanism === 'LOGIN') && !this.#tls && !a.allowPlaintext) {
        throw new SmtpClientError('auth', `${a.mechanism} without TLS would send the password in the clear (set auth.allowPlaintext to allow it)`, { permanent: true });
      }
      mech = offered.includes(a.mechanism) ? a.mechanism : null;
      if (!mech) throw new SmtpClientError('auth', `server does not offer AUTH ${a.mechanism}${offered.length ? ` (offers ${offered.join(' ')})` : ''}`, { permanent: false });
    } else {
      mech = chooseClientMechanism({
        offered,
        tls: this.#tls,
        channelBinding: cb !== undefined,
        clientCertificate: haveCert,
        password: a?.password !== undefined,
        allowPlaintextWithoutTls: a?.allowPlaintext,
      });
    }
    if (!mech) {
      const why = a?.password === undefined && haveCert
        ? 'server does not offer AUTH EXTERNAL: the client certificate was not accepted'
        : `no usable authentication mechanism (server offers: ${offered.join(' ') || 'none'}${this.#tls ? '' : '; no TLS'})`;
      throw new SmtpClientError('auth', why, { permanent: false });
    }
    const username = a?.username ?? '';
    if (mech !== 'EXTERNAL' && username === '') throw new SmtpClientError('auth', `${mech} needs a username`, { permanent: true });
    await authenticate(
      {
        send: (line, secret) => this.#writeLine(line, secret),
        read: (cmd) => this.#ch.read(this.#timeouts.command, cmd),
      },
      {
        mechanism: mech,
        username,
        password: a?.password,
        // EXTERNAL: the identity to act as is the username when given (spec 2.4).
        authzid: mech === 'EXTERNAL' ? (a?.authzid ?? a?.username ?? '') : a?.authzid,
        channelBinding: cb,
        serverOffersPlus: serverOffersPlus(offered),
      },
    );
    this.#mechanism = mech;
  }

  /**
   * Sends one message. Resolves when at least one recipient accepted it; the result lists every
   * recipient's outcome. Throws SmtpClientError when the server accepted it for nobody: MAIL
   * refused, every RCPT refused, or the data refused; then `err.recipients` (when the envelope
   * got that far) has the per-recipient outcome and the connection is ready for another
   * transaction unless the connection itself failed.
   */
  async send(envelope: Envelope, message: MessageSource): Promise<SendResult> {
    try {
      return await this.#send(envelope, message);
    } catch (err) {
      throw this.#abortError(err);
    }
  }

  async #send(env: Envelope, message: MessageSource): Promise<SendResult> {
    if (env.to.length === 0) throw new SmtpClientError('address', 'no recipients', { permanent: true });
    const caps = this.#caps;
    const from = env.from === null || env.from === '' ? null : env.from;
    const utf8 = env.smtputf8 ?? [from ?? '', ...env.to].some(hasNonAscii);
    const fromPath = from === null ? '<>' : `<${wireAddress(from, utf8)}>`;
    const toPaths = env.to.map((t) => (t.toLowerCase() === 'postmaster' ? '<postmaster>' : `<${wireAddress(t, utf8)}>`));
    const isBytes = typeof message === 'string' || message instanceof Uint8Array;
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message instanceof Uint8Array ? message : undefined;
    const eightBit = env.eightBit ?? (bytes ? hasEightBit(bytes) : false);
    const size = env.size ?? bytes?.length;

    // RFC 6531 3.2: no SMTPUTF8 at the server means the message cannot go there as is.
    if (utf8 && !caps?.smtpUtf8) throw new SmtpClientError('capability', 'message needs SMTPUTF8 (non-ASCII address) but the server does not support it', { permanent: true, extension: 'SMTPUTF8' });
    if (eightBit && !caps?.eightBitMime) throw new SmtpClientError('capability', 'message has 8-bit data but the server does not support 8BITMIME (RFC 6152)', { permanent: true, extension: '8BITMIME' });
    // RFC 1870 4: do not send what the server declared it will not take.
    if (size !== undefined && caps?.size && size > caps.size) {
      throw new SmtpClientError('capability', `message of ${size} bytes is over the server's SIZE limit of ${caps.size}`, { permanent: true, extension: 'SIZE' });
    }

    // RFC 8689 4.2.1: the next hop must take the REQUIRETLS duty on.
    if (env.requireTls && !caps?.requireTls) throw new SmtpClientError('capability', 'message requires REQUIRETLS (RFC 8689) but the server does not support it', { permanent: true });
    let mail = `MAIL FROM:${fromPath}`;
    if (caps?.size !== undefined && size !== undefined) mail += ` SIZE=${size}`;
    if (eightBit && caps?.eightBitMime) mail += ' BODY=8BITMIME';
    if (utf8) mail += ' SMTPUTF8';
    if (env.requireTls) mail += ' REQUIRETLS';
    if (caps?.dsn && env.dsn?.ret) mail += ` RET=${env.dsn.ret}`;
    if (caps?.dsn && env.dsn?.envid) mail += ` ENVID=${encodeXtext(env.dsn.envid)}`;
    const notify = caps?.dsn && env.dsn?.notify?.length ? ` NOTIFY=${env.dsn.notify.join(',')}` : '';
    const rcpts = toPaths.map((p) => `RCPT TO:${p}${notify}`);

    // RFC 2920 3.1: MAIL and RCPT may be sent as one group; replies come in order.
    let mailReply: Reply;
    const rcptReplies: Reply[] = [];
    if (caps?.pipelining && this.options.pipelining !== false) {
      this.#log(mail, false);
      for (const r of rcpts) this.#log(r, false);
      await this.#ch.write([mail, ...rcpts].join('\r\n') + '\r\n', this.#timeouts.command);
      mailReply = await this.#ch.read(this.#timeouts.command, 'MAIL');
      try {
        for (let i = 0; i < rcpts.length; i++) rcptReplies.push(await this.#ch.read(this.#timeouts.command, 'RCPT'));
      } catch (err) {
        // A server that refused MAIL may hang up without answering the RCPTs: its MAIL
        // reply is the news.
        if (mailReply.code !== 250) throw SmtpClientError.fromReply('MAIL', mailReply);
        throw err;
      }
    } else {
      mailReply = await this.#command(mail);
      if (mailReply.code === 250) for (const r of rcpts) rcptReplies.push(await this.#command(r));
    }
    if (mailReply.code !== 250) throw SmtpClientError.fromReply('MAIL', mailReply);

    const results: RecipientResult[] = env.to.map((address, i) => {
      const reply = rcptReplies[i]!;
      const ok = reply.code === 250 || reply.code === 251;
      return { address, accepted: ok, reply, permanent: !ok && reply.code >= 500 };
    });
    const rejected = results.filter((r) => !r.accepted);
    if (rejected.length === results.length) {
      await this.#resetQuietly();
      const first = rejected[0]!.reply;
      const err = new SmtpClientError('reply', `all recipients refused: ${replyText(first)}`, {
        reply: first,
        command: 'RCPT',
        permanent: rejected.every((r) => r.permanent),
      });
      err.recipients = results;
      throw err;
    }

    const useBdat = caps?.chunking && this.options.chunking !== false;
    const transfer = { dataTimeout: this.#timeouts.data, refuseEightBit: !caps?.eightBitMime };
    let final: Reply;
    let command: string;
    if (useBdat) {
      command = 'BDAT';
      this.#log('BDAT ...', false);
      final = await transferBdat(this.#ch, isBytes ? bytes! : message, { ...transfer, pipelining: !!caps?.pipelining && this.options.pipelining !== false });
    } else {
      command = 'DATA';
      const go = await this.#command('DATA');
      if (go.code !== 354) {
        final = go;
      } else {
        final = await transferData(this.#ch, isBytes ? bytes! : message, transfer);
      }
    }
    if (final.code !== 250) {
      await this.#resetQuietly();
      for (const r of results) if (r.accepted) Object.assign(r, { accepted: false, reply: final, permanent: final.code >= 500 });
      const err = SmtpClientError.fromReply(command, final);
      err.recipients = results;
      throw err;
    }
    for (const r of results) if (r.accepted) r.reply = final;
    return { accepted: results.filter((r) => r.accepted).map((r) => r.address), rejected, recipients: results, reply: final };
  }

  /** RSET (RFC 5321 4.1.1.5): aborts the current transaction. */
  async reset(): Promise<void> {
    const r = await this.#command('RSET');
    if (r.code !== 250) throw SmtpClientError.fromReply('RSET', r);
  }

  /** NOOP: checks the connection is alive. */
  async noop(): Promise<void> {
    const r = await this.#command('NOOP');
    if (r.code !== 250) throw SmtpClientError.fromReply('NOOP', r);
  }

  /** QUIT and close. Never throws: the session is over either way. */
  async quit(): Promise<void> {
    await this.#quietQuit();
    this.close();
  }

  /** Closes the connection at once. */
  close(): void {
    if (this.#onAbort) this.options.signal?.removeEventListener('abort', this.#onAbort);
    this.#ch.fail(new SmtpClientError('aborted', 'connection closed by the client'));
    this.#ch.socket.destroy();
  }

  async #quietQuit(): Promise<void> {
    if (this.#ch.failed) return;
    try {
      this.#log('QUIT', false);
      await this.#ch.write('QUIT\r\n', QUIT_TIMEOUT);
      await this.#ch.read(QUIT_TIMEOUT, 'QUIT');
    } catch {
      // ignore: closing anyway
    }
    this.#ch.socket.end();
  }

  async #resetQuietly(): Promise<void> {
    if (this.#ch.failed) return;
    await this.#command('RSET').catch(() => undefined);
  }

  async #command(line: string): Promise<Reply> {
    await this.#writeLine(line, false);
    return this.#ch.read(this.#timeouts.command, line.split(' ')[0]!.toUpperCase());
  }

  async #writeLine(line: string, secret: boolean): Promise<void> {
    if (/[\r\n]/.test(line)) throw new SmtpClientError('address', 'CR or LF in a command', { permanent: true });
    this.#log(line, secret);
    await this.#ch.write(line + '\r\n', this.#timeouts.command);
  }

  #log(line: string, secret: boolean): void {
    if (!this.options.log) return;
    // AUTH data is never logged: keep only the verb and mechanism of the AUTH command.
    const shown = !secret ? line : /^AUTH /i.test(line) ? `${line.split(' ').slice(0, 2).join(' ')} ...` : '(auth data)';
    this.options.log.debug('smtp command', { command: shown });
  }

  #watchAbort(): void {
    const signal = this.options.signal;
    if (!signal) return;
    this.#onAbort = () => {
      this.#ch.fail(new SmtpClientError('aborted', 'aborted'));
      this.#ch.socket.destroy();
    };
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** When the caller aborted, report that rather than the connection error it caused. */
  #abortError(err: unknown): unknown {
    if (this.options.signal?.aborted && !(err instanceof SmtpClientError && err.kind === 'aborted')) {
      return new SmtpClientError('aborted', 'aborted', { cause: err });
    }
    return err;
  }
}

/** An address for MAIL/RCPT, checked and quoted as RFC 5321 4.1.2 wants. */
function wireAddress(addr: string, utf8: boolean): string {
  try {
    return formatMailbox(parseMailbox(addr, { smtputf8: utf8 }));
  } catch (err) {
    const why = err instanceof AddressError ? err.message : String(err);
    throw new SmtpClientError('address', `invalid address ${JSON.stringify(addr)}: ${why}`, { permanent: true, cause: err });
  }
}

/** EHLO argument: a fully qualified name when we have one (RFC 5321 4.1.1.1), else a literal. */
function helloName(): string {
  const h = hostname();
  return /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(h) ? h : 'localhost';
}

function tcpConnect(opts: SmtpClientOptions, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: opts.host, port, ...(opts.localAddress && { localAddress: opts.localAddress }) });
    const fail = (err: SmtpClientError) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(new SmtpClientError('connection', `cannot connect to ${opts.host}:${port}: ${err.message}`, { cause: err }));
    const onAbort = () => fail(new SmtpClientError('aborted', 'aborted'));
    const timer = setTimeout(() => fail(new SmtpClientError('timeout', `timeout connecting to ${opts.host}:${port}`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      // Errors between now and the ReplyChannel taking over must not go unheard (a crash).
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function startTls(socket: Socket, opts: SmtpClientOptions, cert: { key: string; cert: string } | undefined, timeoutMs: number): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const tls = tlsConnect({ socket, ...tlsConnectionOptions(opts, cert) });
    const fail = (err: SmtpClientError) => {
      cleanup();
      tls.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(new SmtpClientError('tls', `TLS with ${opts.host} failed: ${err.message}`, { cause: err }));
    const onClose = () => fail(new SmtpClientError('tls', `connection to ${opts.host} closed during the TLS handshake`));
    const onAbort = () => fail(new SmtpClientError('aborted', 'aborted'));
    const timer = setTimeout(() => fail(new SmtpClientError('timeout', `timeout in the TLS handshake with ${opts.host}`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      tls.off('error', onError);
      tls.off('close', onClose);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    tls.once('error', onError);
    tls.once('close', onClose);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    tls.once('secureConnect', () => {
      try {
        checkServerPin(tls, opts);
      } catch (err) {
        fail(err as SmtpClientError);
        return;
      }
      cleanup();
      tls.on('error', () => {}); // as in tcpConnect: the ReplyChannel reports errors
      resolve(tls);
    });
  });
}
