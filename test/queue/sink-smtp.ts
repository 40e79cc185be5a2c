// A sink SMTP server for the queue tests that run several runners: it accepts every transaction
// and records each message it acknowledged (250 after the data), so a test can count deliveries
// per recipient. `beforeReply` runs before that 250 and may hold it (a slow receiver), or never
// settle (a receiver that hangs while the sender is killed).

import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface SinkTransaction {
  from: string;
  to: string[];
  data: string;
}

export interface SinkSmtp {
  port: number;
  /** Transactions acknowledged with 250, in order. */
  accepted: SinkTransaction[];
  close(): Promise<void>;
}

export async function startSinkSmtp(opts: { beforeReply?: (t: SinkTransaction) => Promise<void> } = {}): Promise<SinkSmtp> {
  const accepted: SinkTransaction[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    let tx: SinkTransaction | null = null;
    let inData = false;
    const reply = (line: string) => void (socket.writable && socket.write(`${line}\r\n`));
    socket.on('data', async (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const t = { ...tx!, data: buf.slice(0, end + 2) };
          buf = buf.slice(end + 5);
          inData = false;
          tx = null;
          socket.pause();
          await opts.beforeReply?.(t);
          accepted.push(t);
          reply('250 2.0.0 accepted');
          socket.resume();
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') reply('250 sink');
        else if (verb === 'MAIL') {
          tx = { from: /<(.*?)>/.exec(line)?.[1] ?? '', to: [], data: '' };
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          tx?.to.push(/<(.*?)>/.exec(line)?.[1] ?? '');
          reply('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 go ahead');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          socket.end();
        } else if (verb === 'RSET') {
          tx = null;
          reply('250 2.0.0 ok');
        } else reply('250 2.0.0 ok');
      }
    });
    reply('220 sink ESMTP');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
