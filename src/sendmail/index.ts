// `postern sendmail` (spec 8): a drop-in /usr/sbin/sendmail that submits to a submission
// server with Postern's SMTP client. Exit 0 when the server took the message for every
// recipient; otherwise one clear line on stderr, the message kept in ~/dead.letter, and
// 75 (temporary) or 69 (permanent); 64 for a bad command line.

import { readFileSync } from 'node:fs';
import { loadPrivateKey } from '../tls/generate.js';
import { sendMail, SmtpClientError, replyText, type SmtpClientOptions } from '../smtp/client/index.js';
import { parseSendmailArgs } from './args.js';
import { configPath, loadSendmailConfig, type SendmailConfig } from './config.js';
import { deadLetterPath, saveDeadLetter } from './dead-letter.js';
import { EX_OK, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE } from './exit-codes.js';
import { prepareMessage } from './message.js';
import { SendmailError } from './sendmail-error.js';

export { parseSendmailArgs, type SendmailArgs } from './args.js';
export { loadSendmailConfig, parseSendmailConfig, type SendmailConfig } from './config.js';
export { EX_OK, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE } from './exit-codes.js';

export interface SendmailIo {
  stdin: AsyncIterable<Buffer | string>;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
}

const PREFIX = 'postern sendmail: ';

async function readAll(input: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
  return Buffer.concat(chunks);
}

/** A seed as loadPrivateKey takes it: 43 base64url characters, optionally padded. */
const ED25519_SEED = /^[A-Za-z0-9_-]{43}=?$/;

/**
 * Reads the file a key setting names. The error names the setting and the errno, not the value:
 * what does not name a readable file may be a mistyped seed or a pasted key.
 */
function readSecretFile(setting: string, name: string): string {
  if (name.includes('-----BEGIN') || /[\r\n]/.test(name)) throw new SendmailError(`config: ${setting}: must be the name of a PEM file, not the key itself`);
  try {
    return readFileSync(name, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SendmailError(`config: ${setting}: not a key${setting === 'clientEd25519Key' ? ' (PEM or 32-byte base64url seed)' : ''} and not a readable file (${code})`);
  }
}

/** SMTP client options from the config; key files are read here so errors name the key. */
export function smtpOptions(cfg: SendmailConfig): SmtpClientOptions {
  const o: SmtpClientOptions = { host: cfg.host, port: cfg.port, tls: cfg.tls };
  if (cfg.tlsCA !== undefined) {
    try {
      o.ca = readFileSync(cfg.tlsCA, 'utf8');
    } catch (err) {
      throw new SendmailError(`config: tlsCA: cannot read ${cfg.tlsCA}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (cfg.tlsPin !== undefined) o.pin = cfg.tlsPin;
  if (cfg.tlsInsecure) o.insecure = true;
  const c = cfg.credential;
  if (c.kind === 'password') {
    o.auth = { username: cfg.username, password: c.password };
  } else if (c.kind === 'clientKeyCertFile') {
    const text = readSecretFile('clientKeyCertFile', c.path);
    if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) throw new SendmailError('config: clientKeyCertFile: no private key in the file');
    o.clientCertificate = { key: text };
    if (cfg.username) o.auth = { username: cfg.username };
  } else {
    // A 32-byte seed in base64url, a PEM given inline, or the name of a PEM (or seed) file. The
    // value is never repeated: a mistyped seed is the key itself.
    const value = c.value.trim();
    const text = ED25519_SEED.test(value) || value.includes('-----BEGIN') ? value : readSecretFile('clientEd25519Key', c.value);
    let key;
    try {
      key = loadPrivateKey(text);
    } catch {
      throw new SendmailError('config: clientEd25519Key: not an Ed25519 private key (PEM) or a 32-byte base64url seed');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new SendmailError(`config: clientEd25519Key: key is ${key.asymmetricKeyType}, not Ed25519`);
    o.clientCertificate = { key };
    if (cfg.username) o.auth = { username: cfg.username };
  }
  return o;
}

/** Runs sendmail with `argv` (the arguments after `sendmail`); returns the exit code. */
export async function runSendmail(argv: string[], io: SendmailIo): Promise<number> {
  const say = (s: string) => io.stderr.write(PREFIX + s.replace(/[\r\n]+/g, ' ') + '\n');
  let raw: Buffer | undefined;
  let sender = '';
  const fail = (err: unknown): number => {
    const code = err instanceof SendmailError ? err.exitCode : err instanceof SmtpClientError ? (err.permanent ? EX_UNAVAILABLE : EX_TEMPFAIL) : EX_TEMPFAIL;
    say(describe(err));
    if (raw !== undefined && raw.length > 0) {
      try {
        say(`message saved in ${saveDeadLetter(deadLetterPath(io.env), sender, raw)}`);
      } catch (e) {
        say(`could not save the message: ${(e as Error).message}`);
      }
    }
    return code;
  };
  try {
    const args = parseSendmailArgs(argv);
    raw = await readAll(io.stdin);
    const cfg = loadSendmailConfig(configPath(io.env));
    sender = args.from ?? cfg.from ?? (cfg.username?.includes('@') ? cfg.username : '') ?? '';
    if (!sender) throw new SendmailError('no sender: give -f FROM, or set from (or an address as username) in the config');
    const prepared = prepareMessage(raw, { ignoreDots: args.ignoreDots, extractRecipients: args.extractRecipients, from: cfg.from ?? sender });
    raw = prepared.data; // what we would have sent, with CRLF and the added fields
    const recipients = [...new Set([...args.recipients, ...prepared.headerRecipients])];
    if (recipients.length === 0) throw new SendmailError('no recipients: give them as arguments or use -t', EX_USAGE);
    const result = await sendMail(smtpOptions(cfg), { from: sender, to: recipients }, prepared.data);
    if (result.rejected.length > 0) {
      for (const r of result.rejected) say(`${r.address}: ${replyText(r.reply)}`);
      const permanent = result.rejected.some((r) => r.permanent);
      return fail(new SendmailError(`${result.rejected.length} of ${recipients.length} recipients refused; sent to: ${result.accepted.join(', ')}`, permanent ? EX_UNAVAILABLE : EX_TEMPFAIL));
    }
    return EX_OK;
  } catch (err) {
    return fail(err);
  }
}

function describe(err: unknown): string {
  if (err instanceof SendmailError) return err.message;
  if (err instanceof SmtpClientError) {
    const rcpts = err.recipients?.map((r) => `${r.address}: ${replyText(r.reply)}`).join('; ');
    return `${err.permanent ? 'permanent' : 'temporary'} failure: ${err.message}${rcpts ? ` (${rcpts})` : ''}`;
  }
  return `temporary failure: ${(err as Error)?.message ?? String(err)}`;
}
