import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { ProgressDeadline, SessionEnd, SocketInput, deadlineAfter } from './socket-input.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connected pair: `server` is read through SocketInput, `client` writes. */
async function pair(): Promise<{ server: Socket; client: Socket; done: () => void }> {
  const srv = createServer();
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const client = connect(typeof addr === 'object' && addr ? addr.port : 0, '127.0.0.1');
  const server = await accepted;
  return {
    server,
    client,
    done: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

async function readUntilEnd(input: SocketInput, next: () => number): Promise<{ bytes: number; end: unknown }> {
  let bytes = 0;
  for (;;) {
    try {
      bytes += (await input.read(next())).length;
    } catch (end) {
      return { bytes, end };
    }
  }
}

test('a dribbling client does not push a read deadline out', async () => {
  const p = await pair();
  try {
    const input = new SocketInput(p.server);
    const dribble = setInterval(() => p.client.write('x'), 20);
    const t0 = performance.now();
    // One deadline for the whole "line": the old per-chunk idle timer never fired here.
    const deadline = deadlineAfter(300);
    const { bytes, end } = await readUntilEnd(input, () => deadline);
    clearInterval(dribble);
    const took = performance.now() - t0;
    assert.ok(end instanceof SessionEnd && end.why === 'timeout', String(end));
    assert.ok(bytes > 0, 'bytes before the deadline are returned');
    assert.ok(took >= 290 && took < 1000, `timed out after ${took} ms`);
  } finally {
    p.done();
  }
});

test('input already queued is returned after the deadline; then the timeout', async () => {
  const p = await pair();
  try {
    const input = new SocketInput(p.server);
    p.client.write('queued');
    await sleep(50);
    const past = deadlineAfter(1) - 10;
    assert.equal((await input.read(past)).toString(), 'queued');
    await assert.rejects(input.read(past), (e) => e instanceof SessionEnd && e.why === 'timeout');
  } finally {
    p.done();
  }
});

test('ProgressDeadline restarts only after a full block', async () => {
  const d = new ProgressDeadline(200, 100);
  const first = d.at;
  await sleep(20);
  for (let i = 0; i < 99; i++) d.advance(1);
  assert.equal(d.at, first, '99 bytes of a 100-byte block do not restart the clock');
  d.advance(1);
  assert.ok(d.at > first, 'a full block restarts it');
  const second = d.at;
  d.advance(150); // 150 into a block: restarted, 50 carried over
  assert.ok(d.at >= second);
  const third = d.at;
  d.advance(49);
  assert.equal(d.at, third);
  d.advance(1);
  assert.ok(d.at >= third);
  assert.equal(new ProgressDeadline(0).at, Infinity, 'no timeout configured: no deadline');
});

test('data: a slow but real upload goes on, a dribble is cut', async () => {
  // Block 1000 bytes per 300 ms: 500 bytes every 100 ms is real progress, one byte is not.
  const run = async (size: number, every: number, total: number): Promise<{ bytes: number; end: unknown }> => {
    const p = await pair();
    try {
      const input = new SocketInput(p.server);
      let sent = 0;
      const writer = setInterval(() => {
        if (sent >= total) return void p.client.end();
        p.client.write(Buffer.alloc(size, 'x'));
        sent += size;
      }, every);
      const clock = new ProgressDeadline(300, 1000);
      let bytes = 0;
      let end: unknown;
      for (;;) {
        try {
          const b = await input.read(clock.at);
          clock.advance(b.length);
          bytes += b.length;
        } catch (e) {
          end = e;
          break;
        }
      }
      clearInterval(writer);
      return { bytes, end };
    } finally {
      p.done();
    }
  };
  const slow = await run(500, 100, 5000); // 1.0 s in all, over three times the 300 ms
  assert.ok(slow.end instanceof SessionEnd && slow.end.why === 'closed', `slow upload ended: ${String(slow.end)}`);
  assert.equal(slow.bytes, 5000);
  const dribble = await run(1, 20, 5000);
  assert.ok(dribble.end instanceof SessionEnd && dribble.end.why === 'timeout', `dribble ended: ${String(dribble.end)}`);
  assert.ok(dribble.bytes < 1000);
});
