import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion } from './database';
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
    db.prepare("INSERT INTO zones (id, name, created_at) VALUES ('z', 'Z', 1)").run();
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
      { version: 999, name: 'broken', sql: 'CREATE TABLE t (x); SELECT nonsense FROM nowhere;' },
    ];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1000, 'future', 0)").run();
    expect(() => migrate(db)).toThrow(/newer than this program/);
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
      db.prepare("INSERT INTO zones (id, name, created_at) VALUES ('z', 'Thôn Z', 1)").run();
      expect(migrate(db)).toEqual(ordered.slice(from).map((m) => m.version));
      expect(db.prepare('SELECT name FROM zones').get()).toEqual({ name: 'Thôn Z' });
      db.close();
    }
  });
});
