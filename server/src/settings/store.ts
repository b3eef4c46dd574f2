/**
 * Saved settings, one row per key in the `settings` table (migration 10). The
 * values are JSON; secrets among them (TTS API keys) are stored as they are,
 * so the database file is kept readable by its owner only.
 */
import fs from 'node:fs';
import type { Db } from '../db/database';

export interface StoredSetting {
  value: unknown;
  updatedBy: string | null;
  /** Epoch ms. */
  updatedAt: number;
}

/** A change to write: `value: null` removes the saved value (the environment's applies again). */
export interface SettingWrite {
  key: string;
  value: unknown;
}

/** The database file and SQLite's companions (WAL, shared memory), owner read/write only. */
export function restrictToOwner(databaseFile: string): void {
  for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`]) {
    try {
      fs.chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export class SettingsStore {
  private rows = new Map<string, StoredSetting>();

  constructor(private readonly db: Db) {
    // An in-memory database (tests) has no file to protect.
    if (db.name && db.name !== ':memory:' && fs.existsSync(db.name)) restrictToOwner(db.name);
    this.reload();
  }

  private reload(): void {
    const rows = this.db.prepare('SELECT key, value, updated_by, updated_at FROM settings').all() as {
      key: string;
      value: string;
      updated_by: string | null;
      updated_at: number;
    }[];
    this.rows = new Map(
      rows.map((r) => [
        r.key,
        { value: JSON.parse(r.value) as unknown, updatedBy: r.updated_by, updatedAt: r.updated_at },
      ]),
    );
  }

  get(key: string): StoredSetting | undefined {
    return this.rows.get(key);
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  /** Keys saved, optionally only those starting with `prefix`. */
  keys(prefix = ''): string[] {
    return [...this.rows.keys()].filter((k) => k.startsWith(prefix));
  }

  /** Writes all `changes` in one transaction. */
  write(changes: readonly SettingWrite[], actor: string, now = Date.now()): void {
    const upsert = this.db.prepare(
      `INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
    );
    const remove = this.db.prepare('DELETE FROM settings WHERE key = ?');
    this.db.transaction(() => {
      for (const { key, value } of changes) {
        if (value === null || value === undefined) remove.run(key);
        else upsert.run(key, JSON.stringify(value), actor, now);
      }
    })();
    this.reload();
  }
}
