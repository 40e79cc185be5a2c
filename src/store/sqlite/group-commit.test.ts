import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';

function openDb(): { db: Database.Database; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'postern-group-'));
  const db = new Database(join(dir, 'g.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  return { db, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('requests of one turn share one transaction; each gets its own result', async () => {
  const { db, done } = openDb();
  try {
    const g = new GroupCommit(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?) RETURNING v');
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => g.run(() => (ins.get(`k${i}`, i) as { v: number }).v)));
    assert.deepEqual(rs, Array.from({ length: 20 }, (_, i) => i));
    assert.equal(g.stats.groups, 1);
    assert.equal(g.stats.requests, 20);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 20);
  } finally {
    done();
  }
});

test('a failing request rolls back only its own changes', async () => {
  const { db, done } = openDb();
  try {
    const g = new GroupCommit(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const a = g.run(() => ins.run('a', 1));
    const bad = g.run(() => {
      ins.run('b', 2);
      ins.run('a', 3); // primary key violation after a change: the savepoint undoes 'b' too
    });
    const c = g.run(() => ins.run('c', 4));
    await a;
    await assert.rejects(bad, /UNIQUE/);
    await c;
    assert.deepEqual(db.prepare('SELECT k, v FROM t ORDER BY k').all(), [{ k: 'a', v: 1 }, { k: 'c', v: 4 }]);
    assert.equal(g.stats.groups, 1);
  } finally {
    done();
  }
});

test('a request thrown out of the transaction fails the whole group, nothing committed', async () => {
  const { db, done } = openDb();
  try {
    const g = new GroupCommit(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const a = g.run(() => ins.run('a', 1));
    // Simulates SQLite rolling back the whole transaction (as on SQLITE_FULL): the request ends it.
    const b = g.run(() => {
      db.prepare('ROLLBACK').run();
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    await assert.rejects(a, { name: 'StoreError', code: 'nospace' } as object);
    await assert.rejects(b, { name: 'StoreError', code: 'nospace' } as object);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    // The next group works.
    await g.run(() => ins.run('z', 9));
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
  } finally {
    done();
  }
});

test('requests made while a group is committing go to the next group; flushAll commits at once', async () => {
  const { db, done } = openDb();
  try {
    const g = new GroupCommit(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const first = g.run(() => {
      // Made during the first group's transaction: must not join it.
      void g.run(() => ins.run('late', 2));
      return ins.run('early', 1);
    });
    await first;
    assert.equal(g.stats.groups, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(g.stats.groups, 2);
    const pending = g.run(() => ins.run('closing', 3));
    g.flushAll();
    assert.equal((db.prepare("SELECT count(*) AS n FROM t WHERE k = 'closing'").get() as { n: number }).n, 1);
    await pending;
  } finally {
    done();
  }
});

test('while a group is being made durable, new requests wait and then commit together', async () => {
  const { db, done } = openDb();
  try {
    let release!: () => void;
    let syncs = 0;
    const g = new GroupCommit(db, () => {
      syncs++;
      return new Promise<void>((r) => (release = r));
    });
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const first = g.run(() => ins.run('first', 0));
    await new Promise((r) => setImmediate(r));
    assert.equal(g.stats.groups, 1);
    // Arriving over several turns while the first group's fsync runs: none is committed yet.
    const later: Promise<unknown>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      later.push(g.run(() => ins.run(`later${turn}`, turn)));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(g.stats.groups, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
    release();
    await first;
    await new Promise((r) => setImmediate(r));
    // One group for all five, and its own fsync.
    assert.equal(g.stats.groups, 2);
    assert.equal(g.stats.requests, 6);
    assert.equal(syncs, 2);
    let settled = false;
    void Promise.all(later).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'not acknowledged before its own fsync');
    release();
    await Promise.all(later);
  } finally {
    done();
  }
});

test('a failed fsync fails its group; the next group commits and syncs again', async () => {
  const { db, done } = openDb();
  try {
    let fail = true;
    const g = new GroupCommit(db, async () => {
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    await assert.rejects(g.run(() => ins.run('a', 1)), /EIO/);
    fail = false;
    await g.run(() => ins.run('b', 2));
    assert.equal(g.stats.groups, 2);
  } finally {
    done();
  }
});

test('a group that finds the write lock taken by another connection waits for it off the event loop', async () => {
  const { db, done } = openDb();
  const other = new Database(db.name);
  try {
    const g = new GroupCommit(db);
    // Another process (a worker, the CLI) holds the write lock until a timer of this loop ends it:
    // a wait inside SQLite's busy handler would hold the loop, and this would never commit.
    other.exec("BEGIN IMMEDIATE; INSERT INTO t (k, v) VALUES ('other', 0)");
    let ticks = 0;
    const tick = setInterval(() => ticks++, 1);
    setTimeout(() => other.exec('COMMIT'), 60);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    await Promise.all([g.run(() => ins.run('a', 1)), g.run(() => ins.run('b', 2))]);
    clearInterval(tick);
    assert.ok(g.lock.busy > 0, 'the lock was found taken');
    assert.ok(ticks >= 5, `the event loop ran while waiting (${ticks} ticks)`);
    assert.deepEqual(db.prepare('SELECT k FROM t ORDER BY k').all(), [{ k: 'a' }, { k: 'b' }, { k: 'other' }]);
    // The connection's own wait is back for its synchronous paths.
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  } finally {
    other.close();
    done();
  }
});
