import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

/** Opens (creating if needed) the SQLite database in WAL mode with foreign keys on, and migrates it. */
export function openDatabase(dataDir: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'loaxa.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  cachePreparedStatements(db);
  return db;
}

/** Distinct SQL texts kept prepared; dynamic SQL (IN lists of varying length) beyond this is re-prepared. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Makes `db.prepare(sql)` return the statement prepared earlier for the same
 * text. Code reads better with its SQL at the call site, and preparing costs
 * more than running a simple indexed query: on the ack path (thousands of acks
 * a second in an emergency) it was a tenth of the server's time. Safe because
 * no caller changes a statement's mode (pluck/raw/expand) or iterates one while
 * running it again.
 */
function cachePreparedStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (statement) {
      // Most recently used last, so the oldest is dropped first.
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  }) as Db['prepare'];
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** The versions recorded in schema_migrations, ascending. */
export function appliedVersions(db: Db): number[] {
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
    (r) => r.version,
  );
}

/**
 * Applies every migration whose version is not yet recorded, in version order,
 * each in its own transaction; returns the versions applied.
 *
 * The applied *set* decides, not MAX(version): engineers append migrations in
 * parallel, so a database can have 5 and 6 from one change before 4 from
 * another is merged. 4 is then pending and is applied now, after them (each
 * migration stands on the ones before it in the list's version order, which
 * the tests check from every earlier version).
 *
 * Refused: a database holding a version this build does not know, i.e. one
 * written by a newer Loa Xã. With the build's versions running 1..N without
 * gaps (checked first), that is also the only way a database can miss a
 * version below one it has that is not simply pending here.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const ordered = checkedMigrations(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(appliedVersions(db));
  const known = new Set(ordered.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) throw newerSchemaError(unknown, ordered.length);
  const done: number[] = [];
  for (const m of ordered) {
    if (applied.has(m.version)) continue;
    // Foreign keys cannot be switched inside a transaction; a rebuild needs them off (a DROP
    // of the old table would otherwise cascade), and checked by hand before it commits.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTables) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) {
            throw new Error(
              `migration ${m.version}: ${broken.length} rows break a foreign key: ${JSON.stringify(broken.slice(0, 3))}`,
            );
          }
        }
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          Date.now(),
        );
      })();
    } finally {
      if (m.rebuildsTables) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
    done.push(m.version);
  }
  return done;
}

/** A database holding versions this build does not know: written by a newer Loa Xã (either engine). */
export function newerSchemaError(unknown: readonly number[], known: number): Error {
  return new Error(
    `database schema: version${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ` +
      `${unknown.length > 1 ? 'were' : 'was'} applied by a newer Loa Xã; this build knows 1–${known}. ` +
      'Upgrade Loa Xã, or restore a backup made by this version.',
  );
}

/**
 * The build's migrations in version order, which must be 1..N with no gap or
 * repeat: a gap would let two builds disagree about what a version means, and
 * a database would be refused on its next start for missing a version nobody
 * can apply. A mistake here is the program's, so the message names the list.
 */
function checkedMigrations(migrations: readonly Migration[]): Migration[] {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) {
      const seen = ordered.map((x) => x.version).join(', ');
      throw new Error(
        `migrations: versions must run 1..N without gaps or repeats; expected ${i + 1} where ${m.version} is (versions: ${seen})`,
      );
    }
  });
  return ordered;
}
