/**
 * A loudspeaker may download a file from any server instance (issue 18): on
 * PostgreSQL every stored file is in the database too, and an instance that
 * does not hold one copies it once into its own media directory.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, postgresSql, type SqlDb } from '../src/db/sql';
import { BLOB_CHUNK_BYTES, MediaStore } from '../src/media/store';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';
import { createDatabase } from './test-database';

const hasPostgres = requirePostgres('the shared media store tests');

describe.skipIf(!hasPostgres)('media shared by two instances through PostgreSQL', () => {
  let server: TestPostgres;
  let sqlDb: SqlDb;
  const dirs: string[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    sqlDb = postgresSql(await createDatabase(server.url, 'loaxa_media'), { poolSize: 4 });
    await migratePostgres(sqlDb);
  }, 60_000);
  afterAll(async () => {
    await sqlDb?.close();
    await server?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** An instance's store: its own data directory, the shared database. */
  const instance = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-media-'));
    dirs.push(dir);
    return new MediaStore(dir, sqlDb);
  };
  const store = async (media: MediaStore, bytes: Buffer) => {
    const temp = media.tempPath('ogg');
    fs.writeFileSync(temp, bytes);
    return media.adopt(temp, 'ogg', 4_000);
  };
  const fileOf = (media: MediaStore, sha256: string) => path.join(media.root, media.relativePath(sha256, 'ogg'));

  it('serves on instance B a file stored on instance A, the same bytes, in chunks of 1 MB', async () => {
    const a = instance();
    const b = instance();
    // Two and a half chunks: the last one short.
    const bytes = crypto.randomBytes(2 * BLOB_CHUNK_BYTES + BLOB_CHUNK_BYTES / 2);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const stored = await store(a, bytes);
    expect(stored).toEqual({ sha256, format: 'ogg', bytes: bytes.byteLength, durationMs: 4_000 });
    const chunks = await sql<{ seq: number; size: number }>`
      SELECT seq, octet_length(data) AS size FROM media_blobs WHERE sha256 = ${sha256} ORDER BY seq`.execute(sqlDb.db);
    expect(chunks.rows).toEqual([
      { seq: 0, size: BLOB_CHUNK_BYTES },
      { seq: 1, size: BLOB_CHUNK_BYTES },
      { seq: 2, size: BLOB_CHUNK_BYTES / 2 },
    ]);

    expect(fs.existsSync(fileOf(b, sha256))).toBe(false);
    // Two downloads at once on B: one copy, both answered.
    const [first, second] = await Promise.all([b.get(sha256), b.get(sha256)]);
    expect(first).toEqual(stored);
    expect(second).toEqual(stored);
    expect(fs.readFileSync(fileOf(b, sha256)).equals(bytes)).toBe(true);
    expect(fs.readdirSync(path.join(b.root, 'tmp'))).toEqual([]);
  });

  it('stores a file once even when two instances store the same bytes', async () => {
    const bytes = crypto.randomBytes(1000);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    await store(instance(), bytes);
    await store(instance(), bytes);
    const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM media_blobs WHERE sha256 = ${sha256}`.execute(
      sqlDb.db,
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('refuses bytes that are not the file its hash names, and leaves nothing behind', async () => {
    const bytes = crypto.randomBytes(5000);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    await store(instance(), bytes);
    const flipped = Buffer.from(bytes);
    flipped[100] = flipped[100]! ^ 0xff;
    await sql`UPDATE media_blobs SET data = ${flipped} WHERE sha256 = ${sha256}`.execute(sqlDb.db);
    const b = instance();
    expect(await b.get(sha256)).toBeNull();
    expect(fs.existsSync(fileOf(b, sha256))).toBe(false);
    expect(fs.readdirSync(path.join(b.root, 'tmp'))).toEqual([]);
  });

  it('forgets the bytes with the file', async () => {
    const bytes = crypto.randomBytes(3000);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    await store(instance(), bytes);
    await sqlDb.db.deleteFrom('media').where('sha256', '=', sha256).execute();
    const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM media_blobs WHERE sha256 = ${sha256}`.execute(
      sqlDb.db,
    );
    expect(rows).toEqual([{ n: 0 }]);
    expect(await instance().get(sha256)).toBeNull();
  });
});
