/**
 * Backup and restore on PostgreSQL (DATABASE_URL): pg_dump into a file or a
 * rotated folder, pg_restore back in one transaction, a new generation after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/db/open';
import { pgDump, pgRestore } from '../src/db/pg-backup';
import { backupIntoDirectory } from '../src/db/backup-rotation';
import { createDatabase } from './test-database';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';
import { row, rows, run, sql } from './helpers';

const hasPostgres = requirePostgres('the PostgreSQL backup tests');

describe.skipIf(!hasPostgres)('backup and restore on PostgreSQL', () => {
  let pg: TestPostgres;
  let url: string;
  let store: Store;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-pgdump-'));

  beforeAll(async () => {
    pg = await startPostgres();
    url = await createDatabase(pg.url, 'loaxa_backup');
    store = await openStore({ dataDir: dir, databaseUrl: url });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await pg?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const zones = async () =>
    (await rows<{ id: string }>(store.sql, sql`SELECT id FROM zones ORDER BY id`)).map((z) => z.id);
  const generation = async () =>
    (await row<{ value: string }>(store.sql, sql`SELECT value FROM meta WHERE key = 'generation'`))!.value;

  it('restores the dump as it was, as a new generation', async () => {
    await run(
      store.sql,
      sql`INSERT INTO zones (id, name, commune_id, created_at) VALUES ('thon-truoc', 'Thôn Trước', 'default', 1)`,
    );
    const file = path.join(dir, 'truoc.pgdump');
    const dumped = await pgDump(url, file);
    expect(dumped.bytes).toBeGreaterThan(0);
    expect(dumped.version).toBeGreaterThanOrEqual(31);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const before = await generation();

    await run(
      store.sql,
      sql`INSERT INTO zones (id, name, commune_id, created_at) VALUES ('thon-sau', 'Thôn Sau', 'default', 2)`,
    );
    expect(await zones()).toContain('thon-sau');

    // The server is stopped before a restore; this pool's idle connections are ended by it.
    await store.close();
    const restored = await pgRestore(url, file);
    expect(restored.version).toBe(dumped.version);
    store = await openStore({ dataDir: dir, databaseUrl: url });
    expect(await zones()).toContain('thon-truoc');
    expect(await zones()).not.toContain('thon-sau');
    expect(await generation()).not.toBe(before);
  }, 60_000);

  it('refuses a file that is not a dump, leaving the database as it was', async () => {
    const bad = path.join(dir, 'khong-phai.pgdump');
    fs.writeFileSync(bad, 'not a dump');
    const before = await zones();
    await store.close();
    await expect(pgRestore(url, bad)).rejects.toThrow(/pg_restore failed/);
    store = await openStore({ dataDir: dir, databaseUrl: url });
    expect(await zones()).toEqual(before);
  }, 30_000);

  it('keeps the newest dumps of a folder', async () => {
    const folder = path.join(dir, 'nightly');
    const days = ['2026-12-01', '2026-12-02', '2026-12-03'].map((d) => new Date(`${d}T03:15:00Z`));
    for (const day of days) await backupIntoDirectory(dir, folder, 2, day, url);
    expect(fs.readdirSync(folder).sort()).toEqual([
      'loaxa-20261202T031500-000Z.pgdump',
      'loaxa-20261203T031500-000Z.pgdump',
    ]);
  }, 60_000);
});
