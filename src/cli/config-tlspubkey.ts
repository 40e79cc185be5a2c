// `postern config tlspubkey list|get|add|rm|gen` (spec 1 and 2.1).

import { writeFileSync } from 'node:fs';
import { CertificateError, MAX_CERTIFICATE_INPUT, certificatePem, parseCertificate } from '../tls/certificate.js';
import { generateClientCertificate } from '../tls/generate.js';
import { pkcs12 } from '../tls/pkcs12.js';
import type { TlsPubKey } from '../store/types.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, EX_NOINPUT, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern config tlspubkey list [ACCOUNT] | get FINGERPRINT | add ADDRESS [NAME] [--no-imap-preauth] < CERT | rm FINGERPRINT | gen STEM [--password PW]';

const iso = (d: Date | null) => (d ? d.toISOString() : '-');

export async function configCommand(dir: string, args: string[]): Promise<void> {
  const [what, sub, ...rest] = args;
  if (what !== 'tlspubkey') throw usage(USAGE);
  switch (sub) {
    case 'list':
      return list(dir, rest);
    case 'get':
      return get(dir, rest);
    case 'add':
      return add(dir, rest);
    case 'rm':
      return rm(dir, rest);
    case 'gen':
      return gen(rest);
    default:
      throw usage(USAGE);
  }
}

async function list(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, 'postern config tlspubkey list [ACCOUNT]');
  const [accountName] = positionals(p, 0, 1, 'postern config tlspubkey list [ACCOUNT]');
  await withStore(dir, async (store) => {
    let keys: TlsPubKey[];
    if (accountName !== undefined) {
      const account = await store.getAccount(accountName);
      if (!account) throw new CliError(`account ${accountName} not found`, EX_DATAERR);
      keys = await store.listTlsPubKeys(account.id);
    } else {
      keys = await store.listTlsPubKeys();
    }
    console.log('# fingerprint\ttype\tname\taccount\tlogin address\tno imap preauth\tcreated\tlast used');
    for (const k of keys) {
      console.log([k.fingerprint, k.type, k.name, k.accountName, k.loginAddress, String(k.noImapPreauth), iso(k.created), iso(k.lastUsed)].join('\t'));
    }
  });
}

/** A fingerprint is base64url and may start with '-': these commands take no options, so their one
 * argument is the fingerprint whatever it looks like (`--` before it is accepted too). */
function fingerprintArg(args: string[], usageText: string): string[] {
  const rest = args[0] === '--' ? args.slice(1) : args;
  return positionals(rest, 1, 1, usageText);
}

async function get(dir: string, args: string[]): Promise<void> {
  const [fp] = fingerprintArg(args, 'postern config tlspubkey get FINGERPRINT');
  await withStore(dir, async (store) => {
    const k = await store.getTlsPubKey(fp!);
    if (!k) throw new CliError(`TLS public key ${fp} not found`, EX_DATAERR);
    console.log(`type: ${k.type}
name: ${k.name}
account: ${k.accountName}
login address: ${k.loginAddress}
no imap preauth: ${k.noImapPreauth}
created: ${iso(k.created)}
last used: ${iso(k.lastUsed)}
last used from: ${k.lastUsedIp ?? '-'}`);
    process.stdout.write(certificatePem(k.certDer));
  });
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_CERTIFICATE_INPUT) throw new CliError('input too large for a certificate', EX_DATAERR);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function add(dir: string, args: string[]): Promise<void> {
  const u = 'postern config tlspubkey add ADDRESS [NAME] [--no-imap-preauth] < CERT';
  const { values, positionals: p } = parse(args, { 'no-imap-preauth': { type: 'boolean' } }, u);
  const [address, name] = positionals(p, 1, 2, u);
  await withStore(dir, async (store) => {
    const addr = await store.lookupAddress(address!);
    if (!addr) throw new CliError(`address ${address} not found`, EX_DATAERR);
    const input = await readStdin();
    if (input.length === 0) throw new CliError('no certificate on standard input', EX_NOINPUT);
    let cert;
    try {
      cert = parseCertificate(input);
    } catch (err) {
      if (err instanceof CertificateError) throw new CliError(err.message, EX_DATAERR);
      throw err;
    }
    const key = await store.addTlsPubKey(addr.accountId, {
      fingerprint: cert.fingerprint,
      type: cert.keyType,
      name: name ?? cert.defaultName,
      loginAddress: addr.address,
      noImapPreauth: values['no-imap-preauth'] === true,
      certDer: cert.der,
    });
    console.log(key.fingerprint);
  });
}

async function rm(dir: string, args: string[]): Promise<void> {
  const [fp] = fingerprintArg(args, 'postern config tlspubkey rm FINGERPRINT');
  // The running server notices the removal and ends sessions of this key (spec 2.5).
  await withStore(dir, (store) => store.removeTlsPubKey(fp!));
}

/** Local only: no data directory needed. */
async function gen(args: string[]): Promise<void> {
  const u = 'postern config tlspubkey gen STEM [--password PW]';
  const { values, positionals: p } = parse(args, { password: { type: 'string' } }, u);
  const [stem] = positionals(p, 1, 1, u);
  const name = stem!.split('/').pop()!;
  const k = generateClientCertificate(name, 'ed25519');
  const write = (file: string, data: string | Buffer, mode: number) => {
    try {
      writeFileSync(file, data, { mode, flag: 'wx' });
    } catch (err) {
      throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code === 'EEXIST' ? 'already exists' : (err as Error).message}`, 73);
    }
  };
  write(`${stem}.key.pem`, k.keyPem, 0o600);
  write(`${stem}.cert.pem`, k.certPem, 0o644);
  write(`${stem}.keycert.pem`, k.keyPem + k.certPem, 0o600);
  write(`${stem}.p12`, pkcs12(k.keyPkcs8Der, k.certDer, (values.password as string | undefined) ?? '', name), 0o600);
  console.log(k.fingerprint);
}

