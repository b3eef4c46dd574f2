/**
 * The PostgreSQL baseline (server/src/db/postgres-schema.ts) against the schema SQLite's
 * migrations build: applied to an empty database in one transaction, it must have the same
 * tables, columns, keys, constraints and indexes, the same seeded rows, and triggers with the
 * same effect: the same statements on both engines leave the same roll-up tables and refuse the
 * same audit log changes with the same message. At the newest version (the baseline and each
 * later migration's `postgres` SQL) the two still have the same tables, columns and primary keys.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/db/database';
import { MIGRATIONS } from '../src/db/migrations';
import { POSTGRES_BASELINE_SQL, POSTGRES_BASELINE_VERSION } from '../src/db/postgres-schema';
import { migratePostgres, postgresSql } from '../src/db/sql';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the PostgreSQL schema parity tests');

/** pg's OID for int8 (BIGINT): given back as a number, as the server's own pool does (sql.ts). */
const INT8_OID = 20;

type Row = Record<string, unknown>;

/** SQLite's declared types as the baseline translates them (a column without one is TEXT). */
const PG_TYPE: Record<string, string> = {
  INTEGER: 'bigint',
  TEXT: 'text',
  REAL: 'double precision',
  BLOB: 'bytea',
  '': 'text',
};

/** pg_constraint.confdeltype, in SQLite's words (PRAGMA foreign_key_list.on_delete). */
const ON_DELETE: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** A default as both engines can be compared on: PostgreSQL adds casts ('[]'::text). */
const normalDefault = (value: unknown) => (value == null ? null : String(value).replace(/::[a-z ]+$/, ''));

/** An index predicate without the parentheses and case PostgreSQL's deparser adds. */
const normalPredicate = (value: string | null) => (value == null ? null : value.replace(/[()]/g, '').toLowerCase());

/** `?` placeholders as pg's `$1…` (the statements below have no `?` inside literals). */
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

/** Byte order, as SQLite's BINARY collation (the C locale's in PostgreSQL) and unlike localeCompare. */
const byText = (a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
const byJson = (a: unknown, b: unknown) => byText(JSON.stringify(a), JSON.stringify(b));

/** Runs a query with `?` placeholders on one engine's database. */
type Rows = (text: string, params?: unknown[]) => Row[] | Promise<Row[]>;

/** pg's client to a database of the private cluster, BIGINTs as numbers. */
const pgClient = (url: string) =>
  new pg.Client({
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text')) as never,
    },
  });

const pgReader =
  (client: pg.Client): Rows =>
  async (text, params = []) =>
    (await client.query<Row>(numbered(text), params)).rows;

/** Not SQLite's own tables (sqlite_sequence) nor schema_migrations, which each engine's migrator makes. */
const LITE_TABLES = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
  AND name <> 'schema_migrations' ORDER BY name`;

const liteTableNames = async (rows: Rows) => (await rows(LITE_TABLES)).map((r) => r.name as string);

/** The same of PostgreSQL's (schema_migrations only once migratePostgres made it). */
const pgTableNames = async (rows: Rows) =>
  (
    await rows(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
        ORDER BY tablename COLLATE "C"`,
    )
  ).map((r) => r.name as string);

/** A SQLite table's columns in order, in PostgreSQL's terms, and its primary key's columns in key order. */
async function liteColumns(rows: Rows, table: string) {
  const info = await rows(`SELECT * FROM pragma_table_info(?) ORDER BY cid`, [table]);
  const columns = info.map((c) => ({
    name: c.name,
    type: PG_TYPE[String(c.type).toUpperCase()] ?? `unmapped ${String(c.type)}`,
    // SQLite lets a non-INTEGER primary key column hold NULL (a legacy quirk the app never
    // relies on); PostgreSQL's primary key implies NOT NULL, which is what is meant.
    notNull: c.notnull === 1 || (c.pk as number) > 0,
    default: normalDefault(c.dflt_value),
  }));
  const primaryKey = info
    .filter((c) => (c.pk as number) > 0)
    .sort((a, b) => (a.pk as number) - (b.pk as number))
    .map((c) => c.name);
  return { columns, primaryKey };
}

/** The same of a PostgreSQL table. */
async function pgColumns(rows: Rows, table: string) {
  const columns = (
    await rows(
      `SELECT column_name AS name, data_type AS type, is_nullable = 'NO' AS "notNull",
              column_default AS "default"
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`,
      [table],
    )
  ).map((c) => ({ ...c, default: normalDefault(c.default) }));
  const primaryKey = (
    await rows(
      `SELECT a.attname AS name
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY k.n`,
      [table],
    )
  ).map((r) => r.name);
  return { columns, primaryKey };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * Midnight in Asia/Ho_Chi_Minh starting local day 10 March 2026 + n: 17:00 UTC the day before,
 * the instant the roll-up stores a day as.
 */
const day = (n: number) => Date.UTC(2026, 2, 9 + n, 17);
/** The days marked summed before each step: D0…D4. */
const ROLLED = [0, 1, 2, 3, 4];

describe.skipIf(!hasPostgres)('the PostgreSQL baseline schema', () => {
  let server: TestPostgres;
  let client: pg.Client;
  let lite: Db;
  let liteDir: string;

  /** Runs one statement on each engine, `?` placeholders for both. */
  const both = async (text: string, params: unknown[] = []) => {
    lite.prepare(text).run(...params);
    await client.query(numbered(text), params);
  };
  const pgRows = async (text: string, params: unknown[] = []) => (await client.query<Row>(numbered(text), params)).rows;
  const liteRows = (text: string, params: unknown[] = []) => lite.prepare(text).all(...params) as Row[];

  beforeAll(async () => {
    server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE loaxa_schema');
    await admin.end();
    client = pgClient(server.url.replace(/\/postgres$/, '/loaxa_schema'));
    await client.connect();
    // One transaction, as migratePostgres applies it: a statement out of order fails it whole.
    await client.query('BEGIN');
    await client.query(POSTGRES_BASELINE_SQL);
    await client.query('COMMIT');
    // SQLite exactly at the baseline's version, whatever migrations come after it.
    lite = openDatabase(
      (liteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-pg-schema-'))),
      MIGRATIONS.filter((m) => m.version <= POSTGRES_BASELINE_VERSION),
    );
  }, 60_000);

  afterAll(async () => {
    lite?.close();
    if (liteDir) fs.rmSync(liteDir, { recursive: true, force: true });
    await client?.end();
    await server?.close();
  });

  const liteTables = () => liteRows(LITE_TABLES).map((r) => r.name as string);

  it('has the same tables', async () => {
    const tables = await pgTableNames(pgRows);
    expect(tables).toEqual(await liteTableNames(liteRows));
    expect(tables).toHaveLength(32);
  });

  it('has the same columns in the same order: type, NOT NULL, default and primary key', async () => {
    for (const table of liteTables()) {
      const expected = await liteColumns(liteRows, table);
      const actual = await pgColumns(pgRows, table);
      expect(actual.columns, table).toEqual(expected.columns);
      expect(actual.primaryKey, `${table} primary key`).toEqual(expected.primaryKey);
    }
    // AUTOINCREMENT's counterpart: ids the database hands out.
    expect(
      await pgRows(
        `SELECT is_identity FROM information_schema.columns WHERE table_name = 'audit_log' AND column_name = 'id'`,
      ),
    ).toEqual([{ is_identity: 'YES' }]);
  });

  it('has the same indexes, unique constraints, foreign keys and CHECK constraints', async () => {
    // Indexes by name. SQLite names the indexes behind PRIMARY KEY and UNIQUE itself
    // (sqlite_autoindex_*); PostgreSQL's counterparts are the indexes a constraint owns
    // (pg_constraint.conindid), whatever their name. Both are left out here, by that rule rather
    // than by name (a CREATE INDEX called *_pkey is still compared), and the constraints they
    // back are compared below by their columns.
    const liteIndexes = liteRows(
      `SELECT m.name, m.tbl_name AS "table", l."unique", l.partial, m.sql
         FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name
        WHERE m.type = 'index' AND m.name NOT LIKE 'sqlite_autoindex_%' ORDER BY m.name`,
    ).map((r) => ({
      name: r.name,
      table: r.table,
      columns: liteRows(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [r.name]).map((c) => c.name),
      unique: r.unique === 1,
      predicate: r.partial === 1 ? normalPredicate(/\bWHERE\s+(.*)$/is.exec(String(r.sql))![1]!) : null,
    }));
    const pgIndexes = await pgRows(
      `SELECT c.relname AS name, t.relname AS "table", i.indisunique AS "unique",
              pg_get_expr(i.indpred, i.indrelid) AS predicate,
              ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     ORDER BY k.n)::text[] AS columns
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace s ON s.oid = t.relnamespace
        WHERE s.nspname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname COLLATE "C"`,
    );
    expect(pgIndexes.map((r) => ({ ...r, predicate: normalPredicate(r.predicate as string | null) }))).toEqual(
      liteIndexes.map((r) => ({
        name: r.name,
        table: r.table,
        unique: r.unique,
        predicate: r.predicate,
        columns: r.columns,
      })),
    );
    expect(liteIndexes).toHaveLength(27);

    // UNIQUE constraints (not primary keys, compared above) by table and columns.
    const liteUnique = liteTables()
      .flatMap((table) =>
        liteRows(`SELECT name FROM pragma_index_list(?) WHERE origin = 'u'`, [table]).map((l) => ({
          table,
          columns: liteRows(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [l.name]).map((c) => c.name),
        })),
      )
      .sort(byJson);
    const pgUnique = (
      await pgRows(
        `SELECT t.relname AS "table",
                ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
                       ORDER BY u.n)::text[] AS columns
           FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
          WHERE k.contype = 'u' AND k.connamespace = 'public'::regnamespace`,
      )
    ).sort(byJson);
    expect(pgUnique).toEqual(liteUnique);
    expect(liteUnique).toHaveLength(3);

    // Foreign keys: each column to what it references, with its ON DELETE.
    const liteForeign = liteTables()
      .flatMap((table) =>
        liteRows(`SELECT * FROM pragma_foreign_key_list(?)`, [table]).map((f) => ({
          table,
          column: f.from,
          references: f.table,
          referencedColumn: f.to,
          onDelete: f.on_delete,
        })),
      )
      .sort(byJson);
    const pgForeign = (
      await pgRows(
        `SELECT t.relname AS "table", a.attname AS "column", r.relname AS "references",
                ra.attname AS "referencedColumn", k.confdeltype AS "onDelete"
           FROM pg_constraint k
           CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(attnum, refnum)
           JOIN pg_class t ON t.oid = k.conrelid
           JOIN pg_class r ON r.oid = k.confrelid
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
           JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = u.refnum
          WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace`,
      )
    )
      .map((f) => ({ ...f, onDelete: ON_DELETE[f.onDelete as string] }))
      .sort(byJson);
    expect(pgForeign).toEqual(liteForeign);
    expect(liteForeign.length).toBeGreaterThan(30);

    // CHECK constraints, counted per table: SQLite keeps them only in the table's SQL text.
    const liteChecks = Object.fromEntries(
      liteRows(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        .filter((r) => r.name !== 'schema_migrations')
        .map((r) => [r.name, (String(r.sql).match(/\bCHECK\s*\(/gi) ?? []).length] as const)
        .filter(([, n]) => n > 0),
    );
    const pgChecks = Object.fromEntries(
      (
        await pgRows(
          `SELECT t.relname AS name, count(*) AS n FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
            WHERE k.contype = 'c' AND k.connamespace = 'public'::regnamespace GROUP BY t.relname`,
        )
      ).map((r) => [r.name, r.n]),
    );
    expect(pgChecks).toEqual(liteChecks);
  });

  it('has the same triggers, and PostgreSQL also refuses TRUNCATE of the audit log', async () => {
    const liteTriggers = liteRows(
      `SELECT name, tbl_name AS "table" FROM sqlite_master WHERE type = 'trigger' ORDER BY name`,
    );
    const pgTriggers = await pgRows(
      `SELECT g.tgname AS name, t.relname AS "table" FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
        WHERE NOT g.tgisinternal AND t.relnamespace = 'public'::regnamespace ORDER BY g.tgname COLLATE "C"`,
    );
    // TRUNCATE skips row triggers and SQLite has none, so this one is PostgreSQL's own.
    expect(pgTriggers).toEqual(
      [...liteTriggers, { name: 'audit_log_no_truncate', table: 'audit_log' }].sort((a, b) => byText(a.name, b.name)),
    );
    expect(liteTriggers).toHaveLength(10);
  });

  it('has the rows SQLite’s migrations insert', async () => {
    const communes = 'SELECT id, name, revision, geocodes FROM communes ORDER BY id';
    expect(await pgRows(communes)).toEqual(liteRows(communes));
    // Both made "now", in whole seconds.
    const created = 'SELECT created_at FROM communes';
    for (const c of [...liteRows(created), ...(await pgRows(created))]) {
      expect(c.created_at as number).toBeGreaterThan(Date.now() - HOUR);
      expect((c.created_at as number) % 1000).toBe(0);
    }
    const meta = 'SELECT key, value FROM meta ORDER BY key';
    const [litem, pgm] = [liteRows(meta), await pgRows(meta)];
    expect(pgm.map((r) => r.key)).toEqual(litem.map((r) => r.key));
    expect(pgm.find((r) => r.key === 'default_commune')).toEqual({ key: 'default_commune', value: 'default' });
    for (const m of [litem, pgm]) expect(m.find((r) => r.key === 'generation')!.value).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses the same invalid values', async () => {
    const refused = async (text: string, params: unknown[]) => {
      expect(() => lite.prepare(text).run(...params), text).toThrow();
      await expect(client.query(numbered(text), params), text).rejects.toThrow();
    };
    await refused(`INSERT INTO settings (commune_id, key, value, updated_at) VALUES ('default', 'k', ?, 0)`, [
      '{"a": ',
    ]);
    await refused(
      `INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES ('x', 'wav', 1, 1, 0)`,
      [],
    );
    await refused(`INSERT INTO devices (id, name, secret_hash, created_at, commune_id) VALUES ('x', 'x', 'x', 0, ?)`, [
      'no-such-commune',
    ]);
    await both(`INSERT INTO settings (commune_id, key, value, updated_at) VALUES ('default', 'k', ?, 0)`, [
      '{"a": [1, "\\u0000"]}',
    ]);
    const settings = 'SELECT * FROM settings';
    expect(await pgRows(settings)).toEqual(liteRows(settings));
  });

  it('keeps the audit log append-only with the same message', async () => {
    for (const actor of ['admin', 'bà Lan']) {
      await both('INSERT INTO audit_log (at, actor, action, commune_id) VALUES (?, ?, ?, ?)', [
        day(0),
        actor,
        'login',
        'default',
      ]);
    }
    const rows = 'SELECT * FROM audit_log ORDER BY id';
    expect(await pgRows(rows)).toEqual(liteRows(rows));
    expect(liteRows(rows).map((r) => r.id)).toEqual([1, 2]);
    for (const change of ["UPDATE audit_log SET actor = 'x' WHERE id = 1", 'DELETE FROM audit_log WHERE id = 2']) {
      expect(() => lite.prepare(change).run(), change).toThrow(/^audit log is append-only$/);
      await expect(client.query(change), change).rejects.toThrow(/^audit log is append-only$/);
    }
    await expect(client.query('TRUNCATE audit_log')).rejects.toThrow(/^audit log is append-only$/);
    expect(await pgRows(rows)).toEqual(liteRows(rows));
  });

  it('forgets the same summed days as SQLite for the same changes', async () => {
    // Parents and history, written while no day is marked summed (so no trigger does anything).
    await both(`INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES ('m1', 'ogg', 1, 1000, 0)`);
    for (const [id, createdAt] of [
      ['dev-a', day(0) - 30 * DAY],
      ['dev-b', day(0) - 30 * DAY],
    ] as const) {
      await both(`INSERT INTO devices (id, name, secret_hash, created_at) VALUES (?, ?, 'h', ?)`, [id, id, createdAt]);
    }
    // An occurrence one ms before local midnight (day 1), one at it (day 2), one later on day 3.
    for (const [id, startAt] of [
      ['o-before', day(2) - 1],
      ['o-after', day(2)],
      ['o-late', day(3) + 5 * HOUR],
    ] as const) {
      await both(
        `INSERT INTO occurrences (id, title, priority, start_at, duration_ms, sha256, created_at)
         VALUES (?, ?, 'normal', ?, 60000, 'm1', 0)`,
        [id, id, startAt],
      );
    }
    for (const [occurrence, device] of [
      ['o-before', 'dev-a'],
      ['o-after', 'dev-a'],
      ['o-late', 'dev-b'],
    ]) {
      await both('INSERT INTO deliveries (occurrence_id, device_id) VALUES (?, ?)', [occurrence, device]);
    }
    for (const device of ['dev-a', 'dev-b']) {
      await both('INSERT INTO device_status (device_id, online, at) VALUES (?, 1, ?)', [device, day(0) - DAY]);
      for (const n of [0, 1, 2]) {
        await both(`INSERT INTO device_days VALUES (?, ?, 3, 2, 0, 1, 0, ?, ?, ?)`, [
          device,
          day(n),
          2 * MINUTE,
          20 * HOUR,
          DAY,
        ]);
      }
    }

    /** Each step starts from days D0…D4 summed; `left` is what SQLite leaves of them. */
    const steps: { what: string; sql: string; params?: unknown[]; left: number[] }[] = [
      {
        what: 'device online change one ms before local midnight',
        sql: 'INSERT INTO device_status (device_id, online, at) VALUES (?, 0, ?)',
        params: ['dev-a', day(2) - 1],
        left: [0],
      },
      {
        what: 'device online change at local midnight (17:00 UTC)',
        sql: 'INSERT INTO device_status (device_id, online, at) VALUES (?, 1, ?)',
        params: ['dev-a', day(2)],
        left: [0, 1],
      },
      {
        what: 'device online change after the last summed day',
        sql: 'INSERT INTO device_status (device_id, online, at) VALUES (?, 0, ?)',
        params: ['dev-b', day(5)],
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'several online changes in one statement',
        sql: 'INSERT INTO device_status (device_id, online, at) VALUES (?, 1, ?), (?, 0, ?)',
        params: ['dev-b', day(4) + 1, 'dev-a', day(3) + HOUR],
        left: [0, 1, 2],
      },
      {
        what: 'a device added with a past creation time',
        sql: `INSERT INTO devices (id, name, secret_hash, created_at) VALUES ('dev-c', 'c', 'h', ?)`,
        params: [day(3) + 1],
        left: [0, 1, 2],
      },
      {
        what: 'a device added after the summed days',
        sql: `INSERT INTO devices (id, name, secret_hash, created_at) VALUES ('dev-d', 'd', 'h', ?)`,
        params: [day(9)],
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'a device revoked in the past',
        sql: `UPDATE devices SET revoked_at = ? WHERE id = 'dev-c'`,
        params: [day(1) + HOUR],
        left: [0],
      },
      {
        what: 'a device created earlier',
        sql: `UPDATE devices SET created_at = ? WHERE id = 'dev-d'`,
        params: [day(0) - 1],
        left: [],
      },
      {
        what: 'a device renamed',
        sql: `UPDATE devices SET name = 'Loa chợ' WHERE id = 'dev-c'`,
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'a device revoked at the same time again (the column is set, so the trigger fires)',
        sql: `UPDATE devices SET revoked_at = revoked_at WHERE id = 'dev-c'`,
        left: [0],
      },
      {
        what: 'a delivery added',
        sql: `INSERT INTO deliveries (occurrence_id, device_id) VALUES ('o-before', 'dev-b')`,
        left: [0, 2, 3, 4],
      },
      {
        what: 'a delivery added that is there already (DO NOTHING)',
        sql: `INSERT INTO deliveries (occurrence_id, device_id) VALUES ('o-late', 'dev-b') ON CONFLICT DO NOTHING`,
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'a delivery acknowledged',
        sql: `UPDATE deliveries SET stage = 'finished', at = ? WHERE occurrence_id = 'o-after' AND device_id = 'dev-a'`,
        params: [day(2) + MINUTE],
        left: [0, 1, 3, 4],
      },
      {
        what: 'a delivery upserted (the UPDATE of stage fires)',
        sql: `INSERT INTO deliveries (occurrence_id, device_id, stage) VALUES ('o-late', 'dev-b', 'playing')
              ON CONFLICT (occurrence_id, device_id) DO UPDATE SET stage = excluded.stage`,
        left: [0, 1, 2, 4],
      },
      {
        what: 'a delivery detail changed',
        sql: `UPDATE deliveries SET detail = 'x' WHERE device_id = 'dev-a'`,
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'a delivery removed',
        sql: `DELETE FROM deliveries WHERE occurrence_id = 'o-late' AND device_id = 'dev-b'`,
        left: [0, 1, 2, 4],
      },
      {
        what: 'an occurrence moved to another day',
        sql: `UPDATE occurrences SET start_at = ? WHERE id = 'o-before'`,
        params: [day(4) + 1],
        left: [0, 2, 3],
      },
      {
        what: 'an occurrence renamed',
        sql: `UPDATE occurrences SET title = 'Thông báo' WHERE id = 'o-late'`,
        left: [0, 1, 2, 3, 4],
      },
      {
        what: 'an occurrence stopped',
        sql: `UPDATE occurrences SET stopped_at = ?, stopped_by = 'admin' WHERE id = 'o-after'`,
        params: [day(2) + 2 * MINUTE],
        left: [0, 1, 3, 4],
      },
      {
        what: 'two occurrences cancelled in one statement',
        sql: `UPDATE occurrences SET cancelled_at = ? WHERE id IN ('o-after', 'o-late')`,
        params: [day(0)],
        left: [0, 1, 4],
      },
      {
        what: 'an occurrence deleted, its deliveries with it',
        sql: `DELETE FROM occurrences WHERE id = 'o-after'`,
        left: [0, 1, 3, 4],
      },
      {
        what: 'a device deleted: its deliveries, online changes and day sums go with it',
        sql: `DELETE FROM devices WHERE id = 'dev-a'`,
        left: [0, 1, 2, 3],
      },
    ];

    const rolled = ROLLED.map(day);
    const rollups = {
      rolled_days: 'SELECT day FROM rolled_days ORDER BY day',
      device_days: `SELECT * FROM device_days ORDER BY device_id, day, broadcasts, finished, failed, missed,
                      stopped, on_air_ms, online_ms, observed_ms`,
    };
    for (const step of steps) {
      await both('DELETE FROM rolled_days');
      for (const d of rolled) await both('INSERT INTO rolled_days (day) VALUES (?)', [d]);
      await both(step.sql, step.params);
      for (const [table, query] of Object.entries(rollups)) {
        expect(await pgRows(query), `${step.what}: ${table}`).toEqual(liteRows(query));
      }
      expect(
        liteRows(rollups.rolled_days).map((r) => rolled.indexOf(r.day as number)),
        `${step.what}: the days SQLite keeps`,
      ).toEqual(step.left);
    }
    // The cascades of the last steps, and everything else the steps wrote, on both engines.
    expect(liteRows('SELECT DISTINCT device_id FROM device_days ORDER BY device_id')).toEqual([{ device_id: 'dev-b' }]);
    for (const table of ['deliveries', 'device_status', 'devices', 'occurrences']) {
      const all = `SELECT * FROM ${table}`;
      const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();
      expect(sorted(await pgRows(all)), table).toEqual(sorted(liteRows(all)));
    }
  });

  it('has the same tables, columns and primary keys as SQLite at the newest version', async () => {
    // PostgreSQL as a new install gets it: the baseline, then each later migration's own SQL.
    await client.query('CREATE DATABASE loaxa_schema_newest');
    const url = server.url.replace(/\/postgres$/, '/loaxa_schema_newest');
    const target = postgresSql(url, { poolSize: 1 });
    const newestPg = pgClient(url);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-pg-schema-'));
    const newestLite = openDatabase(dir);
    try {
      const versions = MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
      expect(versions.at(-1)).toBeGreaterThan(POSTGRES_BASELINE_VERSION);
      expect(await migratePostgres(target)).toEqual(versions);
      await newestPg.connect();
      const pgNewest = pgReader(newestPg);
      const liteNewest: Rows = (text, params = []) => newestLite.prepare(text).all(...params) as Row[];

      const tables = await liteTableNames(liteNewest);
      expect(await pgTableNames(pgNewest)).toEqual(tables);
      const byName = (a: Row, b: Row) => byText(a.name, b.name);
      for (const table of tables) {
        const expected = await liteColumns(liteNewest, table);
        const actual = await pgColumns(pgNewest, table);
        // PostgreSQL adds a later column last (ALTER TABLE ADD COLUMN), where SQLite's rebuild of
        // the table may put it elsewhere: the columns are compared as a set.
        expect([...actual.columns].sort(byName), table).toEqual([...expected.columns].sort(byName));
        expect(actual.primaryKey, `${table} primary key`).toEqual(expected.primaryKey);
      }
      // Migration 29's order of the status log, a primary key on both.
      expect((await pgColumns(pgNewest, 'device_status')).primaryKey).toEqual(['seq']);
    } finally {
      newestLite.close();
      fs.rmSync(dir, { recursive: true, force: true });
      await newestPg.end();
      await target.close();
    }
  });
});
