// Versioned schema migrations. The database's user_version is the number of migrations applied;
// a migration is never edited once released, only new ones appended.

import type Database from 'better-sqlite3';

const migrations: string[] = [
  // 1: the first release.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE TABLE domains (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL
  );
  CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    login_disabled TEXT,
    credentials TEXT,
    auth_generation INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL
  );
  CREATE TABLE addresses (
    address TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    domain_id INTEGER NOT NULL REFERENCES domains(id)
  );
  CREATE INDEX addresses_account ON addresses(account_id);
  CREATE TABLE tls_pubkeys (
    fingerprint TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    login_address TEXT NOT NULL,
    no_imap_preauth INTEGER NOT NULL DEFAULT 0,
    cert_der BLOB NOT NULL,
    created INTEGER NOT NULL,
    last_used INTEGER,
    last_used_ip TEXT
  );
  CREATE INDEX tls_pubkeys_account ON tls_pubkeys(account_id);
  CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    mechanism TEXT NOT NULL,
    key_fingerprint TEXT,
    protocol TEXT NOT NULL,
    ip TEXT NOT NULL,
    result TEXT NOT NULL
  );
  CREATE INDEX login_attempts_account_time ON login_attempts(account_id, time);
  CREATE INDEX login_attempts_time ON login_attempts(time);
  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    special_use TEXT,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL DEFAULT 1,
    highestmodseq INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    UNIQUE (account_id, name)
  );
  CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '',
    internal_date INTEGER NOT NULL,
    save_date INTEGER NOT NULL,
    size INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    cache TEXT,
    UNIQUE (mailbox_id, uid)
  );
  CREATE INDEX messages_file ON messages(file_id);
  CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  );
  CREATE TABLE blob_blocks (start INTEGER PRIMARY KEY, end INTEGER NOT NULL, pid INTEGER NOT NULL);
  CREATE TABLE blob_removals (file_id INTEGER PRIMARY KEY);
  CREATE TABLE queue_messages (
    id INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    sender TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    size INTEGER NOT NULL,
    created INTEGER NOT NULL,
    is_dsn INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX queue_messages_file ON queue_messages(file_id);
  CREATE TABLE queue_recipients (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error TEXT
  );
  CREATE INDEX queue_recipients_due ON queue_recipients(state, next_attempt);
  `,
  // 2: small message contents in the database (ids from the same space as message files).
  `
  CREATE TABLE blob_inline (file_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
  `,
  // 3: storage quota. quota_used is kept by every transaction that adds or removes messages (the
  // sum of their sizes over the account's mailboxes, never recomputed on a check); quota_limit is
  // NULL for the server default, -1 for no limit, else bytes.
  `
  ALTER TABLE accounts ADD COLUMN quota_used INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE accounts ADD COLUMN quota_limit INTEGER;
  UPDATE accounts SET quota_used = (
    SELECT coalesce(sum(m.size), 0) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = accounts.id
  );
  `,
  // 4: SORT/THREAD keys apart from the rest of the MIME cache (the cache's "sort" member), so a SORT
  // over a whole mailbox reads small rows: a column after the cache would be read through the cache's
  // overflow pages. Older caches have none: they are rebuilt on first use.
  `
  CREATE TABLE message_sort_keys (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    keys TEXT NOT NULL
  );
  `,
  // 5: outbound TLS policies. mta_sts_policies caches fetched MTA-STS policies (RFC 8461 5.1:
  // kept for max_age, used when a later fetch fails). tls_results counts delivery TLS results
  // per policy domain and UTC day for TLS-RPT (RFC 8460 4), one row per policy, MX host, IP
  // and result; tls_reports keeps the aggregate reports other domains send to our rua;
  // queue_messages.require_tls marks RFC 8689 REQUIRETLS messages.
  `
  CREATE TABLE mta_sts_policies (
    domain TEXT PRIMARY KEY,
    policy_id TEXT NOT NULL,
    policy_text TEXT NOT NULL,
    fetched INTEGER NOT NULL,
    expires INTEGER NOT NULL
  );
  CREATE TABLE tls_results (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    policy_type TEXT NOT NULL,
    policy_string TEXT NOT NULL,
    mx_host TEXT NOT NULL,
    receiving_ip TEXT NOT NULL,
    result_type TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, policy_domain, policy_type, policy_string, mx_host, receiving_ip, result_type)
  );
  CREATE TABLE tls_reports (
    id INTEGER PRIMARY KEY,
    policy_domain TEXT NOT NULL,
    day TEXT NOT NULL,
    organization TEXT NOT NULL,
    report_id TEXT NOT NULL,
    received INTEGER NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (organization, report_id)
  );
  CREATE INDEX tls_reports_domain_day ON tls_reports(policy_domain, day);
  ALTER TABLE queue_messages ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0;
  `,
  // 6: \Recent (RFC 3501 2.3.2), as Dovecot keeps it: messages from this UID on are recent until a
  // session selecting the mailbox claims them. Mail that was there before the upgrade is not new.
  `
  ALTER TABLE mailboxes ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
  UPDATE mailboxes SET first_recent_uid = uidnext;
  `,
  // 7: DMARC exceptions per account (From domains whose failures are not enforced for it), DMARC
  // evaluations of incoming mail per day for aggregate reports (counted per distinct row), and the
  // per-account junk filter: settings and message counts, token counts (32-bit token hashes), and
  // the messages already trained (by a digest of their header section, so a message moved back out
  // of Junk is untrained rather than counted twice), and sender reputation (keys "a:address",
  // "d:domain", "n:network": mail written to them, kept from them, junked from them).
  `
  CREATE TABLE IF NOT EXISTS dmarc_exceptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (account_id, domain)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS dmarc_events (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    header_from TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    disposition TEXT NOT NULL,
    dkim TEXT NOT NULL,
    spf TEXT NOT NULL,
    auth TEXT NOT NULL,
    policy TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, policy_domain, source_ip, header_from, envelope_from, disposition, dkim, spf, auth)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS dmarc_reports_sent (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    queue_id INTEGER,
    PRIMARY KEY (day, policy_domain)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS dmarc_received (
    id INTEGER PRIMARY KEY,
    org_name TEXT NOT NULL,
    report_id TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    begin INTEGER NOT NULL,
    end INTEGER NOT NULL,
    report TEXT NOT NULL,
    received INTEGER NOT NULL,
    UNIQUE (org_name, report_id)
  );
  CREATE INDEX IF NOT EXISTS dmarc_received_domain ON dmarc_received(policy_domain, begin);
  CREATE TABLE IF NOT EXISTS junk_accounts (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    threshold REAL,
    spam_messages INTEGER NOT NULL DEFAULT 0,
    ham_messages INTEGER NOT NULL DEFAULT 0,
    seeded INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS junk_tokens (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token INTEGER NOT NULL,
    spam INTEGER NOT NULL DEFAULT 0,
    ham INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, token)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS junk_reputation (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    wrote INTEGER NOT NULL DEFAULT 0,
    ham INTEGER NOT NULL DEFAULT 0,
    spam INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS junk_trained (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    spam INTEGER NOT NULL,
    PRIMARY KEY (account_id, digest)
  ) WITHOUT ROWID;
  `,
  // 8: capabilities hidden from an account's IMAP sessions after login (clients that announce an
  // extension and then misbehave with it), upper case, separated by spaces; '' hides none.
  `
  ALTER TABLE accounts ADD COLUMN hidden_capabilities TEXT NOT NULL DEFAULT '';
  `,
  // 9: several processes on one store. Web login sessions (keyed by the SHA-256 of the cookie
  // token, never the token; last_used is written at most once a minute per session). Leases on
  // queue recipients (the runner delivering one holds it until lease_until, renewed while it
  // works; one whose lease expired is free for any runner). A version per junk model, raised by
  // every training and pruning, so a process holding a model in memory sees another one train.
  `
  CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created INTEGER NOT NULL,
    last_used INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS web_sessions_account ON web_sessions(account_id, last_used);
  CREATE INDEX IF NOT EXISTS web_sessions_last_used ON web_sessions(last_used);
  ALTER TABLE queue_recipients ADD COLUMN lease_owner TEXT;
  ALTER TABLE queue_recipients ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX IF NOT EXISTS queue_recipients_leased ON queue_recipients(lease_until) WHERE lease_owner IS NOT NULL;
  ALTER TABLE junk_accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
  `,
  // 10: METADATA annotations (RFC 5464): server entries have no mailbox; a mailbox's entries go
  // with its row (deleted with it, kept by a rename, which keeps the id). Names are lower case.
  `
  CREATE TABLE IF NOT EXISTS metadata (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    mailbox_id INTEGER REFERENCES mailboxes(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value BLOB NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS metadata_entry ON metadata(account_id, coalesce(mailbox_id, 0), name);
  CREATE INDEX IF NOT EXISTS metadata_mailbox ON metadata(mailbox_id) WHERE mailbox_id IS NOT NULL;
  `,
  // 11: URLAUTH mailbox access keys (RFC 4467 2.2): one random secret per mailbox and mechanism,
  // made by the first GENURLAUTH, replaced by RESETKEY. A key goes with its mailbox row (deleted
  // with it, kept by a rename, which keeps the id).
  `
  CREATE TABLE IF NOT EXISTS urlauth_keys (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    mechanism TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key BLOB NOT NULL,
    PRIMARY KEY (mailbox_id, mechanism)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS urlauth_keys_account ON urlauth_keys(account_id);
  `,
];

export const SCHEMA_VERSION = migrations.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema version ${current} is newer than this Postern (${migrations.length})`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
