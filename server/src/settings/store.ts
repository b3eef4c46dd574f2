/**
 * Saved settings, one row per commune and key in the `settings` table
 * (migrations 10 and 15): each commune has its own, and a commune without a
 * row for a key takes the environment's value. The values are JSON; secrets
 * among them (TTS API keys) are stored as they are, so the database file is
 * kept readable by its owner only.
 */
import fs from 'node:fs';
import type { Db } from '../db/database';
import { CommuneService } from '../tenancy/communes';

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
  /** Commune id → key → saved value. */
  private rows = new Map<string, Map<string, StoredSetting>>();

  constructor(private readonly db: Db) {
    // An in-memory database (tests) has no file to protect.
    if (db.name && db.name !== ':memory:' && fs.existsSync(db.name)) restrictToOwner(db.name);
    this.reload();
  }

  private reload(): void {
    const rows = this.db.prepare('SELECT commune_id, key, value, updated_by, updated_at FROM settings').all() as {
      commune_id: string;
      key: string;
      value: string;
      updated_by: string | null;
      updated_at: number;
    }[];
    const byCommune = new Map<string, Map<string, StoredSetting>>();
    for (const r of rows) {
      let own = byCommune.get(r.commune_id);
      if (!own) byCommune.set(r.commune_id, (own = new Map()));
      own.set(r.key, { value: JSON.parse(r.value) as unknown, updatedBy: r.updated_by, updatedAt: r.updated_at });
    }
    this.rows = byCommune;
  }

  /** The commune whose settings a caller naming none means (the one the install started with). */
  defaultCommuneId(): string {
    return new CommuneService(this.db).defaultId();
  }

  get(communeId: string, key: string): StoredSetting | undefined {
    return this.rows.get(communeId)?.get(key);
  }

  has(communeId: string, key: string): boolean {
    return this.rows.get(communeId)?.has(key) ?? false;
  }

  /** The commune's saved keys, optionally only those starting with `prefix`. */
  keys(communeId: string, prefix = ''): string[] {
    return [...(this.rows.get(communeId)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
  }

  /** Writes all of the commune's `changes` in one transaction. */
  write(communeId: string, changes: readonly SettingWrite[], actor: string, now = Date.now()): void {
    const upsert = this.db.prepare(
      `INSERT INTO settings (commune_id, key, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(commune_id, key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
    );
    const remove = this.db.prepare('DELETE FROM settings WHERE commune_id = ? AND key = ?');
    this.db.transaction(() => {
      for (const { key, value } of changes) {
        if (value === null || value === undefined) remove.run(communeId, key);
        else upsert.run(communeId, key, JSON.stringify(value), actor, now);
      }
    })();
    this.reload();
  }
}
