/**
 * `loaxa backup` while the server runs and writes; `loaxa restore` refuses a
 * running server and bad files, and brings the data back.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { startTestServer, type TestServer } from '../helpers';
import { testEngine } from '../test-database';

const run = promisify(execFile);
const LOAXA = path.resolve(import.meta.dirname, '../../bin/loaxa.mjs');
let server: TestServer;
let port: string;

const env = () => ({ ...process.env, LOAXA_DATA: server.dataDir, PORT: port, LOG_LEVEL: 'silent' });

// The SQLite file's copy; PostgreSQL's (pg_dump / pg_restore through the same commands) is tested
// in pg-backup-postgres.test.ts and, through the command line, in restore-plans.test.ts.
const onPostgres = testEngine() === 'postgres';
if (onPostgres) console.log('[backup] skipped: it copies the SQLite file; the suite runs on PostgreSQL');

beforeAll(async () => {
  if (onPostgres) return;
  server = await startTestServer();
  port = new URL(server.url).port;
});
afterAll(async () => {
  await server?.close();
});

describe.skipIf(onPostgres)('backup and restore', () => {
  it('backs up online while writes continue, then restores after the server stops', async () => {
    for (let i = 0; i < 20; i++) await server.api('POST', '/api/v1/zones', { name: `Thôn ${i}` });
    const file = path.join(server.dataDir, 'backup.sqlite');
    // Keep writing during the backup.
    const writes = (async () => {
      for (let i = 20; i < 60; i++) await server.api('POST', '/api/v1/zones', { name: `Thôn ${i}` });
    })();
    const { stderr } = await run(process.execPath, [LOAXA, 'backup', file], { env: env() });
    await writes;
    expect(stderr).toMatch(/backed up .* schema version \d+/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600); // password hashes and TTS keys inside
    const backedUp = new (await import('better-sqlite3')).default(file, { readonly: true });
    const zonesInBackup = (backedUp.prepare('SELECT COUNT(*) AS n FROM zones').get() as { n: number }).n;
    backedUp.close();
    expect(zonesInBackup).toBeGreaterThanOrEqual(20);
    expect(zonesInBackup).toBeLessThanOrEqual(60);

    const refused = run(process.execPath, [LOAXA, 'restore', file], { env: env() });
    await expect(refused).rejects.toMatchObject({ stderr: expect.stringMatching(/server is running.*stop it/) });

    const junk = path.join(server.dataDir, 'junk.sqlite');
    fs.writeFileSync(junk, 'not a database');
    await server.close();
    await expect(run(process.execPath, [LOAXA, 'restore', junk], { env: env() })).rejects.toMatchObject({
      stderr: expect.stringMatching(/not an SQLite database|not a Loa Xã database/),
    });

    const { stderr: restored } = await run(process.execPath, [LOAXA, 'restore', file], { env: env() });
    expect(restored).toMatch(/previous database is kept as/);
    const db = openDatabase(server.dataDir);
    expect((db.prepare('SELECT COUNT(*) AS n FROM zones').get() as { n: number }).n).toBe(zonesInBackup);
    db.close();
  });
});
