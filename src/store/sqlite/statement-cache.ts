// better-sqlite3 compiles a statement on every db.prepare(); the repositories prepare at each call
// (the SQL next to where it is used reads best), and on the hot paths (a delivery, a flag change)
// compiling costs more than running. This makes db.prepare return one compiled statement per SQL
// text. Safe because no code here changes a statement's mode (pluck/raw/expand) or iterates one.

import type Database from 'better-sqlite3';

/** Distinct SQL texts kept; dynamic SQL past it starts a new cache rather than growing one. */
const MAX_STATEMENTS = 1000;

export function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  let cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      if (cache.size >= MAX_STATEMENTS) cache = new Map();
      st = prepare(sql);
      cache.set(sql, st);
    }
    return st;
  }) as typeof db.prepare;
}
