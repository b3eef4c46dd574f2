/**
 * Online backup and restore of the SQLite database. A backup is taken with
 * SQLite's backup API, so it is consistent even while the server writes.
 * Media files are content-addressed (named by their sha256) and can be copied
 * as they are; the database says which ones matter.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations';

export const DATABASE_FILE = 'loaxa.sqlite';

/**
 * A restored database is a new generation: devices hold plans numbered by the
 * counters of the database they last heard from, which may be ahead of the
 * backup's, so plans carry the generation as their epoch (Planner). A backup
 * from before migration 12 gets its generation when it is migrated.
 */
function newGeneration(file: string): void {
  const db = new Database(file);
  try {
    const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
    if (hasMeta) {
      db.prepare(
        `INSERT INTO meta (key, value) VALUES ('generation', lower(hex(randomblob(8))))
         ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      ).run();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export async function backupDatabase(dataDir: string, target: string): Promise<{ bytes: number; version: number }> {
  const source = path.join(dataDir, DATABASE_FILE);
  if (!fs.existsSync(source)) throw new Error(`no database at ${source}`);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const temp = `${target}.partial`;
    await db.backup(temp);
    // The copy holds password hashes and the commune's TTS keys: owner only.
    fs.chmodSync(temp, 0o600);
    fs.renameSync(temp, target);
  } finally {
    db.close();
  }
  return { bytes: fs.statSync(target).size, version: inspectBackup(target).version };
}

/** Checks that a file is a Loa Xã database this program can use; returns its schema version. */
export function inspectBackup(file: string): { version: number } {
  if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`${file} is not an SQLite database: ${(err as Error).message}`);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`${file} is damaged: ${String(integrity)}`);
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!hasTable) throw new Error(`${file} is not a Loa Xã database (no schema_migrations table)`);
    const version =
      (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    const newest = Math.max(...MIGRATIONS.map((m) => m.version));
    if (version > newest) throw new Error(`${file} has schema version ${version}, newer than this program (${newest})`);
    return { version };
  } catch (err) {
    if ((err as Error).message.startsWith(file)) throw err;
    throw new Error(`${file} is not a Loa Xã database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Replaces the database with a backup (the server must be stopped). The
 * current database is kept beside it as loaxa.sqlite.before-restore-<time>.
 */
export function restoreDatabase(dataDir: string, backup: string): { keptAs: string | null; version: number } {
  const { version } = inspectBackup(backup);
  fs.mkdirSync(dataDir, { recursive: true });
  const live = path.join(dataDir, DATABASE_FILE);
  const temp = `${live}.restoring`;
  fs.copyFileSync(backup, temp);
  const fd = fs.openSync(temp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  let keptAs: string | null = null;
  if (fs.existsSync(live)) {
    // Fold the WAL into the old file so the kept copy is complete on its own.
    const old = new Database(live);
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    keptAs = `${live}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(live, keptAs);
  }
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${live}${suffix}`, { force: true });
  fs.renameSync(temp, live);
  newGeneration(live);
  return { keptAs, version };
}
