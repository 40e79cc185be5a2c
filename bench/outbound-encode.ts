// CPU cost of what the outbound door does to each message before it goes on the wire: canonical
// line ends (outbound/content.ts) and DATA dot-stuffing with its own line-end pass
// (smtp/proto/dot-stuff.ts). Prints MB/s for a typical and a large message, for clean CRLF content
// (the common case: submission and incoming already store CRLF) and for content full of bare LFs.
// Usage: node dist/bench/outbound-encode.js

import { outboundContent } from '../src/outbound/content.js';
import { DotStuffer } from '../src/smtp/proto/dot-stuff.js';

function message(size: number, eol: string): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog, and then the dog wakes up and chases it.';
  const parts: string[] = [`From: a@example.org${eol}To: b@example.com${eol}Subject: bench${eol}${eol}`];
  let n = parts[0]!.length;
  for (let i = 0; n < size; i++) {
    const l = (i % 17 === 0 ? '.' : '') + line + eol;
    parts.push(l);
    n += l.length;
  }
  return Buffer.from(parts.join(''));
}

function rate(label: string, msg: Buffer, fn: (m: Buffer) => number): void {
  // Enough repetitions for about 200 MB of input, after a warm-up.
  const reps = Math.max(5, Math.round(200e6 / msg.length));
  let sink = 0;
  for (let i = 0; i < Math.min(reps, 20); i++) sink += fn(msg);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) sink += fn(msg);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(44)} ${((msg.length * reps) / s / 1e6).toFixed(0).padStart(6)} MB/s  (${reps} x ${msg.length} B, ${sink > 0 ? 'ok' : '-'})`);
}

/** DATA encoding in 64 KiB chunks, as a message read from the store is written to the socket. */
function stuff(m: Buffer): number {
  const s = new DotStuffer();
  let n = 0;
  for (let i = 0; i < m.length; i += 65536) n += s.push(m.subarray(i, i + 65536)).length;
  return n + s.end().length;
}

for (const [name, size] of [['100 KB', 100_000], ['10 MB', 10_000_000]] as const) {
  for (const [kind, eol] of [['CRLF', '\r\n'], ['bare LF', '\n']] as const) {
    const m = message(size, eol);
    rate(`outboundContent ${name} ${kind}`, m, (x) => outboundContent(x).data.length);
    rate(`DotStuffer ${name} ${kind}`, m, stuff);
  }
}
