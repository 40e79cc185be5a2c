// `postern account add|rm|list|addaddress|rmaddress|quota|capabilities` and `postern setaccountpassword`.

import { deriveCredentials, PasswordError } from '../auth/password.js';
import { formatSize, parseSize } from '../config/size.js';
import { ensureDomainKeys, entryDnsRecord } from '../smtp/server/dkim-keyring.js';
import { parseAddress } from '../store/address.js';
import { parse, positionals } from './args.js';
import { dkimZoneLine } from './dkim.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { loadConfigOrFail, withStore } from './open-store.js';
import { readNewPassword } from './read-password.js';

const USAGE = 'postern account add ACCOUNT ADDRESS | rm ACCOUNT | list | addaddress ACCOUNT ADDRESS | rmaddress ADDRESS | quota ACCOUNT [SIZE|none|default] | capabilities ACCOUNT [hide CAP...|show CAP...|reset]';
const CAPS_USAGE = 'postern account capabilities ACCOUNT [hide CAP...|show CAP...|reset]';
/** An IMAP capability name (RFC 9051 9: an atom; no spaces, brackets, quotes, wildcards). */
const CAPABILITY_NAME = /^[A-Za-z0-9][A-Za-z0-9=+\-._]*$/;
const QUOTA_USAGE = 'postern account quota ACCOUNT [SIZE|none|default]   (SIZE: bytes, or with K, M or G)';

export async function accountCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positionals: p } = parse(rest, {}, USAGE);
  switch (sub) {
    case 'add': {
      const [name, address] = positionals(p, 2, 2, 'postern account add ACCOUNT ADDRESS');
      await withStore(dir, async (store) => {
        await store.createAccount(name!, address!);
      });
      console.log(`account ${name} added; set its password with: postern setaccountpassword ${name}`);
      newDomainKeys(dir, address!);
      return;
    }
    case 'rm': {
      const [name] = positionals(p, 1, 1, 'postern account rm ACCOUNT');
      await withStore(dir, (store) => store.deleteAccount(name!));
      return;
    }
    case 'list': {
      positionals(p, 0, 0, 'postern account list');
      await withStore(dir, async (store) => {
        for (const a of await store.listAccounts()) {
          const addrs = (await store.listAddresses(a.id)).map((x) => x.address);
          const disabled = a.loginDisabled !== null ? `\tlogin disabled: ${a.loginDisabled}` : '';
          console.log(`${a.name}\t${addrs.join(',')}${disabled}`);
        }
      });
      return;
    }
    case 'addaddress': {
      const [name, address] = positionals(p, 2, 2, 'postern account addaddress ACCOUNT ADDRESS');
      await withStore(dir, (store) => store.addAddress(name!, address!));
      newDomainKeys(dir, address!);
      return;
    }
    case 'rmaddress': {
      const [address] = positionals(p, 1, 1, 'postern account rmaddress ADDRESS');
      await withStore(dir, (store) => store.removeAddress(address!));
      return;
    }
    case 'quota': {
      const [name, size] = positionals(p, 1, 2, QUOTA_USAGE);
      await withStore(dir, async (store) => {
        const account = await store.getAccount(name!);
        if (!account) throw new CliError(`account ${name} not found`, EX_DATAERR);
        if (size !== undefined) {
          const setting = size.toLowerCase() === 'default' ? 'default' : parseSize(size);
          if (setting === undefined) throw new CliError(`not a size: ${JSON.stringify(size)} (bytes, or with K, M or G, or none, or default)`, EX_DATAERR);
          await store.setQuota(account.name, setting);
        }
        const q = await store.getQuota(account.id);
        const source = q.setting === 'default' ? ' (server default)' : '';
        console.log(`${account.name}\tused ${q.used} bytes\tlimit ${formatSize(q.limit)}${source}`);
      });
      return;
    }
    case 'capabilities': {
      const [name, action, ...caps] = positionals(p, 1, Infinity, CAPS_USAGE);
      for (const c of caps) {
        if (!CAPABILITY_NAME.test(c)) throw new CliError(`not a capability name: ${JSON.stringify(c)}`, EX_DATAERR);
      }
      await withStore(dir, async (store) => {
        const account = await store.getAccount(name!);
        if (!account) throw new CliError(`account ${name} not found`, EX_DATAERR);
        const hidden = new Set(await store.getHiddenCapabilities(account.id));
        if (action !== undefined) {
          if (action === 'reset' && caps.length === 0) hidden.clear();
          else if (action === 'hide' && caps.length > 0) for (const c of caps) hidden.add(c.toUpperCase());
          else if (action === 'show' && caps.length > 0) for (const c of caps) hidden.delete(c.toUpperCase());
          else throw usage(CAPS_USAGE);
          await store.setHiddenCapabilities(account.name, [...hidden]);
        }
        const now = await store.getHiddenCapabilities(account.id);
        console.log(`${account.name}\thidden IMAP capabilities: ${now.length > 0 ? now.join(' ') : '(none)'}`);
      });
      return;
    }
    default:
      throw usage(USAGE);
  }
}

/** A domain that is new to us gets its DKIM keys at once (its mail is signed from the first message). */
function newDomainKeys(dir: string, address: string): void {
  const domain = parseAddress(address).domain;
  // A domain whose keys the config lists (hand-managed, or an older quickstart) has its keys.
  if (loadConfigOrFail(dir).dkim[domain]) return;
  const added = ensureDomainKeys(dir, domain);
  if (added.length === 0) return;
  console.log(`new domain ${domain}: DKIM keys generated; publish its records (postern dns records ${domain}):`);
  for (const e of added) console.log(`  ${dkimZoneLine(domain, e.selector, entryDnsRecord(dir, e))}`);
}

export async function setAccountPasswordCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, 'postern setaccountpassword ACCOUNT');
  const [name] = positionals(p, 1, 1, 'postern setaccountpassword ACCOUNT');
  await withStore(dir, async (store) => {
    const account = await store.getAccount(name!);
    if (!account) throw new CliError(`account ${name} not found`, EX_DATAERR);
    const password = await readNewPassword();
    await setPassword(store, account.id, password);
  });
}

export async function setPassword(store: { setCredentials(id: number, c: object): Promise<void> }, accountId: number, password: string): Promise<void> {
  try {
    await store.setCredentials(accountId, await deriveCredentials(password));
  } catch (err) {
    if (err instanceof PasswordError) throw new CliError(err.message, EX_DATAERR);
    throw err;
  }
}
