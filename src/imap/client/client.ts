// ImapClient: the public, promise-based IMAP4rev2/IMAP4rev1 client (spec 7).

import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { chooseClientMechanism, serverOffersPlus, type SaslMechanism } from '../../sasl/index.js';
import { channelBindingOf } from '../../tls/channel-binding.js';
import { authenticate } from './authenticate.js';
import { astring, expandSequenceSet, listPattern, mailboxArg, sequenceSetArg, stringArg, type CommandPart, type SequenceSet } from './command-args.js';
import { Connection, type CommandOptions, type CommandResult } from './connection.js';
import { ImapClientError } from './errors.js';
import { fetchItemsArg, type FetchItems } from './fetch-items.js';
import { formatInternalDate, parseFetch, type FetchedMessage } from './fetch-result.js';
import { DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_GREETING_TIMEOUT } from './limits.js';
import { parseList, parseStatus, type ListEntry, type MailboxStatus, type SelectedMailbox, type StatusItem } from './mailbox.js';
import { bigNumberOf, isAtom, listOf, numberOf, valueText, type DataResponse, type Response, type ResponseCode, type StatusResponse, type Value } from './response.js';
import { compileSearch, type SearchQuery } from './search-query.js';
import { checkServerPin, resolveClientCertificate, tlsConnectionOptions } from './tls-options.js';
import type { ImapAuthOptions, ImapClientOptions } from './options.js';

export type ImapState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface SearchResult {
  /** Matching sequence numbers, or UIDs for a UID search (empty when only COUNT/MIN/MAX were asked). */
  numbers: number[];
  count?: number;
  min?: number;
  max?: number;
  /** RFC 7162 3.1.5: the highest mod-sequence of the matches, when MODSEQ was searched. */
  modseq?: bigint;
}

export interface StoreResult {
  /** FETCH responses the STORE produced (none with `silent`, except for CONDSTORE changes). */
  messages: FetchedMessage[];
  /** RFC 7162 3.1.3 MODIFIED: messages not changed because they changed since `unchangedSince`. */
  modified: number[];
}

export interface AppendResult {
  /** RFC 4315 APPENDUID, when the server supports UIDPLUS. */
  uidValidity?: number;
  uid?: number;
}

export interface CopyResult {
  /** RFC 4315 COPYUID: destination UIDVALIDITY and matching source/destination UIDs. */
  uidValidity?: number;
  sourceUids?: number[];
  destinationUids?: number[];
}

export interface ExpungeResult {
  /** Sequence numbers as reported by EXPUNGE responses (each relative to the state before it). */
  expunged: number[];
  /** UIDs from VANISHED responses (QRESYNC). */
  vanished: number[];
}

/** Events an ImapClient emits for untagged responses (during IDLE and any other command). */
export interface ImapClientEvents {
  /** `* n EXISTS`: the selected mailbox now holds `count` messages. */
  exists: [count: number];
  /** `* n EXPUNGE`: message `seq` was removed (later numbers shift down). */
  expunge: [seq: number];
  /** `* VANISHED`: UIDs removed (QRESYNC, RFC 7162 3.2.10); `earlier` for the SELECT-time report. */
  vanished: [uids: number[], earlier: boolean];
  /** An unsolicited FETCH, e.g. flags changed by another session. */
  fetch: [message: FetchedMessage];
  /** `* OK [ALERT]` text (RFC 9051 7.1: must be shown to the user). */
  alert: [text: string];
  /** `* BYE`: the server is closing the connection. */
  bye: [text: string];
  /** The connection closed; `error` says why unless it was a clean logout. */
  close: [error?: ImapClientError];
}

/** What IDLE returns: call done() to end it (RFC 2177 / RFC 9051 6.3.13). */
export interface IdleHandle {
  /** Sends DONE and waits for the tagged OK. */
  done(): Promise<void>;
}

/**
 * An IMAP client connection.
 *
 * @example
 *   const client = await ImapClient.connect({ host: 'mail.example.org', auth: { username: 'me@example.org', password } });
 *   const box = await client.select('INBOX');
 *   const [msg] = await client.fetch(`${box.exists}`, { uid: true, envelope: true, body: ['TEXT'] });
 *   console.log(msg.envelope?.subject, msg.body?.['TEXT']?.toString());
 *   await client.logout();
 *
 * @example With a client certificate (EXTERNAL, or PREAUTH on Postern's IMAPS):
 *   const client = await ImapClient.connect({ host, clientCertificate: { key: readFileSync('me.key.pem') } });
 */
export class ImapClient extends EventEmitter {
  /** Capabilities as last announced, upper-cased. */
  capabilities = new Set<string>();
  /** Extensions turned on with ENABLE (RFC 5161), upper-cased. */
  readonly enabled = new Set<string>();
  state: ImapState = 'not-authenticated';
  /** The greeting was PREAUTH (e.g. Postern's IMAPS with a known client certificate, spec 2.3). */
  preauth = false;
  /** The greeting's text. */
  greeting = '';
  /** The selected mailbox, kept current from untagged responses. */
  mailbox: SelectedMailbox | undefined;
  /** The mechanism that logged us in ('PREAUTH' or 'LOGIN-COMMAND' for the LOGIN command). */
  authenticatedWith: SaslMechanism | 'PREAUTH' | 'LOGIN-COMMAND' | undefined;

  private readonly conn: Connection;
  private readonly opts: ImapClientOptions;
  private readonly clientCert: { key: string; cert: string } | undefined;
  /** FETCH responses belong to the command in flight (not emitted as events). */
  private commandFetches = false;
  private loggingOut = false;

  private constructor(conn: Connection, opts: ImapClientOptions, clientCert: { key: string; cert: string } | undefined) {
    super();
    this.conn = conn;
    this.opts = opts;
    this.clientCert = clientCert;
    conn.onUntagged = (r) => this.untagged(r);
    conn.onClosed = (err) => {
      this.state = 'logout';
      this.emit('close', this.loggingOut && err.kind === 'connection' ? undefined : err);
    };
  }

  override on<K extends keyof ImapClientEvents>(event: K, listener: (...args: ImapClientEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof ImapClientEvents>(event: K, listener: (...args: ImapClientEvents[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof ImapClientEvents>(event: K, listener: (...args: ImapClientEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  /**
   * Connects, reads the greeting, does STARTTLS per `tls`, and logs in with `auth` (or the
   * client certificate via EXTERNAL). A PREAUTH greeting leaves the client authenticated.
   */
  static async connect(opts: ImapClientOptions): Promise<ImapClient> {
    const mode = opts.tls ?? 'implicit';
    const port = opts.port ?? (mode === 'implicit' ? 993 : 143);
    const clientCert = opts.clientCertificate ? resolveClientCertificate(opts.clientCertificate) : undefined;
    const connectTimeout = opts.timeouts?.connect ?? DEFAULT_CONNECT_TIMEOUT;
    const socket = await openSocket(opts, port, mode === 'implicit', clientCert, connectTimeout);
    const conn = new Connection(socket, opts.timeouts?.command ?? DEFAULT_COMMAND_TIMEOUT, opts.log);
    const client = new ImapClient(conn, opts, clientCert);
    const onAbort = () => conn.destroy(new ImapClientError('aborted', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (opts.signal?.aborted) onAbort();
      await client.start(mode, connectTimeout);
      return client;
    } catch (err) {
      conn.destroy(err instanceof ImapClientError ? err : undefined);
      throw err;
    }
  }

  private async start(mode: NonNullable<ImapClientOptions['tls']>, connectTimeout: number): Promise<void> {
    const g = await this.conn.readGreeting(this.opts.timeouts?.greeting ?? DEFAULT_GREETING_TIMEOUT);
    this.greeting = g.text;
    this.takeCapabilities(g.code);
    if (g.status === 'PREAUTH') {
      // RFC 9051 7.1.4; STARTTLS is impossible once authenticated.
      if (mode === 'starttls' && !this.conn.tls) throw new ImapClientError('tls', 'server sent PREAUTH on a plain connection; STARTTLS is required');
      this.state = 'authenticated';
      this.preauth = true;
      this.authenticatedWith = 'PREAUTH';
    }
    if (this.capabilities.size === 0) await this.capability();
    if (!this.conn.tls && !this.preauth && (mode === 'starttls' || mode === 'opportunistic')) {
      if (this.capabilities.has('STARTTLS')) await this.starttls(connectTimeout);
      else if (mode === 'starttls') throw new ImapClientError('tls', 'server does not offer STARTTLS');
    }
    if (this.state === 'not-authenticated' && (this.opts.auth || this.clientCert)) {
      const hasCertPath = this.clientCert && this.capabilities.has('AUTH=EXTERNAL');
      if (this.opts.auth || hasCertPath) await this.authenticate(this.opts.auth);
    }
  }

  private async starttls(timeoutMs: number): Promise<void> {
    const { status } = await this.conn.run(['STARTTLS'], { lastBeforeTls: true });
    if (status.status !== 'OK') throw new ImapClientError('tls', `STARTTLS refused: ${status.text}`, { response: status });
    const secure = await this.conn.upgrade(tlsConnectionOptions(this.opts, this.clientCert), timeoutMs);
    checkServerPin(secure, this.opts);
    // RFC 9051 6.2.1: forget capabilities learnt before TLS.
    this.capabilities = new Set();
    await this.capability();
  }

  /** Whether the server announced a capability (case-insensitive). */
  has(capability: string): boolean {
    return this.capabilities.has(capability.toUpperCase());
  }

  /** Whether TLS protects the connection. */
  get secure(): boolean {
    return this.conn.tls;
  }

  /** The TLS socket, when TLS is up (peer certificate, protocol). */
  get tlsSocket(): TLSSocket | undefined {
    return this.conn.tlsSocket;
  }

  /** UTF-8 mailbox names and quoted strings (RFC 6855 / IMAP4rev2 enabled). */
  private get utf8(): boolean {
    return this.enabled.has('IMAP4REV2') || this.enabled.has('UTF8=ACCEPT');
  }

  private takeCapabilities(code: ResponseCode | undefined): boolean {
    if (code?.name !== 'CAPABILITY') return false;
    this.setCapabilities(code.args);
    return true;
  }

  private setCapabilities(values: Value[]): void {
    this.capabilities = new Set(values.map((a) => (valueText(a) ?? '').toUpperCase()));
    // RFC 7888: LITERAL+ makes every literal non-synchronising, LITERAL- (part of IMAP4rev2) small ones.
    const c = this.capabilities;
    this.conn.literalMode = c.has('LITERAL+') ? 'plus' : c.has('LITERAL-') || c.has('IMAP4REV2') ? 'minus' : 'sync';
  }

  /** CAPABILITY (RFC 9051 6.1.1). */
  async capability(): Promise<Set<string>> {
    await this.ok(['CAPABILITY']);
    return this.capabilities;
  }

  /** Runs a command and throws unless its tagged response is OK. */
  private async ok(parts: CommandPart[], opts?: CommandOptions): Promise<CommandResult> {
    const res = await this.conn.run(parts, opts);
    const s = res.status;
    this.takeCapabilities(s.code);
    if (s.status !== 'OK') {
      const verb = parts.slice(0, parts[0] === 'UID' ? 2 : 1).join(' ');
      throw new ImapClientError(s.status === 'NO' ? 'no' : 'bad', `${verb}: ${s.code ? `[${s.code.name}] ` : ''}${s.text}`, { response: s });
    }
    return res;
  }

  private requireState(...states: ImapState[]): void {
    if (!states.includes(this.state)) throw new ImapClientError('state', `not allowed in state ${this.state}`);
  }

  /**
   * Logs in with the best mechanism both sides support (spec 7): EXTERNAL with a client
   * certificate, then SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1,
   * CRAM-MD5, PLAIN; the LOGIN command as a last resort. Returns the mechanism used.
   */
  async authenticate(auth: ImapAuthOptions = {}): Promise<SaslMechanism | 'LOGIN-COMMAND'> {
    this.requireState('not-authenticated');
    const offered = [...this.capabilities].filter((c) => c.startsWith('AUTH=')).map((c) => c.slice(5));
    const tlsSocket = this.conn.tlsSocket;
    const channelBinding = tlsSocket ? channelBindingOf(tlsSocket, false) : undefined;
    let mech = auth.mechanism;
    if (mech === undefined) {
      mech =
        chooseClientMechanism({
          offered,
          tls: this.conn.tls,
          channelBinding: channelBinding !== undefined,
          clientCertificate: this.clientCert !== undefined,
          password: auth.password !== undefined,
          allowPlaintextWithoutTls: auth.allowPlaintext,
        }) ?? undefined;
      // LOGIN command (RFC 9051 6.2.3) when no SASL mechanism fits, unless LOGINDISABLED.
      if (mech === undefined && auth.password !== undefined && !this.has('LOGINDISABLED') && (this.conn.tls || auth.allowPlaintext)) mech = 'LOGIN-COMMAND';
      if (mech === undefined) throw new ImapClientError('auth', `no usable authentication mechanism (server offers: ${offered.join(' ') || 'none'})`);
    }
    if (mech === 'LOGIN-COMMAND') {
      await this.login(auth.username ?? '', auth.password ?? '');
      return mech;
    }
    if ((mech === 'PLAIN' || mech === 'LOGIN') && !this.conn.tls && !auth.allowPlaintext) {
      throw new ImapClientError('auth', `${mech} would send the password in the clear; set allowPlaintext to allow it`);
    }
    const status = await authenticate(this.conn, {
      mechanism: mech,
      username: mech === 'EXTERNAL' ? '' : (auth.username ?? ''),
      password: auth.password,
      authzid: auth.authzid,
      channelBinding,
      serverOffersPlus: serverOffersPlus(offered),
      saslIr: this.has('SASL-IR'),
    });
    await this.loggedIn(status, mech);
    return mech;
  }

  /** LOGIN command (RFC 9051 6.2.3). Refuses to send a password in the clear unless told. */
  async login(username: string, password: string, opts: { allowPlaintext?: boolean } = {}): Promise<void> {
    this.requireState('not-authenticated');
    if (!this.conn.tls && !opts.allowPlaintext && !this.opts.auth?.allowPlaintext) {
      throw new ImapClientError('auth', 'LOGIN would send the password in the clear; set allowPlaintext to allow it');
    }
    const res = await this.conn.run(['LOGIN', astring(username, this.utf8), stringArg(password, this.utf8)], { secret: true });
    if (res.status.status !== 'OK') {
      throw new ImapClientError('auth', `LOGIN failed: ${res.status.code ? `[${res.status.code.name}] ` : ''}${res.status.text}`, { response: res.status });
    }
    await this.loggedIn(res.status, 'LOGIN-COMMAND');
  }

  private async loggedIn(status: StatusResponse, mech: SaslMechanism | 'LOGIN-COMMAND'): Promise<void> {
    this.state = 'authenticated';
    this.authenticatedWith = mech;
    // RFC 9051 6.2.2: capabilities may change after login; the OK often carries the new list.
    if (!this.takeCapabilities(status.code)) {
      this.capabilities = new Set();
      await this.capability();
    }
  }

  /** ENABLE (RFC 5161): returns what the server enabled, e.g. `['CONDSTORE']`. */
  async enable(capabilities: string[]): Promise<string[]> {
    this.requireState('authenticated');
    const { untagged } = await this.ok(['ENABLE', ...capabilities]);
    const out: string[] = [];
    for (const r of untagged) {
      if (r.kind === 'data' && r.name === 'ENABLED') {
        for (const v of r.values) {
          const c = (valueText(v) ?? '').toUpperCase();
          this.enabled.add(c);
          out.push(c);
        }
      }
    }
    return out;
  }

  /** SELECT (RFC 9051 6.3.2), with CONDSTORE (RFC 7162 3.1.8) when asked. */
  select(name: string, opts: { condstore?: boolean; readOnly?: boolean } = {}): Promise<SelectedMailbox> {
    return this.openMailbox(opts.readOnly ? 'EXAMINE' : 'SELECT', name, opts.condstore ?? false);
  }

  /** EXAMINE: SELECT read-only. */
  examine(name: string, opts: { condstore?: boolean } = {}): Promise<SelectedMailbox> {
    return this.openMailbox('EXAMINE', name, opts.condstore ?? false);
  }

  private async openMailbox(verb: 'SELECT' | 'EXAMINE', name: string, condstore: boolean): Promise<SelectedMailbox> {
    this.requireState('authenticated', 'selected');
    const box: SelectedMailbox = { name, readOnly: verb === 'EXAMINE', exists: 0, flags: [], permanentFlags: [] };
    // A new mailbox from the first untagged response on (RFC 9051 6.3.2: the old one is closed).
    this.mailbox = box;
    this.state = 'authenticated';
    const parts: CommandPart[] = [verb, mailboxArg(name, this.utf8)];
    if (condstore) parts.push('(CONDSTORE)');
    let res: CommandResult;
    try {
      res = await this.ok(parts);
    } catch (err) {
      this.mailbox = undefined;
      throw err;
    }
    for (const r of res.untagged) {
      if (r.kind === 'status' && r.status === 'OK' && r.code) {
        const a = r.code.args[0];
        switch (r.code.name) {
          case 'UIDVALIDITY':
            box.uidValidity = numberOf(a);
            break;
          case 'UIDNEXT':
            box.uidNext = numberOf(a);
            break;
          case 'PERMANENTFLAGS':
            box.permanentFlags = listOf(a).map((f) => valueText(f) ?? '');
            break;
          case 'HIGHESTMODSEQ':
            box.highestModseq = bigNumberOf(a);
            break;
          case 'NOMODSEQ':
            box.noModseq = true;
            break;
          case 'UNSEEN':
            box.firstUnseen = numberOf(a);
            break;
        }
      } else if (r.kind === 'data' && r.name === 'FLAGS') {
        box.flags = listOf(r.values[0]).map((f) => valueText(f) ?? '');
      } else if (r.kind === 'data' && r.name === 'RECENT' && r.number !== undefined) {
        box.recent = r.number;
      }
    }
    const code = res.status.code?.name;
    if (code === 'READ-ONLY') box.readOnly = true;
    if (code === 'READ-WRITE') box.readOnly = false;
    this.state = 'selected';
    return box;
  }

  /**
   * UNSELECT (RFC 3691, IMAP4rev2): leaves the mailbox without expunging. Servers without it
   * only have CLOSE, which expunges \Deleted messages: that is closeMailbox(), never implied.
   */
  async unselect(): Promise<void> {
    this.requireState('selected');
    if (!this.has('UNSELECT') && !this.has('IMAP4REV2')) throw new ImapClientError('state', 'server does not support UNSELECT; closeMailbox() would expunge');
    await this.ok(['UNSELECT']);
    this.mailbox = undefined;
    this.state = 'authenticated';
  }

  /** CLOSE (RFC 9051 6.4.1): expunges \Deleted messages silently and leaves the mailbox. */
  async closeMailbox(): Promise<void> {
    this.requireState('selected');
    await this.ok(['CLOSE']);
    this.mailbox = undefined;
    this.state = 'authenticated';
  }

  /**
   * LIST (RFC 9051 6.3.9). With `specialUse` only special-use mailboxes (RFC 6154 selection
   * option, LIST-EXTENDED); `status` asks for STATUS items along (RFC 5819 LIST-STATUS).
   */
  async list(reference = '', pattern = '*', opts: { specialUse?: boolean; subscribed?: boolean; status?: StatusItem[] } = {}): Promise<ListEntry[]> {
    this.requireState('authenticated', 'selected');
    const parts: CommandPart[] = ['LIST'];
    const extended = this.has('LIST-EXTENDED') || this.has('IMAP4REV2');
    const selection: string[] = [];
    if (opts.specialUse) selection.push('SPECIAL-USE');
    if (opts.subscribed) selection.push('SUBSCRIBED');
    if (selection.length && extended) parts.push(`(${selection.join(' ')})`);
    parts.push(mailboxArg(reference, this.utf8), listPattern(pattern, this.utf8));
    const ret: string[] = [];
    if (extended && this.has('SPECIAL-USE')) ret.push('SPECIAL-USE');
    if (opts.status?.length && (this.has('LIST-STATUS') || this.has('IMAP4REV2'))) ret.push(`STATUS (${opts.status.join(' ')})`);
    if (ret.length && extended) parts.push('RETURN', `(${ret.join(' ')})`);
    const { untagged } = await this.ok(parts);
    const entries: ListEntry[] = [];
    const byName = new Map<string, ListEntry>();
    for (const r of untagged) {
      if (r.kind === 'data' && r.name === 'LIST') {
        const e = parseList(r, this.utf8);
        entries.push(e);
        byName.set(e.name, e);
      }
    }
    for (const r of untagged) {
      if (r.kind === 'data' && r.name === 'STATUS') {
        const { name, status } = parseStatus(r, this.utf8);
        const e = byName.get(name);
        if (e) e.status = status;
      }
    }
    // Without the SPECIAL-USE selection option on the server, filter here.
    return opts.specialUse && !extended ? entries.filter((e) => e.specialUse) : entries;
  }

  /** STATUS (RFC 9051 6.3.11). */
  async status(name: string, items: StatusItem[] = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN']): Promise<MailboxStatus> {
    this.requireState('authenticated', 'selected');
    const { untagged } = await this.ok(['STATUS', mailboxArg(name, this.utf8), `(${items.join(' ')})`]);
    for (const r of untagged) if (r.kind === 'data' && r.name === 'STATUS') return parseStatus(r, this.utf8).status;
    throw new ImapClientError('protocol', 'STATUS without a STATUS response');
  }

  async create(name: string): Promise<void> {
    await this.ok(['CREATE', mailboxArg(name, this.utf8)]);
  }

  async delete(name: string): Promise<void> {
    await this.ok(['DELETE', mailboxArg(name, this.utf8)]);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.ok(['RENAME', mailboxArg(from, this.utf8), mailboxArg(to, this.utf8)]);
  }

  async subscribe(name: string): Promise<void> {
    await this.ok(['SUBSCRIBE', mailboxArg(name, this.utf8)]);
  }

  async unsubscribe(name: string): Promise<void> {
    await this.ok(['UNSUBSCRIBE', mailboxArg(name, this.utf8)]);
  }

  /**
   * FETCH (RFC 9051 6.4.5). `items` is a typed description or a raw item list such as
   * `'(UID FLAGS)'`. Results come in sequence order, one per message.
   *
   * @example
   *   const msgs = await client.fetch('1:*', { uid: true, flags: true, body: [{ section: '', start: 0, length: 1024 }] }, { uid: true });
   */
  async fetch(set: SequenceSet, items: FetchItems | string, opts: { uid?: boolean; changedSince?: bigint; vanished?: boolean } = {}): Promise<FetchedMessage[]> {
    this.requireState('selected');
    const parts: CommandPart[] = opts.uid ? ['UID', 'FETCH'] : ['FETCH'];
    parts.push(sequenceSetArg(set), fetchItemsArg(items));
    if (opts.changedSince !== undefined) parts.push(`(CHANGEDSINCE ${opts.changedSince}${opts.vanished ? ' VANISHED' : ''})`);
    const { untagged } = await this.withFetches(() => this.ok(parts));
    return collectFetches(untagged);
  }

  private async withFetches<T>(f: () => Promise<T>): Promise<T> {
    // Commands run one at a time, so the flag is exact for the responses of this command.
    const run = async () => {
      this.commandFetches = true;
      try {
        return await f();
      } finally {
        this.commandFetches = false;
      }
    };
    return run();
  }

  /**
   * SEARCH (RFC 9051 6.4.4). Uses ESEARCH (RFC 4731) when the server has it, which also
   * allows `returns` of COUNT/MIN/MAX without the full list.
   *
   * @example
   *   const { numbers } = await client.search({ seen: false, from: 'alice' }, { uid: true });
   */
  async search(query: SearchQuery | string, opts: { uid?: boolean; returns?: ('ALL' | 'COUNT' | 'MIN' | 'MAX')[] } = {}): Promise<SearchResult> {
    this.requireState('selected');
    const parts: CommandPart[] = opts.uid ? ['UID', 'SEARCH'] : ['SEARCH'];
    const esearch = this.has('ESEARCH') || this.enabled.has('IMAP4REV2');
    if (esearch) parts.push('RETURN', `(${(opts.returns ?? ['ALL']).join(' ')})`);
    if (typeof query === 'string') {
      parts.push(query);
    } else {
      const { parts: criteria, nonAscii } = compileSearch(query, this.utf8);
      // RFC 9051 6.4.4: CHARSET is only for IMAP4rev1 servers; UTF-8 is mandatory to support.
      if (nonAscii && !this.utf8) parts.push('CHARSET', 'UTF-8');
      parts.push(...criteria);
    }
    const { untagged } = await this.ok(parts);
    const out: SearchResult = { numbers: [] };
    for (const r of untagged) {
      if (r.kind !== 'data') continue;
      if (r.name === 'SEARCH') {
        for (const v of r.values) {
          if (Array.isArray(v)) {
            // RFC 7162 3.1.5: "(MODSEQ n)" at the end
            if (valueText(v[0])?.toUpperCase() === 'MODSEQ') out.modseq = bigNumberOf(v[1]);
          } else out.numbers.push(numberOf(v));
        }
      } else if (r.name === 'ESEARCH') {
        parseEsearch(r, out);
      }
    }
    return out;
  }

  /**
   * STORE (RFC 9051 6.4.6): add, remove or replace flags. `unchangedSince` makes it
   * conditional (RFC 7162 3.1.3); refused messages are in `modified`.
   */
  async store(
    set: SequenceSet,
    change: { add?: string[]; remove?: string[]; set?: string[] },
    opts: { uid?: boolean; silent?: boolean; unchangedSince?: bigint } = {},
  ): Promise<StoreResult> {
    this.requireState('selected');
    const ops: [string, string[]][] = [];
    if (change.set) ops.push(['FLAGS', change.set]);
    if (change.add) ops.push(['+FLAGS', change.add]);
    if (change.remove) ops.push(['-FLAGS', change.remove]);
    if (ops.length === 0) throw new TypeError('store: nothing to change');
    const result: StoreResult = { messages: [], modified: [] };
    for (const [op, flags] of ops) {
      const parts: CommandPart[] = opts.uid ? ['UID', 'STORE'] : ['STORE'];
      parts.push(sequenceSetArg(set));
      if (opts.unchangedSince !== undefined) parts.push(`(UNCHANGEDSINCE ${opts.unchangedSince})`);
      parts.push(`${op}${opts.silent ? '.SILENT' : ''}`, `(${flags.join(' ')})`);
      const { status, untagged } = await this.withFetches(() => this.ok(parts));
      result.messages.push(...collectFetches(untagged));
      if (status.code?.name === 'MODIFIED') result.modified.push(...expandSequenceSet(valueText(status.code.args[0]) ?? ''));
    }
    return result;
  }

  /**
   * APPEND (RFC 9051 6.3.12). Uses LITERAL+/LITERAL- when offered (no round trip) and
   * returns APPENDUID (RFC 4315) when the server reports it.
   */
  async append(mailbox: string, message: Buffer | string, opts: { flags?: string[]; internalDate?: Date } = {}): Promise<AppendResult> {
    this.requireState('authenticated', 'selected');
    const data = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    const parts: CommandPart[] = ['APPEND', mailboxArg(mailbox, this.utf8)];
    if (opts.flags?.length) parts.push(`(${opts.flags.join(' ')})`);
    if (opts.internalDate) parts.push(`"${formatInternalDate(opts.internalDate)}"`);
    // RFC 3516 4.4: literal8 for content with NUL bytes, when BINARY is offered.
    parts.push({ literal: data, binary: data.includes(0) && this.has('BINARY') });
    const { status } = await this.ok(parts);
    if (status.code?.name === 'APPENDUID') {
      return { uidValidity: numberOf(status.code.args[0]), uid: expandSequenceSet(valueText(status.code.args[1]) ?? '')[0] };
    }
    return {};
  }

  /** COPY (RFC 9051 6.4.7); COPYUID (RFC 4315) when reported. */
  async copy(set: SequenceSet, destination: string, opts: { uid?: boolean } = {}): Promise<CopyResult> {
    this.requireState('selected');
    const parts: CommandPart[] = opts.uid ? ['UID', 'COPY'] : ['COPY'];
    const { status } = await this.ok([...parts, sequenceSetArg(set), mailboxArg(destination, this.utf8)]);
    return copyUid(status.code);
  }

  /**
   * MOVE (RFC 6851, IMAP4rev2). Without MOVE: COPY, then \Deleted and (UID) EXPUNGE of just
   * those messages when UIDPLUS is there (RFC 6851 3.3 notes the fallback is not atomic).
   */
  async move(set: SequenceSet, destination: string, opts: { uid?: boolean } = {}): Promise<CopyResult> {
    this.requireState('selected');
    if (!this.has('MOVE') && !this.has('IMAP4REV2')) {
      const result = await this.copy(set, destination, opts);
      await this.store(set, { add: ['\\Deleted'] }, { uid: opts.uid, silent: true });
      if (opts.uid && this.has('UIDPLUS')) await this.expunge({ uids: set });
      else await this.expunge();
      return result;
    }
    const parts: CommandPart[] = opts.uid ? ['UID', 'MOVE'] : ['MOVE'];
    const { status, untagged } = await this.ok([...parts, sequenceSetArg(set), mailboxArg(destination, this.utf8)]);
    // RFC 6851 4.3: COPYUID comes in an untagged OK before the expunges (or in the tagged OK).
    for (const r of untagged) if (r.kind === 'status' && r.code?.name === 'COPYUID') return copyUid(r.code);
    return copyUid(status.code);
  }

  /** EXPUNGE, or UID EXPUNGE of just `uids` (RFC 4315 2.1). */
  async expunge(opts: { uids?: SequenceSet } = {}): Promise<ExpungeResult> {
    this.requireState('selected');
    const parts: CommandPart[] = opts.uids !== undefined ? ['UID', 'EXPUNGE', sequenceSetArg(opts.uids)] : ['EXPUNGE'];
    const { untagged } = await this.ok(parts);
    const out: ExpungeResult = { expunged: [], vanished: [] };
    for (const r of untagged) {
      if (r.kind !== 'data') continue;
      if (r.name === 'EXPUNGE' && r.number !== undefined) out.expunged.push(r.number);
      if (r.name === 'VANISHED') out.vanished.push(...vanishedOf(r).uids);
    }
    return out;
  }

  /**
   * IDLE (RFC 9051 6.3.13, RFC 2177). Resolves once the server accepted it; events
   * ('exists', 'expunge', 'fetch', 'vanished') arrive on the client until done().
   *
   * @example
   *   client.on('exists', (n) => console.log('now', n, 'messages'));
   *   const idle = await client.idle();
   *   // ... later
   *   await idle.done();
   */
  async idle(): Promise<IdleHandle> {
    this.requireState('authenticated', 'selected');
    if (!this.has('IDLE') && !this.has('IMAP4REV2')) throw new ImapClientError('state', 'server does not support IDLE');
    let accepted!: () => void;
    const started = new Promise<void>((resolve) => (accepted = resolve));
    const finished = this.ok(['IDLE'], { noTimeout: true, onContinuation: () => accepted() });
    await Promise.race([started, finished]);
    let doneCalled = false;
    return {
      done: async () => {
        if (!doneCalled) {
          doneCalled = true;
          this.conn.writeLine('DONE');
        }
        await finished;
      },
    };
  }

  /** NOOP (RFC 9051 6.1.2): lets the server send pending updates (as events). */
  async noop(): Promise<void> {
    await this.ok(['NOOP']);
  }

  /** LOGOUT (RFC 9051 6.1.3) and close. */
  async logout(): Promise<void> {
    if (this.conn.closed) return;
    this.loggingOut = true;
    try {
      await this.ok(['LOGOUT']);
    } catch (err) {
      // The server may close right after its BYE, before or instead of the tagged OK.
      if (!(err instanceof ImapClientError && err.kind === 'connection')) throw err;
    } finally {
      this.state = 'logout';
      this.conn.destroy(new ImapClientError('connection', 'logged out'));
    }
  }

  /** Closes the connection at once; pending commands fail with an 'aborted' error. */
  close(): void {
    this.conn.destroy();
  }

  /** Sends a raw command (parts are joined with spaces; use for extensions this API lacks). */
  async raw(command: string): Promise<CommandResult> {
    return this.withFetches(() => this.conn.run([command]));
  }

  /** Keeps `mailbox` current and turns untagged responses into events. */
  private untagged(r: Response): void {
    if (r.kind === 'status') {
      if (r.code?.name === 'ALERT') this.emit('alert', r.text);
      if (r.status === 'BYE') this.emit('bye', r.text);
      if (r.code?.name === 'CAPABILITY') this.takeCapabilities(r.code);
      if (r.code?.name === 'HIGHESTMODSEQ' && this.mailbox) this.mailbox.highestModseq = bigNumberOf(r.code.args[0]);
      return;
    }
    if (r.kind !== 'data') return;
    try {
      switch (r.name) {
        case 'CAPABILITY':
          this.setCapabilities(r.values);
          break;
        case 'EXISTS':
          if (this.mailbox && r.number !== undefined) this.mailbox.exists = r.number;
          if (this.state === 'selected' && r.number !== undefined) this.emit('exists', r.number);
          break;
        case 'EXPUNGE':
          if (this.mailbox && r.number !== undefined) this.mailbox.exists = Math.max(0, this.mailbox.exists - 1);
          if (r.number !== undefined) this.emit('expunge', r.number);
          break;
        case 'VANISHED': {
          const { uids, earlier } = vanishedOf(r);
          if (this.mailbox && !earlier) this.mailbox.exists = Math.max(0, this.mailbox.exists - uids.length);
          this.emit('vanished', uids, earlier);
          break;
        }
        case 'FETCH':
          if (!this.commandFetches && r.number !== undefined) {
            const msg = parseFetch(r.number, r.values);
            if (msg.modseq !== undefined && this.mailbox?.highestModseq !== undefined && msg.modseq > this.mailbox.highestModseq) {
              this.mailbox.highestModseq = msg.modseq;
            }
            this.emit('fetch', msg);
          }
          break;
      }
    } catch (err) {
      this.conn.destroy(new ImapClientError('protocol', `bad ${r.name} response: ${(err as Error).message}`, { cause: err }));
    }
  }
}

function collectFetches(untagged: Response[]): FetchedMessage[] {
  const bySeq = new Map<number, FetchedMessage>();
  for (const r of untagged) {
    if (r.kind === 'data' && r.name === 'FETCH' && r.number !== undefined) {
      bySeq.set(r.number, parseFetch(r.number, r.values, bySeq.get(r.number)));
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** RFC 4731 3: `* ESEARCH [(TAG "x")] [UID] *(name SP value)` */
function parseEsearch(r: DataResponse, out: SearchResult): void {
  const v = r.values;
  let i = 0;
  if (Array.isArray(v[0])) i++; // search correlator
  if (isAtom(v[i]) && (v[i] as { atom: string }).atom.toUpperCase() === 'UID') i++;
  for (; i + 1 < v.length; i += 2) {
    const name = (valueText(v[i]) ?? '').toUpperCase();
    const val = v[i + 1];
    if (name === 'ALL') out.numbers.push(...expandSequenceSet(valueText(val) ?? ''));
    else if (name === 'COUNT') out.count = numberOf(val);
    else if (name === 'MIN') out.min = numberOf(val);
    else if (name === 'MAX') out.max = numberOf(val);
    else if (name === 'MODSEQ') out.modseq = bigNumberOf(val);
  }
}

function copyUid(code: ResponseCode | undefined): CopyResult {
  if (code?.name !== 'COPYUID') return {};
  return {
    uidValidity: numberOf(code.args[0]),
    sourceUids: expandSequenceSet(valueText(code.args[1]) ?? ''),
    destinationUids: expandSequenceSet(valueText(code.args[2]) ?? ''),
  };
}

/** RFC 7162 3.2.10: `* VANISHED [(EARLIER)] uid-set` */
function vanishedOf(r: DataResponse): { uids: number[]; earlier: boolean } {
  let earlier = false;
  let i = 0;
  const first: Value | undefined = r.values[0];
  if (Array.isArray(first)) {
    earlier = first.some((x) => valueText(x)?.toUpperCase() === 'EARLIER');
    i = 1;
  }
  return { uids: expandSequenceSet(valueText(r.values[i]) ?? ''), earlier };
}

function openSocket(opts: ImapClientOptions, port: number, implicit: boolean, clientCert: { key: string; cert: string } | undefined, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = implicit
      ? tlsConnect({ host: opts.host, port, ...tlsConnectionOptions(opts, clientCert) })
      : netConnect({ host: opts.host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ImapClientError('timeout', `could not connect to ${opts.host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      const tlsFailure = implicit && !/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|ETIMEDOUT/.test((err as NodeJS.ErrnoException).code ?? '');
      reject(new ImapClientError(tlsFailure ? 'tls' : 'connection', `cannot connect to ${opts.host}:${port}: ${err.message}`, { cause: err }));
    });
    socket.once(implicit ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      try {
        if (implicit) checkServerPin(socket as TLSSocket, opts);
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
