// Mixed mail load from our own client libraries, shared by the crash rounds and the soak benchmark:
// IMAP sessions that APPEND, STORE flags, EXPUNGE and MOVE, and an SMTP submission loop that sends
// to the local user. Every operation is written into a Model before it is sent ("maybe") and
// settled when its OK / 250 arrives ("acknowledged"), so that after a SIGKILL we know exactly what
// the server promised.

import { createHash } from 'node:crypto';
import { ImapClient } from '../../src/imap/client/index.js';
import { SmtpClient } from '../../src/smtp/client/index.js';
import { ADDRESS, PASSWORD } from './serve-child.js';

export const ARCHIVE = 'Archive';

/** Deterministic body for a Message-ID: its content proves a file is complete and belongs to it. */
export function bodyFor(id: string, size: number): Buffer {
  const line = (k: number): string => `${k} ${createHash('sha256').update(`${id}/${k}`).digest('base64url')}\r\n`;
  const out: string[] = [];
  let n = 0;
  for (let k = 0; n < size; k++) {
    const l = line(k);
    out.push(l);
    n += l.length;
  }
  return Buffer.from(out.join(''));
}

export function messageFor(id: string, size: number): Buffer {
  const head = `From: ${ADDRESS}\r\nTo: ${ADDRESS}\r\nSubject: load ${id}\r\nMessage-ID: <${id}>\r\nDate: ${new Date().toUTCString().replace('GMT', '+0000')}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bodyFor(id, size)]);
}

/** Sizes: mostly small, some of a few hundred KB (several writes, a longer fsync window). */
export function sizeFor(rand: () => number): number {
  const r = rand();
  return r < 0.7 ? 200 + Math.floor(rand() * 3000) : r < 0.95 ? 10_000 + Math.floor(rand() * 60_000) : 200_000 + Math.floor(rand() * 300_000);
}

export type Place = 'INBOX' | typeof ARCHIVE | 'gone';

export interface MessageState {
  id: string;
  size: number;
  /** Where it may be: one place once settled, several while an operation was in flight at a kill. */
  possible: Set<Place>;
  /** Its UID where it certainly is (APPENDUID / COPYUID / seen after a restart). */
  uid?: number;
  /** Keywords whose STORE was acknowledged: they must survive. */
  flags: Set<string>;
  /** Highest MODSEQ a STORE on it reported. */
  modseq: bigint;
  /** Content checked once after a restart. */
  contentChecked: boolean;
  /** Owned by a session this round (no two sessions touch one message). */
  busy: boolean;
}

export class Model {
  readonly messages = new Map<string, MessageState>();
  /** Highest UID acknowledged per mailbox, and highest MODSEQ reported (MODSEQs are per mailbox). */
  readonly maxUid = new Map<string, number>();
  readonly maxModseq = new Map<string, bigint>();
  acked = 0;
  /** Operations that failed with an error before the kill (a refusal, not a dropped connection). */
  readonly unexpected: string[] = [];

  add(id: string, size: number): MessageState {
    const m: MessageState = { id, size, possible: new Set(['gone', 'INBOX']), flags: new Set(), modseq: 0n, contentChecked: false, busy: true };
    this.messages.set(id, m);
    return m;
  }

  noteUid(mailbox: string, uid: number): void {
    this.maxUid.set(mailbox, Math.max(this.maxUid.get(mailbox) ?? 0, uid));
  }
}

export interface LoadHandle {
  stop(): void;
  /** Settles when every session ended (after stop() or when the server went away). */
  done: Promise<void>;
  /** Operations acknowledged so far in this load. */
  ops(): number;
  errors(): string[];
}

export interface LoadOptions {
  host?: string;
  imapPort: number;
  submissionPort?: number;
  imapSessions?: number;
  /** A prefix for Message-IDs, unique per load. */
  tag: string;
  /** Pause between operations of one session, ms (0: as fast as possible). */
  pauseMs?: number;
  /** After this time (epoch ms) errors are expected (the server is being killed). */
  killedAt?: () => number | null;
  rand?: () => number;
  /** Message sizes (default sizeFor). */
  size?: (rand: () => number) => number;
  /** A session owning more INBOX messages than this expunges or moves instead of appending. */
  maxOwned?: number;
  /** Reconnect a session after an error (the soak) instead of ending it (the crash rounds). */
  reconnect?: boolean;
}

function isConnectionLoss(err: unknown): boolean {
  const e = err as { kind?: string; code?: string; message?: string };
  return e?.kind === 'connection' || e?.kind === 'aborted' || e?.kind === 'timeout' || /ECONNRESET|ECONNREFUSED|EPIPE|closed|socket|ended/i.test(String(e?.message ?? e?.code ?? ''));
}

/** Starts the sessions; each runs until stopped or until its connection breaks. */
export function startLoad(model: Model, o: LoadOptions): LoadHandle {
  const host = o.host ?? '127.0.0.1';
  const rand = o.rand ?? Math.random;
  let stopped = false;
  let ops = 0;
  let seq = 0;
  const errors: string[] = [];
  const fail = (who: string, err: unknown): void => {
    const killed = o.killedAt?.();
    if (killed != null && isConnectionLoss(err)) return;
    if (killed != null && Date.now() >= killed - 50) return;
    const msg = `${who}: ${(err as Error)?.message ?? String(err)}`;
    errors.push(msg);
    if (killed == null || Date.now() < killed) model.unexpected.push(msg);
  };
  const pause = (): Promise<void> => (o.pauseMs ? new Promise((r) => setTimeout(r, o.pauseMs! * (0.5 + rand()))) : Promise.resolve());

  const imapSession = async (n: number): Promise<void> => {
    let c: ImapClient | undefined;
    const mine: MessageState[] = [];
    try {
      c = await ImapClient.connect({ host, port: o.imapPort, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD }, timeouts: { connect: 10_000, command: 60_000 } });
      await c.create(ARCHIVE).catch(() => {});
      await c.select('INBOX', { condstore: true });
      // Settled messages in INBOX with a known UID become this session's to play with.
      for (const m of model.messages.values()) {
        if (!m.busy && m.possible.size === 1 && m.possible.has('INBOX') && m.uid !== undefined && m.uid % (o.imapSessions ?? 2) === n) {
          m.busy = true;
          mine.push(m);
        }
      }
      while (!stopped) {
        const r = rand();
        if ((r < 0.5 || mine.length < 3) && mine.length < (o.maxOwned ?? Infinity)) {
          const id = `${o.tag}-i${n}-${seq++}@load.test`;
          const size = (o.size ?? sizeFor)(rand);
          const m = model.add(id, size);
          const res = await c.append('INBOX', messageFor(id, size));
          m.possible = new Set(['INBOX']);
          if (res.uid !== undefined) {
            m.uid = res.uid;
            model.noteUid('INBOX', res.uid);
          }
          mine.push(m);
        } else if (r < 0.72) {
          const m = mine[Math.floor(rand() * mine.length)]!;
          if (m.uid === undefined) continue;
          const kw = `$k${Math.floor(rand() * 5)}`;
          const res = await c.store(String(m.uid), { add: [kw] }, { uid: true });
          m.flags.add(kw);
          for (const f of res.messages) {
            // Other sessions' flag changes arrive as FETCH responses during this STORE too.
            if (f.uid === m.uid && f.modseq !== undefined && f.modseq > m.modseq) m.modseq = f.modseq;
            if (f.modseq !== undefined && f.modseq > (model.maxModseq.get('INBOX') ?? 0n)) model.maxModseq.set('INBOX', f.modseq);
          }
        } else if (r < 0.86) {
          const i = Math.floor(rand() * mine.length);
          const m = mine[i]!;
          if (m.uid === undefined) continue;
          mine.splice(i, 1);
          m.possible = new Set(['INBOX', 'gone']);
          await c.store(String(m.uid), { add: ['\\Deleted'] }, { uid: true, silent: true });
          await c.expunge({ uids: String(m.uid) });
          m.possible = new Set(['gone']);
        } else {
          const i = Math.floor(rand() * mine.length);
          const m = mine[i]!;
          if (m.uid === undefined) continue;
          mine.splice(i, 1);
          m.possible = new Set(['INBOX', ARCHIVE]);
          m.modseq = 0n;
          const res = await c.move(String(m.uid), ARCHIVE, { uid: true });
          m.possible = new Set([ARCHIVE]);
          // A new message in another mailbox: its MODSEQ counts there, from that mailbox's own counter.
          m.modseq = 0n;
          m.uid = res.destinationUids?.[0];
          if (m.uid !== undefined) model.noteUid(ARCHIVE, m.uid);
        }
        ops++;
        model.acked++;
        await pause();
      }
      await c.logout().catch(() => {});
    } catch (err) {
      fail(`imap session ${n}`, err);
      c?.close();
    }
  };

  const smtpSession = async (): Promise<void> => {
    let c: SmtpClient | undefined;
    try {
      c = await SmtpClient.connect({ host, port: o.submissionPort!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD }, clientName: 'load.test', timeouts: { connect: 10_000, command: 60_000, data: 60_000 } });
      while (!stopped) {
        const id = `${o.tag}-s-${seq++}@load.test`;
        const size = (o.size ?? sizeFor)(rand);
        const m = model.add(id, size);
        const res = await c.send({ from: ADDRESS, to: [ADDRESS] }, messageFor(id, size));
        if (res.rejected?.length) throw new Error(`recipient rejected: ${JSON.stringify(res.rejected)}`);
        m.possible = new Set(['INBOX']);
        // Delivered by SMTP: no UID known until a restart shows it; no IMAP session touches it.
        ops++;
        model.acked++;
        await pause();
      }
      await c.quit().catch(() => {});
    } catch (err) {
      fail('smtp session', err);
      c?.close();
    }
  };

  const again = async (session: () => Promise<void>): Promise<void> => {
    for (;;) {
      await session();
      if (stopped || !o.reconnect) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const sessions = Array.from({ length: o.imapSessions ?? 2 }, (_, n) => again(() => imapSession(n)));
  if (o.submissionPort) sessions.push(again(smtpSession));
  return {
    stop: () => void (stopped = true),
    done: Promise.all(sessions).then(() => {
      for (const m of model.messages.values()) m.busy = false;
    }),
    ops: () => ops,
    errors: () => errors,
  };
}
