// Bench-only SMTP sink, run as its own process: the local mailbox behind Dovecot's submission relay.
// Plain SMTP on a loopback port (printed as JSON); each message is written to a maildir (tmp/, fsync,
// rename to new/, fsync of the directory) before its 250, so that it is as durable as Postern's
// delivery. No auth, no TLS: the relay is trusted loopback.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'postern-bench-sink-'));
for (const d of ['tmp', 'new', 'cur']) mkdirSync(join(dir, d));
let seq = 0;

async function store(data: Buffer): Promise<void> {
  const name = `${Date.now()}.${process.pid}_${seq++}.sink`;
  const f = await open(join(dir, 'tmp', name), 'w');
  await f.writeFile(data);
  await f.sync();
  await f.close();
  await rename(join(dir, 'tmp', name), join(dir, 'new', name));
  const d = await open(join(dir, 'new'), 'r');
  await d.sync();
  await d.close();
}

function session(sock: Socket): void {
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let inData = false;
  let busy = Promise.resolve();
  const reply = (s: string) => sock.write(s + '\r\n');
  sock.on('error', () => undefined);
  reply('220 sink ESMTP');
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (inData) {
        const end = buf.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const msg = buf.subarray(0, end + 2);
        buf = buf.subarray(end + 5);
        inData = false;
        busy = busy.then(() => store(msg)).then(() => void reply('250 2.0.0 stored'), () => void reply('451 4.3.0 store failed'));
        continue;
      }
      const i = buf.indexOf('\r\n');
      if (i < 0) return;
      const line = buf.toString('latin1', 0, i);
      buf = buf.subarray(i + 2);
      const verb = line.slice(0, 4).toUpperCase();
      // Replies keep their order behind a pending store.
      busy = busy.then(() => {
        if (verb === 'EHLO') reply('250-sink\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING');
        else if (verb === 'HELO') reply('250 sink');
        else if (verb === 'DATA') reply('354 go ahead');
        else if (verb === 'QUIT') (reply('221 bye'), sock.end());
        else reply('250 2.0.0 ok');
      });
      if (verb === 'DATA') inData = true;
    }
  });
}

const server = createServer(session);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port, dir }) + '\n');
});
const stop = () => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
