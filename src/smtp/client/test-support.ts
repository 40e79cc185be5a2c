// A small scriptable SMTP server for the client and queue tests: EHLO capabilities, STARTTLS
// or implicit TLS with a generated certificate, AUTH with the real server halves from src/sasl,
// per-recipient and per-message replies, DATA and BDAT. It records what it received.

import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { StoredCredentials } from '../../auth/password.js';
import { createSaslServer, parseMechanism, type SaslServer } from '../../sasl/index.js';
import { testContext } from '../../sasl/test-support.js';
import { channelBindingOf } from '../../tls/channel-binding.js';
import { peerCertificateDer } from '../../tls/server-context.js';
import { generateServerCertificate, type KeyAndCertificate } from '../../tls/generate.js';

let cert: KeyAndCertificate | undefined;
/** One server certificate per test process (for "localhost" and 127.0.0.1). */
export function fakeServerCertificate(): KeyAndCertificate {
  cert ??= generateServerCertificate('localhost');
  return cert;
}

export interface FakeTransaction {
  from: string;
  mailParams: string;
  to: string[];
  data: Buffer;
  via: 'DATA' | 'BDAT';
}

export interface FakeSmtpOptions {
  port?: number;
  /** Address to listen on; default 127.0.0.1 (tests of several MX hosts use more of 127/8). */
  host?: string;
  /** Server key and certificate chain (PEM); default one generated for "localhost". */
  certificate?: { keyPem: string; certPem: string };
  /** EHLO keywords after the greeting line; null: EHLO is refused with 502 (HELO only). */
  extensions?: string[] | null;
  /** Offer STARTTLS (added to extensions before TLS). */
  starttls?: boolean;
  /** TLS from the first byte. */
  implicitTls?: boolean;
  /** Request a client certificate in the handshake. */
  requestCert?: boolean;
  /** Users for AUTH, and the mechanisms to advertise (sent as `AUTH ...`). */
  users?: Record<string, StoredCredentials>;
  mechanisms?: string[];
  /** Send the SCRAM server-final-message with 235 instead of as a 334 challenge. */
  scramFinalWith235?: boolean;
  /** Reply to the greeting; default `220 fake ESMTP`. */
  greeting?: string;
  /** Reply to MAIL FROM; default `250 2.1.0 ok`. */
  onMail?: (from: string) => string | undefined;
  /** Reply per RCPT TO address; default `250 2.1.5 ok`. */
  onRcpt?: (to: string) => string | undefined;
  /** Reply to the end of data; default `250 2.0.0 queued`. */
  onData?: (t: FakeTransaction) => string | undefined;
  /** After `220` to STARTTLS, send this too before the handshake (injection test). */
  injectAfterStartTls?: string;
  /** Answer STARTTLS with 220, then hang up instead of doing the handshake. */
  brokenStartTls?: boolean;
  /** Require AUTH before MAIL (530 otherwise). */
  requireAuth?: boolean;
}

export interface FakeSmtpServer {
  port: number;
  transactions: FakeTransaction[];
  /** Every command line received, in order (AUTH data included). */
  commands: string[];
  /** Chunks as they arrived, as text (to check pipelining). */
  reads: string[];
  /** Per connection: the authenticated identity (`external:<fp>` or the login), or null. */
  authenticated: (string | null)[];
  /** Client certificate DERs seen. */
  clientCerts: Buffer[];
  connections: number;
  close(): Promise<void>;
}

export async function startFakeSmtpServer(o: FakeSmtpOptions = {}): Promise<FakeSmtpServer> {
  const state: Omit<FakeSmtpServer, 'port' | 'close'> = { transactions: [], commands: [], reads: [], authenticated: [], clientCerts: [], connections: 0 };
  const sockets = new Set<Socket>();
  const { keyPem, certPem } = o.certificate ?? fakeServerCertificate();
  const tlsOpts = { isServer: true, key: keyPem, cert: certPem, requestCert: !!o.requestCert, rejectUnauthorized: false };

  const server: Server = createNetServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    state.connections++;
    const connIndex = state.authenticated.push(null) - 1;
    if (o.implicitTls) {
      const tls = new TLSSocket(raw, tlsOpts);
      tls.on('error', () => {});
      tls.once('secure', () => session(tls, true));
    } else {
      session(raw, false);
    }

    function session(first: Socket, initialTls: boolean): void {
      let sock = first;
      let secure = initialTls;
      let buf = Buffer.alloc(0);
      let mode: 'cmd' | 'data' | 'auth' | 'bdat' = 'cmd';
      let bdatLeft = 0;
      let bdatLast = false;
      let tx: FakeTransaction | null = null;
      let sasl: SaslServer | null = null;
      let pendingSuccess: string | null = null;
      let busy = Promise.resolve();
      const send = (s: string) => sock.write(s.endsWith('\r\n') ? s : s + '\r\n');
      const noteCert = () => {
        const der = peerCertificateDer(sock as TLSSocket);
        if (der) state.clientCerts.push(der);
      };
      if (secure) noteCert();

      const ehloLines = (): string[] => {
        const ext = [...(o.extensions ?? ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'SIZE 10000000'])];
        if (o.starttls && !secure) ext.push('STARTTLS');
        if (o.mechanisms?.length) ext.push(`AUTH ${o.mechanisms.join(' ')}`);
        return ext;
      };

      const finishAuth = (step: Awaited<ReturnType<SaslServer['step']>>) => {
        if (step.kind === 'challenge') {
          send(`334 ${step.data.toString('base64')}`);
          return;
        }
        if (step.kind === 'failure') {
          mode = 'cmd';
          sasl = null;
          send('535 5.7.8 authentication failed');
          return;
        }
        const who = step.authcid === '' ? `external:${step.authzid}` : step.authcid;
        if (step.data !== undefined && !o.scramFinalWith235) {
          send(`334 ${step.data.toString('base64')}`);
          pendingSuccess = who;
          return;
        }
        mode = 'cmd';
        sasl = null;
        state.authenticated[connIndex] = who;
        send(step.data !== undefined ? `235 ${step.data.toString('base64')}` : '235 2.7.0 ok');
      };

      const onLine = async (line: string): Promise<void> => {
        state.commands.push(line);
        if (mode === 'auth') {
          if (line === '*') {
            mode = 'cmd';
            sasl = null;
            send('501 5.0.0 cancelled');
            return;
          }
          if (pendingSuccess !== null) {
            state.authenticated[connIndex] = pendingSuccess;
            pendingSuccess = null;
            mode = 'cmd';
            sasl = null;
            send('235 2.7.0 ok');
            return;
          }
          finishAuth(await sasl!.step(Buffer.from(line, 'base64')));
          return;
        }
        const [verbRaw = '', ...args] = line.split(' ');
        const verb = verbRaw.toUpperCase();
        const arg = args.join(' ');
        switch (verb) {
          case 'EHLO':
            if (o.extensions === null) return void send('502 5.5.1 EHLO not supported');
            return void send(['fake.example', ...ehloLines()].map((l, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
          case 'HELO':
            return void send('250 fake.example');
          case 'STARTTLS': {
            if (!o.starttls || secure) return void send('502 5.5.1 no');
            send('220 2.0.0 go ahead' + (o.injectAfterStartTls ? `\r\n${o.injectAfterStartTls}` : ''));
            if (o.brokenStartTls) return void sock.end();
            const plain = sock;
            plain.removeAllListeners('data');
            const tls = new TLSSocket(plain, tlsOpts);
            tls.on('error', () => {});
            tls.once('secure', () => {
              sock = tls;
              secure = true;
              noteCert();
              tls.on('data', onData);
            });
            return;
          }
          case 'AUTH': {
            const [mechName = '', ir] = args;
            const mech = parseMechanism(mechName);
            if (!mech || !o.mechanisms?.includes(mech)) return void send('504 5.5.4 unknown mechanism');
            const ctx = testContext(o.users ?? {}, { tls: secure, channelBinding: secure ? channelBindingOf(sock as TLSSocket, true) : undefined });
            if (mech === 'EXTERNAL') {
              const der = secure ? peerCertificateDer(sock as TLSSocket) : null;
              if (!der) return void send('535 5.7.8 no certificate');
            }
            sasl = createSaslServer(mech, ctx);
            mode = 'auth';
            finishAuth(await sasl.step(ir === undefined ? null : ir === '=' ? Buffer.alloc(0) : Buffer.from(ir, 'base64')));
            return;
          }
          case 'MAIL': {
            if (o.requireAuth && state.authenticated[connIndex] === null) return void send('530 5.7.0 authentication required');
            const m = /^FROM:<([^>]*)>\s*(.*)$/i.exec(arg);
            if (!m) return void send('501 5.5.4 syntax');
            const r = o.onMail?.(m[1]!) ?? '250 2.1.0 ok';
            if (r.startsWith('250')) tx = { from: m[1]!, mailParams: m[2]!, to: [], data: Buffer.alloc(0), via: 'DATA' };
            return void send(r);
          }
          case 'RCPT': {
            if (!tx) return void send('503 5.5.1 MAIL first');
            const m = /^TO:<([^>]*)>/i.exec(arg);
            if (!m) return void send('501 5.5.4 syntax');
            const r = o.onRcpt?.(m[1]!) ?? '250 2.1.5 ok';
            if (r.startsWith('25')) tx.to.push(m[1]!);
            return void send(r);
          }
          case 'DATA':
            if (!tx || tx.to.length === 0) return void send('554 5.5.1 no valid recipients');
            mode = 'data';
            return void send('354 go ahead');
          case 'BDAT': {
            const m = /^(\d+)( LAST)?$/i.exec(arg);
            if (!m) return void send('501 5.5.4 syntax');
            bdatLeft = Number(m[1]);
            bdatLast = !!m[2];
            if (tx) tx.via = 'BDAT';
            mode = 'bdat';
            return;
          }
          case 'RSET':
            tx = null;
            return void send('250 2.0.0 reset');
          case 'NOOP':
            return void send('250 2.0.0 ok');
          case 'QUIT':
            send('221 2.0.0 bye');
            sock.end();
            return;
          default:
            return void send('500 5.5.1 unknown command');
        }
      };

      const endMessage = () => {
        mode = 'cmd';
        if (!tx || tx.to.length === 0) return void send('503 5.5.1 no transaction');
        const t = tx;
        tx = null;
        state.transactions.push(t);
        send(o.onData?.(t) ?? '250 2.0.0 queued');
      };

      const pump = async () => {
        for (;;) {
          if (mode === 'bdat') {
            if (buf.length < bdatLeft) {
              if (tx) tx.data = Buffer.concat([tx.data, buf]);
              bdatLeft -= buf.length;
              buf = Buffer.alloc(0);
              return;
            }
            if (tx) tx.data = Buffer.concat([tx.data, buf.subarray(0, bdatLeft)]);
            buf = buf.subarray(bdatLeft);
            bdatLeft = 0;
            if (bdatLast) endMessage();
            else {
              mode = 'cmd';
              send(tx ? '250 2.0.0 chunk ok' : '503 5.5.1 no transaction');
            }
            continue;
          }
          if (mode === 'data') {
            const end = buf.indexOf('\r\n.\r\n');
            const atStart = buf.subarray(0, 3).equals(Buffer.from('.\r\n'));
            if (end < 0 && !atStart) return;
            const body = atStart ? Buffer.alloc(0) : buf.subarray(0, end + 2);
            buf = buf.subarray(atStart ? 3 : end + 5);
            // Undo dot-stuffing (RFC 5321 4.5.2).
            if (tx) tx.data = Buffer.from(body.toString('latin1').replace(/^\./gm, ''), 'latin1');
            endMessage();
            continue;
          }
          const nl = buf.indexOf('\r\n');
          if (nl < 0) return;
          const line = buf.subarray(0, nl).toString('utf8');
          buf = buf.subarray(nl + 2);
          const wasCmd = mode;
          await onLine(line);
          // STARTTLS: the rest belongs to the TLS layer (and must be empty).
          if (wasCmd === 'cmd' && /^STARTTLS$/i.test(line) && o.starttls) return;
        }
      };
      const onData = (chunk: Buffer) => {
        state.reads.push(chunk.toString('latin1'));
        buf = Buffer.concat([buf, chunk]);
        busy = busy.then(pump).catch(() => void sock.destroy());
      };
      sock.on('data', onData);
      send(o.greeting ?? '220 fake.example ESMTP fake');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve);
  });
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
