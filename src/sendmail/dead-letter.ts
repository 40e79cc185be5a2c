// Keeps a message that could not be sent (spec 8): appended to ~/dead.letter in mbox format
// (a "From " line, ">From " quoting), mode 0600 since mail is private.

import { appendFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function deadLetterPath(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), 'dead.letter');
}

/** Appends the message; returns the path. Throws when the file cannot be written. */
export function saveDeadLetter(path: string, sender: string, message: Buffer): string {
  const text = message.toString('latin1').replace(/\r\n/g, '\n');
  const quoted = text.replace(/^(>*From )/gm, '>$1');
  const fromLine = `From ${sender || 'MAILER-DAEMON'} ${new Date().toUTCString()}\n`;
  appendFileSync(path, Buffer.from(fromLine + quoted + (quoted.endsWith('\n') ? '' : '\n') + '\n', 'latin1'), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
