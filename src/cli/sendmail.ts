// `postern sendmail`: a drop-in /usr/sbin/sendmail (spec 8). It needs no data directory; its own
// errors go to stderr and its exit status follows sysexits (75 temporary, 69 permanent).

import { runSendmail } from '../sendmail/index.js';

export async function sendmailCommand(_dir: string, args: string[]): Promise<void> {
  const code = await runSendmail(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
  process.exitCode = code;
}
