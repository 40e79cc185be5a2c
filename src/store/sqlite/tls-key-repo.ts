// TLS public keys (spec 2.1) in SQLite. Every change bumps the account's auth generation so that
// live sessions authenticated by a removed or changed key end (spec 2.5).

import type Database from 'better-sqlite3';
import { parseAddress } from '../address.js';
import { StoreError, notFound } from '../errors.js';
import type { NewTlsPubKey, TlsPubKey } from '../types.js';

interface Row {
  fingerprint: string; type: string; name: string; account_id: number; account_name: string;
  login_address: string; no_imap_preauth: number; cert_der: Buffer; created: number;
  last_used: number | null; last_used_ip: string | null;
}

const SELECT = `SELECT k.*, a.name AS account_name FROM tls_pubkeys k JOIN accounts a ON a.id = k.account_id`;

const toKey = (r: Row): TlsPubKey => ({
  fingerprint: r.fingerprint, type: r.type, name: r.name, accountId: r.account_id, accountName: r.account_name,
  loginAddress: r.login_address, noImapPreauth: r.no_imap_preauth !== 0, certDer: r.cert_der,
  created: new Date(r.created), lastUsed: r.last_used === null ? null : new Date(r.last_used), lastUsedIp: r.last_used_ip,
});

export class TlsKeyRepo {
  constructor(private readonly db: Database.Database) {}

  private checkLoginAddress(accountId: number, address: string): string {
    const canonical = parseAddress(address).address;
    const owner = this.db.prepare('SELECT account_id FROM addresses WHERE address = ?').get(canonical) as { account_id: number } | undefined;
    // Unlike mox, the login address is checked on every path: it must belong to the key's account.
    if (!owner || owner.account_id !== accountId) {
      throw new StoreError('invalid', `login address ${canonical} does not belong to the account`);
    }
    return canonical;
  }

  add(accountId: number, key: NewTlsPubKey): TlsPubKey {
    const loginAddress = this.checkLoginAddress(accountId, key.loginAddress);
    if (this.get(key.fingerprint)) throw new StoreError('exists', `TLS public key ${key.fingerprint} is already registered`);
    this.db
      .prepare('INSERT INTO tls_pubkeys (fingerprint, account_id, type, name, login_address, no_imap_preauth, cert_der, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(key.fingerprint, accountId, key.type, key.name, loginAddress, key.noImapPreauth ? 1 : 0, key.certDer, Date.now());
    return this.get(key.fingerprint)!;
  }

  get(fingerprint: string): TlsPubKey | null {
    const r = this.db.prepare(`${SELECT} WHERE k.fingerprint = ?`).get(fingerprint) as Row | undefined;
    return r ? toKey(r) : null;
  }

  list(accountId?: number): TlsPubKey[] {
    const rows = (accountId === undefined
      ? this.db.prepare(`${SELECT} ORDER BY a.name, k.created`).all()
      : this.db.prepare(`${SELECT} WHERE k.account_id = ? ORDER BY k.created`).all(accountId)) as Row[];
    return rows.map(toKey);
  }

  update(fingerprint: string, change: { name?: string; loginAddress?: string; noImapPreauth?: boolean }): TlsPubKey {
    const key = this.get(fingerprint);
    if (!key) throw notFound(`TLS public key ${fingerprint}`);
    const loginAddress = change.loginAddress !== undefined ? this.checkLoginAddress(key.accountId, change.loginAddress) : key.loginAddress;
    const name = change.name !== undefined ? change.name : key.name;
    if (name.length === 0 || name.length > 256) throw new StoreError('invalid', 'key name must be 1 to 256 characters');
    const noPreauth = change.noImapPreauth ?? key.noImapPreauth;
    this.db.prepare('UPDATE tls_pubkeys SET name = ?, login_address = ?, no_imap_preauth = ? WHERE fingerprint = ?')
      .run(name, loginAddress, noPreauth ? 1 : 0, fingerprint);
    return this.get(fingerprint)!;
  }

  remove(fingerprint: string): number {
    const key = this.get(fingerprint);
    if (!key) throw notFound(`TLS public key ${fingerprint}`);
    this.db.prepare('DELETE FROM tls_pubkeys WHERE fingerprint = ?').run(fingerprint);
    return key.accountId;
  }

  touch(fingerprint: string, ip: string, time: Date): void {
    this.db.prepare('UPDATE tls_pubkeys SET last_used = ?, last_used_ip = ? WHERE fingerprint = ?').run(time.getTime(), ip, fingerprint);
  }
}
