import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { appliedVersions, migrate, openDatabase, schemaVersion, type Db } from './database';
import { MIGRATIONS } from './migrations';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-db-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('database', () => {
  it('migrates an empty database to the newest version, in WAL mode with foreign keys on', () => {
    const db = openDatabase(tempDir());
    expect(schemaVersion(db)).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() =>
      db.prepare("INSERT INTO device_zones (device_id, zone_id) VALUES ('nobody', 'nowhere')").run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('prepares each SQL text once and keeps using that statement', () => {
    const db = openDatabase(tempDir());
    const sql = 'SELECT COUNT(*) AS n FROM zones WHERE id = ?';
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    expect(db.prepare(sql)).not.toBe(db.prepare(`${sql} `));
    expect(db.prepare(sql).get('z1')).toEqual({ n: 0 });
    db.close();
  });

  it('is idempotent on reopen and keeps data', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.prepare("INSERT INTO zones (id, commune_id, name, created_at) VALUES ('z', 'default', 'Z', 1)").run();
    db.close();
    const again = openDatabase(dir);
    expect(migrate(again)).toEqual([]);
    expect(again.prepare('SELECT name FROM zones').get()).toEqual({ name: 'Z' });
    again.close();
  });

  it('rolls back a failing migration and refuses a database newer than the program', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    const broken = [
      ...MIGRATIONS,
      { version: NEWEST + 1, name: 'broken', sql: 'CREATE TABLE t (x); SELECT nonsense FROM nowhere;' },
    ];
    expect(() => migrate(db, broken)).toThrow(/no such table: nowhere/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
    expect(appliedVersions(db)).not.toContain(NEWEST + 1);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1000, 'future', 0)").run();
    expect(() => migrate(db)).toThrow(/1000 was applied by a newer Loa Xã/);
    db.close();
  });
});

const ORDERED = [...MIGRATIONS].sort((a, b) => a.version - b.version);
const NEWEST = ORDERED.length;

/**
 * A database on which exactly `versions` were applied, in that order, as the
 * builds that appended them out of order would have left it.
 */
function databaseWith(versions: number[]): Db {
  const db = new Database(path.join(tempDir(), 'loaxa.sqlite'));
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  for (const v of versions) {
    const m = ORDERED[v - 1]!;
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
  }
  return db;
}

describe('which migrations run', () => {
  it('applies a migration appended out of order that a database skipped (4 after 5 and 6)', () => {
    // A build had 1, 2, 3, 5 and 6 before 4 was merged; MAX(version) = 6 used to hide 4 for ever.
    const db = databaseWith([1, 2, 3, 5, 6]);
    expect(migrate(db)).toEqual([4, ...ORDERED.slice(6).map((m) => m.version)]);
    expect(appliedVersions(db)).toEqual(ORDERED.map((m) => m.version));
    // Migration 4's tables exist: the schedules work.
    expect(db.prepare('SELECT COUNT(*) AS n FROM schedules').get()).toEqual({ n: 0 });
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  it('applies every pending version in version order, whatever order the list is in', () => {
    const db = databaseWith([1, 2, 5]);
    const shuffled = [...ORDERED].reverse();
    expect(migrate(db, shuffled)).toEqual(ORDERED.filter((m) => ![1, 2, 5].includes(m.version)).map((m) => m.version));
    db.close();
  });

  it('refuses a database holding a version this build does not know: it was written by a newer Loa Xã', () => {
    const db = databaseWith([1, 2, 3]);
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)`).run(
      NEWEST + 2,
    );
    expect(() => migrate(db)).toThrow(
      new RegExp(`version ${NEWEST + 2} was applied by a newer Loa Xã; this build knows 1–${NEWEST}\\. Upgrade Loa Xã`),
    );
    // Nothing was applied on the way to the refusal.
    expect(appliedVersions(db)).toEqual([1, 2, 3, NEWEST + 2]);
    db.close();
  });

  it('refuses a migration list with a gap or a repeat: the mistake is the program’s', () => {
    const db = databaseWith([]);
    expect(() =>
      migrate(
        db,
        ORDERED.filter((m) => m.version !== 4),
      ),
    ).toThrow(/migrations: versions must run 1\.\.N without gaps or repeats; expected 4 where 5 is/);
    expect(() => migrate(db, [...ORDERED, ORDERED[2]!])).toThrow(/expected 4 where 3 is/);
    expect(appliedVersions(db)).toEqual([]);
    db.close();
  });
});

describe('upgrades', () => {
  it('migrates each previous version to the newest, keeping data', () => {
    // Engineers append migrations in parallel, so the list is not always in version order.
    const ordered = [...MIGRATIONS].sort((a, b) => a.version - b.version);
    expect(ordered.map((m) => m.version)).toEqual(ordered.map((_, i) => i + 1)); // no gaps, no repeats
    for (let from = 1; from < ordered.length; from++) {
      const dir = tempDir();
      const db = openDatabase(dir, ordered.slice(0, from));
      expect(schemaVersion(db)).toBe(from);
      // Zones belong to a commune from version 15 (before it they become the default commune's).
      if (from >= 15) {
        db.prepare("INSERT INTO zones (id, commune_id, name, created_at) VALUES ('z', 'default', 'Thôn Z', 1)").run();
      } else {
        db.prepare("INSERT INTO zones (id, name, created_at) VALUES ('z', 'Thôn Z', 1)").run();
      }
      expect(migrate(db)).toEqual(ordered.slice(from).map((m) => m.version));
      expect(db.prepare('SELECT name FROM zones').get()).toEqual({ name: 'Thôn Z' });
      db.close();
    }
  });
  it('numbers the status log by its old rowid at 29: changes at the same millisecond keep their order', () => {
    const db = openDatabase(tempDir(), ORDERED.slice(0, 28));
    for (const id of ['loa-1', 'loa-2']) {
      db.prepare("INSERT INTO devices (id, name, secret_hash, created_at) VALUES (?, ?, 'h', 0)").run(id, id);
    }
    const at = Date.UTC(2026, 2, 6, 5);
    const status = db.prepare('INSERT INTO device_status (device_id, online, at) VALUES (?, ?, ?)');
    status.run('loa-1', 1, at);
    status.run('loa-2', 1, at - 10);
    status.run('loa-2', 0, at - 5);
    // An offline and an online of one loudspeaker at the same millisecond, logged in this order.
    status.run('loa-1', 0, at + 1);
    status.run('loa-1', 1, at + 1);
    // A hole in the numbers, as pruning leaves: kept, not closed up.
    db.prepare("DELETE FROM device_status WHERE device_id = 'loa-2' AND online = 0").run();
    const before = db.prepare('SELECT rowid AS seq, device_id, online, at FROM device_status ORDER BY rowid').all();
    expect(before.map((r) => (r as { seq: number }).seq)).toEqual([1, 2, 4, 5]);

    expect(migrate(db)).toEqual(ORDERED.slice(28).map((m) => m.version));
    const read = () => db.prepare('SELECT seq, device_id, online, at FROM device_status ORDER BY seq').all();
    expect(read()).toEqual(before);
    // The tie as the reports read it: by time, then as logged.
    expect(
      db.prepare("SELECT online FROM device_status WHERE device_id = 'loa-1' AND at = ? ORDER BY seq").all(at + 1),
    ).toEqual([{ online: 0 }, { online: 1 }]);

    // A new change follows every logged one, at the same millisecond too.
    status.run('loa-1', 0, at + 1);
    expect(read().at(-1)).toEqual({ seq: 6, device_id: 'loa-1', online: 0, at: at + 1 });
    // The index, the roll-up trigger and the cascade from devices came back with the table.
    expect(
      db.prepare("SELECT type, name FROM sqlite_master WHERE tbl_name = 'device_status' ORDER BY type, name").all(),
    ).toEqual([
      { type: 'index', name: 'device_status_device_at' },
      { type: 'table', name: 'device_status' },
      { type: 'trigger', name: 'device_status_rolled' },
    ]);
    db.prepare('INSERT INTO rolled_days (day) VALUES (?)').run(at - 86_400_000);
    status.run('loa-2', 1, at - 1);
    expect(db.prepare('SELECT COUNT(*) AS n FROM rolled_days').get()).toEqual({ n: 0 });
    db.prepare("DELETE FROM devices WHERE id = 'loa-1'").run();
    expect(read().map((r) => (r as { device_id: string }).device_id)).toEqual(['loa-2', 'loa-2']);
    db.close();
  });
});
