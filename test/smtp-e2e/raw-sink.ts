// A receiving SMTP server for smuggling tests that keeps every byte it was sent. It reads the data
// strictly (only CRLF "." CRLF ends it, RFC 5321 4.1.1.4) and keeps, per transaction, the data as
// it came over the wire as well as unstuffed, so a test can check what a next hop would see.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SinkTransaction {
  from: string;
  to: string[];
  via: 'DATA' | 'BDAT';
  /** The bytes after 354 up to and including CRLF.CRLF, or the BDAT chunks joined. */
  wire: Buffer;
  /** The message: dot-stuffing undone, terminator removed. */
  data: Buffer;
}

export interface RawSink {
  port: number;
  /** Everything every client sent, per connection, in order. */
  raw: Buffer[];
  transactions: SinkTransaction[];
  close(): Promise<void>;
}

const END = Buffer.from('\r\n.\r\n');

export async function startRawSink(o: { chunking?: boolean } = {}): Promise<RawSink> {
  const raw: Buffer[] = [];
  const transactions: SinkTransaction[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const conn = raw.push(Buffer.alloc(0)) - 1;
    let buf = Buffer.alloc(0);
    let mode: 'cmd' | 'data' | 'bdat' = 'cmd';
    let bdatLeft = 0;
    let bdatLast = false;
    let tx: SinkTransaction | null = null;
    const send = (s: string) => sock.write(s + '\r\n');
    const step = (): boolean => {
      if (mode === 'data') {
        // At the start of the data the terminator may be ".\r\n" alone (empty message).
        const empty = buf.subarray(0, 3).equals(Buffer.from('.\r\n'));
        const i = empty ? -2 : buf.indexOf(END);
        if (i === -1) return false;
        const wire = buf.subarray(0, i + 5);
        buf = buf.subarray(i + 5);
        const body = empty ? '' : wire.subarray(0, i + 2).toString('latin1').replace(/(^|\r\n)\./g, '$1');
        if (tx) transactions.push({ ...tx, via: 'DATA', wire: Buffer.from(wire), data: Buffer.from(body, 'latin1') });
        tx = null;
        mode = 'cmd';
        send('250 2.0.0 queued');
        return true;
      }
      if (mode === 'bdat') {
        if (buf.length < bdatLeft) return false;
        const chunk = buf.subarray(0, bdatLeft);
        buf = buf.subarray(bdatLeft);
        if (tx) tx.wire = Buffer.concat([tx.wire, chunk]);
        mode = 'cmd';
        if (bdatLast && tx) {
          transactions.push({ ...tx, via: 'BDAT', data: tx.wire });
          tx = null;
          send('250 2.0.0 queued');
        } else send(`250 2.0.0 ${chunk.length} octets`);
        return true;
      }
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return false;
      const line = buf.subarray(0, nl).toString('latin1');
      buf = buf.subarray(nl + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') send(`250-sink.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n${o.chunking ? '250-CHUNKING\r\n' : ''}250 SMTPUTF8`);
      else if (verb === 'MAIL') {
        tx = { from: /<([^>]*)>/.exec(line)?.[1] ?? '', to: [], via: 'DATA', wire: Buffer.alloc(0), data: Buffer.alloc(0) };
        send('250 2.1.0 ok');
      } else if (verb === 'RCPT') {
        tx?.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        send('250 2.1.5 ok');
      } else if (verb === 'DATA') {
        mode = 'data';
        send('354 go ahead');
      } else if (verb === 'BDAT') {
        const m = /^BDAT (\d+)( LAST)?$/i.exec(line);
        bdatLeft = Number(m?.[1] ?? 0);
        bdatLast = Boolean(m?.[2]);
        mode = 'bdat';
      } else if (verb === 'QUIT') {
        send('221 2.0.0 bye');
        sock.end();
      } else send('250 2.0.0 ok');
      return true;
    };
    sock.on('data', (d: Buffer) => {
      raw[conn] = Buffer.concat([raw[conn]!, d]);
      buf = Buffer.concat([buf, d]);
      while (step());
    });
    send('220 sink.example ESMTP');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    raw,
    transactions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** What a lenient next hop could take for the end of data, besides the real terminator: any
 * "." line ended or started by a bare CR or LF, or a second CRLF "." CRLF. Returns the offsets
 * of such sequences in the wire bytes of a DATA transfer, the final terminator excepted. */
export function smugglingSequences(wire: Buffer): number[] {
  const out: number[] = [];
  const limit = wire.length - 5; // the terminator "\r\n.\r\n" starts here
  for (let i = wire.indexOf('.'); i >= 0; i = wire.indexOf('.', i + 1)) {
    const before = wire[i - 1];
    const after = wire[i + 1];
    const lineStart = i === 0 || before === 0x0a || before === 0x0d;
    const lineEnd = after === 0x0d || after === 0x0a;
    if (lineStart && lineEnd && i - 2 !== limit && !(i === 0 && wire.length === 3)) out.push(i);
  }
  return out;
}

/** Offsets of CRs not followed by LF and LFs not preceded by CR. */
export function bareLineEnds(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0d && b[i + 1] !== 0x0a) out.push(i);
    if (b[i] === 0x0a && b[i - 1] !== 0x0d) out.push(i);
  }
  return out;
}
