/**
 * The shared query layer (server/src/db/sql.ts) on both engines: the same
 * Kysely query gives the same rows from SQLite and from a private PostgreSQL;
 * PostgreSQL databases are migrated from the baseline and tracked like
 * SQLite's, once even when instances start together, and a database written by
 * a newer build is refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, appliedVersions } from '../src/db/database';
import { MIGRATIONS } from '../src/db/migrations';
import { POSTGRES_BASELINE_VERSION } from '../src/db/postgres-schema';
import { isPostgresUrl, migratePostgres, postgresSql, sqliteSql, type SqlDb } from '../src/db/sql';
import { waitFor } from './helpers';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

/** The build's migrations in version order (the list is not). */
const ALL = [...MIGRATIONS].sort((a, b) => a.version - b.version);
/** The migrations a new PostgreSQL database starts from. */
const BASELINE = ALL.filter((m) => m.version <= POSTGRES_BASELINE_VERSION);
/** The newest version, reached from the baseline by each later migration's `postgres` SQL. */
const NEWEST = ALL.length;

const hasPostgres = requirePostgres('the PostgreSQL query layer tests');

/** The meta table's rows, by the one query both engines run. */
const metaRows = async (target: SqlDb, prefix: string) =>
  (
    await target.db
      .selectFrom('meta')
      .select(['key', 'value'])
      .where('key', 'like', `${prefix}%`)
      .orderBy('key')
      .execute()
  ).map((r: { key: string; value: string }) => ({ ...r }));

/** Two rows written out of order, read back in key order, Vietnamese intact. */
async function writesAndReadsInOrder(target: SqlDb): Promise<void> {
  await target.db
    .insertInto('meta')
    .values([
      { key: 'test.b', value: 'Thôn Bắc' },
      { key: 'test.a', value: 'Thôn Đông' },
    ])
    .execute();
  expect(await metaRows(target, 'test.')).toEqual([
    { key: 'test.a', value: 'Thôn Đông' },
    { key: 'test.b', value: 'Thôn Bắc' },
  ]);
}

describe('the query layer on SQLite', () => {
  it('runs Kysely on the server’s own handle and leaves it open', async () => {
    const handle = openDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-sql-')));
    const target = sqliteSql(handle);
    await writesAndReadsInOrder(target);
    // A raw statement on the handle sees Kysely's write: one connection.
    expect(handle.prepare(`SELECT value FROM meta WHERE key = 'test.a'`).get()).toEqual({ value: 'Thôn Đông' });
    await target.close();
    expect(handle.open).toBe(true);
    handle.close();
  });

  it('knows which URLs choose PostgreSQL', () => {
    expect(isPostgresUrl('postgres://loaxa@db/loaxa')).toBe(true);
    expect(isPostgresUrl('postgresql://loaxa@db:5432/loaxa')).toBe(true);
    expect(isPostgresUrl('sqlite:///var/lib/loaxa')).toBe(false);
    expect(isPostgresUrl(undefined)).toBe(false);
  });
});

describe.skipIf(!hasPostgres)('the query layer on PostgreSQL', () => {
  let server: TestPostgres;
  let admin: pg.Client;
  const open: SqlDb[] = [];
  let databases = 0;

  /** A new empty database in the private cluster, and a query layer on it. */
  const freshDatabase = async (): Promise<{ url: string; target: SqlDb }> => {
    const name = `loaxa_sql_${++databases}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    const target = postgresSql(url, { poolSize: 3 });
    open.push(target);
    return { url, target };
  };

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    for (const target of open) await target.close();
    await admin?.end();
    await server?.close();
  });

  it('migrates an empty database from the baseline to the newest version, recorded like SQLite’s, then does nothing', async () => {
    const { target } = await freshDatabase();
    const applied = await migratePostgres(target);
    const sqliteVersions = appliedVersions(openDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-sql-'))));
    expect(applied).toEqual(sqliteVersions);
    const recorded = await sql<{
      version: number;
      name: string;
    }>`SELECT version, name FROM schema_migrations ORDER BY version`.execute(target.db);
    expect(recorded.rows).toEqual(ALL.map((m) => ({ version: m.version, name: m.name })));
    expect(await migratePostgres(target)).toEqual([]);
    // What SQLite's migrations insert is there too: the commune an install starts with, a generation.
    expect(await metaRows(target, 'default_commune')).toEqual([{ key: 'default_commune', value: 'default' }]);
    const generation = await metaRows(target, 'generation');
    expect(generation[0]?.value).toMatch(/^[0-9a-f]{16}$/);
    const communes = await target.db.selectFrom('communes').select(['id', 'name']).execute();
    expect(communes).toEqual([{ id: 'default', name: 'Xã' }]);
  });

  it('gives the same rows as SQLite for the same query, BIGINTs as numbers', async () => {
    const { target } = await freshDatabase();
    await migratePostgres(target);
    await writesAndReadsInOrder(target);
    const at = Date.UTC(2026, 11, 6, 17, 0, 0, 123);
    const { rows } = await sql<{ at: number }>`SELECT CAST(${String(at)} AS BIGINT) AS at`.execute(target.db);
    expect(rows[0]!.at).toBe(at);
  });

  it('migrates once when two instances start on the same empty database together', async () => {
    const { url, target } = await freshDatabase();
    const other = postgresSql(url, { poolSize: 2 });
    open.push(other);
    const [a, b] = await Promise.all([migratePostgres(target), migratePostgres(other)]);
    expect([a.length, b.length].sort((x, y) => x - y)).toEqual([0, NEWEST]);
  });

  it('applies 29 after the baseline: the status log numbers its rows as they are logged', async () => {
    const { target } = await freshDatabase();
    const applied = await migratePostgres(target);
    expect(applied).toEqual(ALL.map((m) => m.version));
    expect(applied.indexOf(29)).toBe(applied.indexOf(POSTGRES_BASELINE_VERSION) + 1);
    await target.db
      .insertInto('devices')
      .values({ id: 'loa-1', name: 'Loa chợ', secret_hash: 'h', created_at: 0 })
      .execute();
    const at = Date.UTC(2026, 2, 6, 5);
    // One at a time, an offline and an online at the same millisecond among them.
    for (const [online, when] of [
      [1, at - 1],
      [0, at],
      [1, at],
      [0, at - 5],
    ]) {
      await target.db.insertInto('device_status').values({ device_id: 'loa-1', online, at: when }).execute();
    }
    const rows = await target.db.selectFrom('device_status').select(['seq', 'online', 'at']).orderBy('seq').execute();
    expect(rows.map((r: { online: number; at: number }) => [r.online, r.at])).toEqual([
      [1, at - 1],
      [0, at],
      [1, at],
      [0, at - 5],
    ]);
    const seqs = rows.map((r: { seq: number }) => r.seq);
    expect(seqs.every((seq: number, i: number) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    expect(typeof seqs[0]).toBe('number');
  });

  it('numbers the rows a database at the baseline logged in their order, and new ones after them', async () => {
    const { target } = await freshDatabase();
    expect(await migratePostgres(target, BASELINE)).toHaveLength(POSTGRES_BASELINE_VERSION);
    await sql`INSERT INTO devices (id, name, secret_hash, created_at) VALUES ('loa-1', 'a', 'h', 0), ('loa-2', 'b', 'h', 0)`.execute(
      target.db,
    );
    const at = Date.UTC(2026, 2, 6, 5);
    const logged: [string, number, number][] = [
      ['loa-1', 1, at],
      ['loa-2', 1, at - 10],
      ['loa-1', 0, at + 1],
      ['loa-1', 1, at + 1],
      ['loa-2', 0, at - 20],
    ];
    for (const [device, online, when] of logged) {
      await sql`INSERT INTO device_status (device_id, online, at) VALUES (${device}, ${online}, ${when})`.execute(
        target.db,
      );
    }
    expect(await migratePostgres(target)).toEqual(ALL.slice(POSTGRES_BASELINE_VERSION).map((m) => m.version));
    const read = async () =>
      (
        await sql<{
          seq: number;
          device_id: string;
          online: number;
          at: number;
        }>`SELECT seq, device_id, online, at FROM device_status ORDER BY seq`.execute(target.db)
      ).rows;
    expect(await read()).toEqual(logged.map(([device_id, online, at], i) => ({ seq: i + 1, device_id, online, at })));
    // The identity goes on after the rows numbered by the migration, at the same millisecond too.
    await sql`INSERT INTO device_status (device_id, online, at) VALUES ('loa-1', 0, ${at + 1})`.execute(target.db);
    expect((await read()).at(-1)).toEqual({ seq: logged.length + 1, device_id: 'loa-1', online: 0, at: at + 1 });
  });

  it('applies a later version’s PostgreSQL change, and refuses one written for SQLite only', async () => {
    const { target } = await freshDatabase();
    await migratePostgres(target);
    const next = NEWEST + 1;
    const later = {
      version: next,
      name: 'test: a column',
      sql: 'ALTER TABLE meta ADD COLUMN note TEXT',
      postgres: 'ALTER TABLE meta ADD COLUMN note TEXT',
    };
    expect(await migratePostgres(target, [...ALL, later])).toEqual([next]);
    await target.db.insertInto('meta').values({ key: 'k', value: 'v', note: 'ghi chú' }).execute();
    const sqliteOnly = { version: next + 1, name: 'test: sqlite only', sql: 'SELECT 1' };
    await expect(migratePostgres(target, [...ALL, later, sqliteOnly])).rejects.toThrow(
      `PostgreSQL cannot apply version ${next + 1} (test: sqlite only)`,
    );
  });

  it('outlives the server ending its idle connections: told, and the next query reconnects', async () => {
    const errors: Error[] = [];
    const target = postgresSql(server.url, {
      poolSize: 2,
      applicationName: 'loaxa-idle-test',
      onIdleError: (err) => errors.push(err),
    });
    open.push(target);
    await sql`SELECT 1`.execute(target.db);
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'loaxa-idle-test'`,
    );
    await waitFor('the pool to hear of it', () => errors.length > 0, 10_000);
    expect(errors[0]!.message).toMatch(/terminat/);
    const { rows } = await sql<{ ok: number }>`SELECT 1 AS ok`.execute(target.db);
    expect(rows).toEqual([{ ok: 1 }]);
  });

  it('refuses a database that a newer Loa Xã migrated', async () => {
    const { target } = await freshDatabase();
    await migratePostgres(target);
    await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)`.execute(
      target.db,
    );
    await expect(migratePostgres(target)).rejects.toThrow(/version 999 was applied by a newer Loa Xã/);
  });
});
