/**
 * Saved settings, one row per commune and key in the `settings` table
 * (migrations 10 and 15): each commune has its own, and a commune without a
 * row for a key takes the environment's value. The values are JSON; secrets
 * among them (TTS API keys) are stored as they are, so a SQLite database file
 * is kept readable by its owner only.
 *
 * They are read on hot paths (every render, every play asked for), so every
 * commune's rows are held in memory: loaded once when the store opens, and
 * again after each write. A write made by another server instance on the same
 * database is not seen until then.
 */
import fs from 'node:fs';
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql';

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
  private defaultId = 'default';
  /** Loads started, and the latest one applied: a slower older load never replaces a newer one. */
  private loadsStarted = 0;
  private loadApplied = 0;

  private constructor(private readonly sqlDb: SqlDb) {}

  /** The store over `sqlDb`, every commune's settings loaded. */
  static async open(sqlDb: SqlDb): Promise<SettingsStore> {
    const store = new SettingsStore(sqlDb);
    if (sqlDb.engine === 'sqlite') {
      // The file SQLite has open ('' for an in-memory database, which has none to protect).
      const { rows } = await sql<{ file: string }>`SELECT file FROM pragma_database_list WHERE name = 'main'`.execute(
        sqlDb.db,
      );
      const file = rows[0]?.file;
      if (file && fs.existsSync(file)) restrictToOwner(file);
    }
    // PostgreSQL: no file here; who may read the keys is the database server's grants.
    const meta = await sqlDb.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'default_commune')
      .executeTakeFirst();
    store.defaultId = (meta as { value: string } | undefined)?.value ?? 'default';
    await store.reload();
    return store;
  }

  private async reload(): Promise<void> {
    const load = ++this.loadsStarted;
    const rows = (await this.sqlDb.db
      .selectFrom('settings')
      .select(['commune_id', 'key', 'value', 'updated_by', 'updated_at'])
      .execute()) as {
      commune_id: string;
      key: string;
      value: string;
      updated_by: string | null;
      updated_at: number;
    }[];
    if (load < this.loadApplied) return;
    const byCommune = new Map<string, Map<string, StoredSetting>>();
    for (const r of rows) {
      let own = byCommune.get(r.commune_id);
      if (!own) byCommune.set(r.commune_id, (own = new Map()));
      own.set(r.key, { value: JSON.parse(r.value) as unknown, updatedBy: r.updated_by, updatedAt: r.updated_at });
    }
    this.rows = byCommune;
    this.loadApplied = load;
  }

  /** The commune whose settings a caller naming none means (the one the install started with). */
  defaultCommuneId(): string {
    return this.defaultId;
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

  /**
   * Writes all of the commune's `changes` in one transaction, then reloads. A value JSON cannot
   * hold (a BigInt, a function) throws where it is written, rolling back the rows before it.
   */
  async write(communeId: string, changes: readonly SettingWrite[], actor: string, now = Date.now()): Promise<void> {
    await this.sqlDb.db.transaction().execute(async (tx) => {
      for (const { key, value } of changes) {
        if (value === null || value === undefined) {
          await tx.deleteFrom('settings').where('commune_id', '=', communeId).where('key', '=', key).execute();
          continue;
        }
        const json: string | undefined = JSON.stringify(value);
        if (json === undefined) throw new TypeError(`settings: ${key} is not a JSON value`);
        await tx
          .insertInto('settings')
          .values({ commune_id: communeId, key, value: json, updated_by: actor, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['commune_id', 'key']).doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              updated_by: eb.ref('excluded.updated_by'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
    await this.reload();
  }
}
