#!/usr/bin/env node
// `postern`: the one executable. Dispatches on the command words; every error ends as one line on
// stderr and a non-zero, sysexits-style exit status.

import { ConfigError } from '../config/load.js';
import { StoreError } from '../store/errors.js';
import { accountCommand, setAccountPasswordCommand } from './account.js';
import { extractDir } from './args.js';
import { CliError, EX_CONFIG, EX_DATAERR, EX_SOFTWARE, EX_USAGE } from './cli-error.js';
import { configCommand } from './config-tlspubkey.js';
import { dmarcCommand } from './dmarc.js';
import { junkCommand } from './junk.js';
import { queueCommand } from './queue.js';
import { quickstartCommand } from './quickstart.js';
import { tlsCommand } from './tls-status.js';
import { tlsrptCommand } from './tlsrpt.js';

const HELP = `usage: postern [--dir DIR] COMMAND ...
  quickstart [--hostname H] [--listen IP] [--port-base N] [--password PW] [--acme | --no-acme] ADDRESS
  serve
  localserve
  account add ACCOUNT ADDRESS | rm ACCOUNT | list | addaddress ACCOUNT ADDRESS | rmaddress ADDRESS
  setaccountpassword ACCOUNT
  queue list | retry ID | drop ID
  tls status
  tlsrpt list [--domain DOMAIN] [--day YYYY-MM-DD]
  dmarc exception list ACCOUNT | add ACCOUNT DOMAIN | rm ACCOUNT DOMAIN | report DOMAIN [DAY] | received [DOMAIN]
  junk show ACCOUNT | threshold ACCOUNT VALUE|default
  sendmail [-t] [-f FROM] [-i] [-oi] [RECIPIENT...] < MESSAGE
  dkim list | gen DOMAIN | rotate DOMAIN | rm DOMAIN SELECTOR
  dns records DOMAIN | check DOMAIN
  config tlspubkey list [ACCOUNT] | get FP | add ADDRESS [NAME] [--no-imap-preauth] < CERT | rm FP | gen STEM
DIR defaults to $POSTERN_DIR, else ./data.`;

type Command = (dir: string, args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  quickstart: quickstartCommand,
  // Server code is loaded only by the commands that run it: admin commands start fast.
  serve: async (dir, args) => (await import('./serve.js')).serveCommand(dir, args),
  localserve: async (dir, args) => (await import('./serve.js')).localserveCommand(dir, args),
  account: accountCommand,
  setaccountpassword: setAccountPasswordCommand,
  config: configCommand,
  queue: queueCommand,
  tls: tlsCommand,
  dkim: async (dir, args) => (await import('./dkim.js')).dkimCommand(dir, args),
  dns: async (dir, args) => (await import('./dns.js')).dnsCommand(dir, args),
  tlsrpt: tlsrptCommand,
  dmarc: dmarcCommand,
  junk: junkCommand,
  sendmail: async (dir, args) => (await import('./sendmail.js')).sendmailCommand(dir, args),
};

async function main(argv: string[]): Promise<void> {
  const { dir, args } = extractDir(argv, process.env);
  const [name, ...rest] = args;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(HELP);
    if (!name) process.exitCode = EX_USAGE;
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(`unknown command ${JSON.stringify(name)}; see "postern help"`, EX_USAGE);
  await command(dir, rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  let code = EX_SOFTWARE;
  let message: string;
  if (err instanceof CliError) {
    code = err.exitCode;
    message = err.message;
  } else if (err instanceof StoreError) {
    code = EX_DATAERR;
    message = err.message;
  } else if (err instanceof ConfigError) {
    code = EX_CONFIG;
    message = err.message;
  } else {
    const e = err as NodeJS.ErrnoException;
    message = e?.message ?? String(err);
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES') code = 71;
  }
  process.stderr.write(`postern: ${message.replace(/\s*\n\s*/g, '; ')}\n`);
  process.exit(code);
});
