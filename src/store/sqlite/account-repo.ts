// Domains, accounts, addresses, credentials and login attempts in SQLite.

import type Database from 'better-sqlite3';
import { parseAddress } from '../address.js';
import { StoreError, notFound } from '../errors.js';
import type { Account, Address, Domain, LoginAttempt, StoredCredentials } from '../types.js';

interface AccountRow {
  id: number;
  name: string;
  login_disabled: string | null;
  created: number;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  name: r.name,
  loginDisabled: r.login_disabled,
  created: new Date(r.created),
});

interface AddressRow {
  address: string;
  account_id: number;
  name: string;
}

const toAddress = (r: AddressRow): Address => ({ address: r.address, accountId: r.account_id, accountName: r.name });

/** The lookup key of an address; null for one no account can have. */
function canonicalAddress(address: string): string | null {
  try {
    return parseAddress(address).address;
  } catch {
    return null;
  }
}

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export class AccountRepo {
  constructor(private readonly db: Database.Database) {}

  listDomains(): Domain[] {
    return this.db.prepare('SELECT id, name FROM domains ORDER BY name').all() as Domain[];
  }

  private ensureDomain(name: string): number {
    const row = this.db.prepare('SELECT id FROM domains WHERE name = ?').get(name) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.db.prepare('INSERT INTO domains (name, created) VALUES (?, ?)').run(name, Date.now()).lastInsertRowid);
  }

  isLocalDomain(domain: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM domains WHERE name = ?').get(domain.toLowerCase());
  }

  /** Inside the caller's transaction. */
  insertAccount(name: string, address: string): Account {
    if (!ACCOUNT_NAME.test(name)) {
      throw new StoreError('invalid', `invalid account name ${JSON.stringify(name)}: letters, digits, and . _ + - (at most 64)`);
    }
    if (this.getAccount(name)) throw new StoreError('exists', `account ${name} already exists`);
    const now = Date.now();
    const id = Number(this.db.prepare('INSERT INTO accounts (name, created) VALUES (?, ?)').run(name, now).lastInsertRowid);
    this.insertAddress(id, address);
    return { id, name, loginDisabled: null, created: new Date(now) };
  }

  private insertAddress(accountId: number, address: string): string {
    const parsed = parseAddress(address);
    if (this.lookupAddress(parsed.address)) throw new StoreError('exists', `address ${parsed.address} already exists`);
    const domainId = this.ensureDomain(parsed.domain);
    this.db.prepare('INSERT INTO addresses (address, account_id, domain_id) VALUES (?, ?, ?)').run(parsed.address, accountId, domainId);
    return parsed.address;
  }

  getAccount(name: string): Account | null {
    const r = this.db.prepare('SELECT id, name, login_disabled, created FROM accounts WHERE name = ?').get(name) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  getAccountById(id: number): Account | null {
    const r = this.db.prepare('SELECT id, name, login_disabled, created FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  listAccounts(): Account[] {
    return (this.db.prepare('SELECT id, name, login_disabled, created FROM accounts ORDER BY name').all() as AccountRow[]).map(toAccount);
  }

  requireAccount(name: string): Account {
    const a = this.getAccount(name);
    if (!a) throw notFound(`account ${name}`);
    return a;
  }

  setLoginDisabled(name: string, reason: string | null): void {
    const a = this.requireAccount(name);
    this.db.prepare('UPDATE accounts SET login_disabled = ?, auth_generation = auth_generation + 1 WHERE id = ?').run(reason, a.id);
  }

  addAddress(accountName: string, address: string): Address {
    const a = this.requireAccount(accountName);
    const canonical = this.insertAddress(a.id, address);
    return { address: canonical, accountId: a.id, accountName: a.name };
  }

  removeAddress(address: string): void {
    const parsed = parseAddress(address);
    const found = this.lookupAddress(parsed.address);
    if (!found) throw notFound(`address ${parsed.address}`);
    const count = (this.db.prepare('SELECT count(*) AS n FROM addresses WHERE account_id = ?').get(found.accountId) as { n: number }).n;
    if (count <= 1) throw new StoreError('invalid', `address ${parsed.address} is the last address of account ${found.accountName}`);
    const keyUses = this.db.prepare('SELECT count(*) AS n FROM tls_pubkeys WHERE login_address = ?').get(parsed.address) as { n: number };
    if (keyUses.n > 0) throw new StoreError('invalid', `address ${parsed.address} is the login address of ${keyUses.n} TLS public key(s)`);
    this.db.prepare('DELETE FROM addresses WHERE address = ?').run(parsed.address);
  }

  lookupAddress(address: string): Address | null {
    const canonical = canonicalAddress(address);
    if (canonical === null) return null;
    const r = this.db
      .prepare('SELECT a.address, a.account_id, c.name FROM addresses a JOIN accounts c ON c.id = a.account_id WHERE a.address = ?')
      .get(canonical) as AddressRow | undefined;
    return r ? toAddress(r) : null;
  }

  /** RCPT's question in one statement: is `domain` ours, and which account has `address`. */
  lookupRecipient(address: string, domain: string): { localDomain: boolean; address: Address | null } {
    const r = this.db
      .prepare('SELECT a.address, a.account_id, c.name FROM domains d LEFT JOIN addresses a ON a.address = ? LEFT JOIN accounts c ON c.id = a.account_id WHERE d.name = ?')
      .get(canonicalAddress(address), domain.toLowerCase()) as Partial<AddressRow> | undefined;
    if (!r) return { localDomain: false, address: null };
    return { localDomain: true, address: r.address ? toAddress(r as AddressRow) : null };
  }

  listAddresses(accountId: number): Address[] {
    const rows = this.db
      .prepare('SELECT a.address, a.account_id, c.name FROM addresses a JOIN accounts c ON c.id = a.account_id WHERE a.account_id = ? ORDER BY a.address')
      .all(accountId) as AddressRow[];
    return rows.map(toAddress);
  }

  setCredentials(accountId: number, creds: StoredCredentials): void {
    const r = this.db.prepare('UPDATE accounts SET credentials = ?, auth_generation = auth_generation + 1 WHERE id = ?').run(JSON.stringify(creds), accountId);
    if (r.changes === 0) throw notFound('account');
  }

  getCredentials(accountId: number): StoredCredentials | null {
    const r = this.db.prepare('SELECT credentials FROM accounts WHERE id = ?').get(accountId) as { credentials: string | null } | undefined;
    return r?.credentials ? (JSON.parse(r.credentials) as StoredCredentials) : null;
  }

  authGeneration(accountId: number): number {
    const r = this.db.prepare('SELECT auth_generation FROM accounts WHERE id = ?').get(accountId) as { auth_generation: number } | undefined;
    // A deleted account has no generation: -1 never equals a live one, so its sessions end.
    return r ? r.auth_generation : -1;
  }

  bumpAuthGeneration(accountId: number): void {
    this.db.prepare('UPDATE accounts SET auth_generation = auth_generation + 1 WHERE id = ?').run(accountId);
  }

  recordLoginAttempt(a: LoginAttempt): void {
    this.db
      .prepare('INSERT INTO login_attempts (time, account_id, address, mechanism, key_fingerprint, protocol, ip, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.time.getTime(), a.accountId, a.address, a.mechanism, a.keyFingerprint, a.protocol, a.ip, a.result);
  }

  /** Login attempts are kept for 30 days. */
  expireLoginAttempts(now: number): void {
    this.db.prepare('DELETE FROM login_attempts WHERE time < ?').run(now - 30 * 24 * 3600 * 1000);
  }

  listLoginAttempts(accountId: number, limit: number): LoginAttempt[] {
    const rows = this.db
      .prepare('SELECT * FROM login_attempts WHERE account_id = ? ORDER BY time DESC, id DESC LIMIT ?')
      .all(accountId, limit) as {
      time: number; account_id: number | null; address: string; mechanism: string; key_fingerprint: string | null;
      protocol: string; ip: string; result: string;
    }[];
    return rows.map((r) => ({
      time: new Date(r.time), accountId: r.account_id, address: r.address, mechanism: r.mechanism,
      keyFingerprint: r.key_fingerprint, protocol: r.protocol, ip: r.ip, result: r.result,
    }));
  }
}
