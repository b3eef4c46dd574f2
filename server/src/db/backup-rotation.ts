/**
 * Backups into a folder, the newest `keep` kept: what the nightly timer of an
 * installed server runs (`loaxa backup --dir /var/backups/loaxa-server --keep 14`,
 * scripts/install-server.sh). Files are named by their UTC time, so their names
 * sort by age; files of any other name in the folder are left alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { backupDatabase } from './backup';
import { pgDump } from './pg-backup';

/** SQLite copies end in .sqlite; PostgreSQL dumps (DATABASE_URL) in .pgdump. */
type Kind = 'sqlite' | 'pgdump';
const backupName = (kind: Kind) => new RegExp(`^loaxa-\\d{8}T\\d{6}-\\d{3}Z\\.${kind}$`);

/** loaxa-20261204T031500-123Z.sqlite for 2026-12-04 03:15:00.123 UTC. */
export function backupFileName(at: Date, kind: Kind = 'sqlite'): string {
  return `loaxa-${at.toISOString().replace(/[-:]/g, '').replace('.', '-')}.${kind}`;
}

/** The database in `dataDir`, or the PostgreSQL database at `databaseUrl` when given. */
export async function backupIntoDirectory(
  dataDir: string,
  dir: string,
  keep: number,
  now: Date = new Date(),
  databaseUrl?: string,
): Promise<{ file: string; bytes: number; version: number; removed: string[] }> {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a whole number of at least 1, not ${keep}`);
  const kind: Kind = databaseUrl ? 'pgdump' : 'sqlite';
  const BACKUP_NAME = backupName(kind);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, backupFileName(now, kind));
  if (fs.existsSync(file)) throw new Error(`${file} exists already`);
  let version: number;
  if (databaseUrl) {
    ({ version } = await pgDump(databaseUrl, file));
  } else {
    ({ version } = await backupDatabase(dataDir, file));
    // One self-contained file (no -wal/-shm beside it once checked): what is copied off the machine.
    const db = new Database(file);
    try {
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
  }
  const bytes = fs.statSync(file).size;
  // Only after a good backup: a failing night never deletes the copies that are left.
  const backups = fs
    .readdirSync(dir)
    .filter((name) => BACKUP_NAME.test(name))
    .sort()
    .reverse();
  const removed = backups.slice(keep).map((name) => path.join(dir, name));
  for (const old of removed) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(old + suffix, { force: true });
  // A backup interrupted part-way (killed, disk full) leaves its .partial file: not a backup, dropped.
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(`.${kind}.partial`) && BACKUP_NAME.test(name.slice(0, -'.partial'.length))) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  return { file, bytes, version, removed };
}
