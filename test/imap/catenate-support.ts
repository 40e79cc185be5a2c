// Sending APPEND ... CATENATE commands piece by piece over a raw client: text, and literals that
// are synchronizing (wait for "+", or stop at an early tagged answer as RFC 4469 5.1 lets the
// server give), non-synchronizing (LITERAL+) or literal8.
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Client, Reply } from './harness.js';

/**
 * Runs a python3 script (python imaplib as the peer) and returns its output; null after skipping
 * the test when python3 is missing (outside CI: there it fails).
 */
export async function runPython(t: TestContext, script: string, args: string[]): Promise<string | null> {
  try {
    return (await promisify(execFile)('python3', ['-c', script, ...args])).stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && process.env.CI !== 'true') {
      t.skip('python3 not installed');
      return null;
    }
    throw err;
  }
}

export interface Lit {
  lit: Buffer | string;
  kind?: 'sync' | 'nonsync' | 'binary';
}
export type Piece = string | Lit;

export interface CatReply extends Reply {
  /** "+" continuations received. */
  continuations: number;
  /** The tagged answer came instead of a continuation: the rest was not sent. */
  early: boolean;
}

const tagged = (tag: string, line: string): Reply | null => {
  const m = new RegExp(`^${tag} (OK|NO|BAD) ?(.*)$`, 's').exec(line);
  return m ? { status: m[1] as Reply['status'], text: m[2]!, untagged: [] } : null;
};

/** Sends `tag` + pieces as one command; returns the tagged reply. */
export async function sendPieces(c: Client, pieces: Piece[]): Promise<CatReply> {
  const tag = c.nextTag();
  let line = `${tag} `;
  let continuations = 0;
  const untagged: string[] = [];
  for (const p of pieces) {
    if (typeof p === 'string') {
      line += p;
      continue;
    }
    const data = typeof p.lit === 'string' ? Buffer.from(p.lit, 'latin1') : p.lit;
    const kind = p.kind ?? 'sync';
    c.write(`${line}${kind === 'binary' ? '~' : ''}{${data.length}${kind === 'nonsync' ? '+' : ''}}\r\n`);
    line = '';
    if (kind !== 'nonsync') {
      for (;;) {
        const l = await c.readLine();
        if (l.startsWith('+')) break;
        const t = tagged(tag, l);
        if (t) return { ...t, untagged, continuations, early: true };
        untagged.push(l);
      }
      continuations++;
    }
    c.write(data);
  }
  c.write(`${line}\r\n`);
  const r = await c.reply(tag);
  return { ...r, untagged: [...untagged, ...r.untagged], continuations, early: false };
}

/** The UID an APPENDUID response code gives (the last of a range). */
export function appendUid(text: string): number {
  const m = /\[APPENDUID \d+ (?:\d+:)?(\d+)\]/.exec(text);
  if (!m) throw new Error(`no APPENDUID in ${text}`);
  return Number(m[1]);
}
