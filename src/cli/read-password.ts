// Reads a new password: the first line of stdin, or a prompt without echo on a terminal.

import { createInterface } from 'node:readline';
import { CliError, EX_DATAERR } from './cli-error.js';

async function readFirstLine(input: NodeJS.ReadStream): Promise<string> {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new CliError('no password on standard input', EX_DATAERR);
}

async function prompt(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            stderr.write('\n');
            return resolve(value);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new CliError('interrupted', 130));
          }
          if (ch === '\u007f') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

export async function readNewPassword(): Promise<string> {
  let pw: string;
  if (process.stdin.isTTY) {
    pw = await prompt('new password: ');
    const again = await prompt('repeat password: ');
    if (pw !== again) throw new CliError('passwords do not match', EX_DATAERR);
  } else {
    pw = await readFirstLine(process.stdin);
  }
  checkPasswordPolicy(pw);
  return pw;
}

export function checkPasswordPolicy(pw: string): void {
  if ([...pw].length < 8) throw new CliError('password must have at least 8 characters', EX_DATAERR);
}
