// `postern dkim list | gen DOMAIN | rotate DOMAIN | rm DOMAIN SELECTOR`: the DKIM keys of our
// domains (kept in DIR/dkim/, see smtp/server/dkim-keyring.ts). The running server picks changes up
// by itself; each command prints the DNS records to publish.

import { normalizeDomain } from '../store/address.js';
import { txtStrings } from '../dns/records.js';
import { toAsciiDomain } from '../util/ascii-domain.js';
import {
  addDomainKeys, DkimKeyringError, entryDnsRecord, readManifest, removeDomainKey, signingEntries, type DkimKeyEntry,
} from '../smtp/server/dkim-keyring.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { loadConfigOrFail, withStore } from './open-store.js';

const USAGE = 'postern dkim list | gen DOMAIN | rotate DOMAIN | rm DOMAIN SELECTOR';

/** A zone-file line for a key: `SEL._domainkey.DOMAIN. TXT "..."`, split into 255-byte strings. */
export function dkimZoneLine(domain: string, selector: string, record: string): string {
  return `${selector}._domainkey.${toAsciiDomain(domain)}. TXT ${txtStrings(record)}`;
}

function domainArg(text: string): string {
  try {
    return normalizeDomain(text);
  } catch {
    throw new CliError(`not a valid domain: ${JSON.stringify(text)}`, EX_DATAERR);
  }
}

function keyringCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DkimKeyringError) throw new CliError(err.message, EX_DATAERR);
    throw err;
  }
}

function printNew(dir: string, domain: string, added: DkimKeyEntry[]): void {
  console.log(`new DKIM keys for ${domain}; publish these records (mail is signed with them from now on):`);
  for (const e of added) console.log(`  ${dkimZoneLine(domain, e.selector, entryDnsRecord(dir, e))}`);
}

export async function dkimCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positionals: p } = parse(rest, {}, USAGE);
  switch (sub) {
    case 'list': {
      positionals(p, 0, 0, 'postern dkim list');
      // Keys listed in postern.conf sign instead of the managed ones for their domain.
      const config = loadConfigOrFail(dir);
      for (const [domain, keys] of Object.entries(config.dkim).sort(([a], [b]) => a.localeCompare(b))) {
        for (const k of keys) console.log(`${domain}\t${k.selector}\t-\t-\tsigning (postern.conf)`);
      }
      const m = keyringCall(() => readManifest(dir));
      for (const [domain, list] of Object.entries(m.domains).sort(([a], [b]) => a.localeCompare(b))) {
        const signing = config.dkim[domain] ? [] : signingEntries(list);
        for (const e of [...list].sort((a, b) => a.created.localeCompare(b.created))) {
          const state = signing.includes(e) ? 'signing' : 'retired';
          console.log(`${domain}\t${e.selector}\t${e.algorithm}\t${e.created}\t${state}`);
        }
      }
      return;
    }
    case 'gen':
    case 'rotate': {
      const [text] = positionals(p, 1, 1, `postern dkim ${sub} DOMAIN`);
      const domain = domainArg(text!);
      await withStore(dir, async (store, config) => {
        if (!(await store.isLocalDomain(domain))) throw new CliError(`${domain} is not one of our domains (add an address there first)`, EX_DATAERR);
        if (config.dkim[domain]) throw new CliError(`the DKIM keys of ${domain} are listed in postern.conf (dkim:); remove them there to have postern manage the keys`, EX_DATAERR);
      });
      const has = (keyringCall(() => readManifest(dir)).domains[domain] ?? []).length > 0;
      if (sub === 'gen' && has) throw new CliError(`${domain} has DKIM keys already; "postern dkim rotate ${domain}" adds new ones`, EX_DATAERR);
      const added = keyringCall(() => addDomainKeys(dir, domain));
      printNew(dir, domain, added);
      if (sub === 'rotate') console.log(`keep the old records published until mail signed with them is delivered (a few days), then: postern dkim rm ${domain} SELECTOR`);
      return;
    }
    case 'rm': {
      const [text, selector] = positionals(p, 2, 2, 'postern dkim rm DOMAIN SELECTOR');
      const domain = domainArg(text!);
      keyringCall(() => removeDomainKey(dir, domain, selector!));
      console.log(`removed ${selector} of ${domain}; its DNS record can go: ${selector}._domainkey.${toAsciiDomain(domain)}`);
      return;
    }
    default:
      throw usage(USAGE);
  }
}
