/**
 * Expired sessions leave the database: once when the server starts, then every
 * hour (node-cron), whatever the clock says when the job runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../src/db/database';
import { UserService } from '../src/auth/users';
import { sqliteSql } from '../src/db/sql';
import { hashToken } from '../src/auth/passwords';
import { startSessionHousekeeping } from '../src/auth/session-housekeeping';
import { createLogger } from '../src/logger';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-sessions-'));
  dirs.push(d);
  return d;
}

/** A session row written straight into the table, as an old server would have left it. */
function insertSession(db: Db, token: string, expiresAt: number): void {
  db.prepare('INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
    hashToken(token),
    'admin',
    expiresAt - 7 * DAY,
    expiresAt,
  );
}

const tokens = (db: Db) =>
  (db.prepare('SELECT token_hash FROM sessions ORDER BY expires_at').all() as { token_hash: string }[]).map(
    (r) => r.token_hash,
  );

describe('session housekeeping', () => {
  it('removes expired sessions at once, then those that expire later within the hour after', async () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    vi.useFakeTimers({ now: t0 });
    const db = openDatabase(tempDir());
    const sqlDb = sqliteSql(db);
    const users = new UserService(sqlDb);
    await users.create('admin', ADMIN_PASSWORD, 'admin', { communeId: 'default' });
    insertSession(db, 'expired-yesterday', t0 - DAY);
    insertSession(db, 'expires-in-two-hours', t0 + 2 * HOUR);
    const live = await users.startSession('admin'); // expires in 7 days

    const housekeeping = await startSessionHousekeeping(users, createLogger('silent'));
    try {
      expect(tokens(db)).toEqual([hashToken('expires-in-two-hours'), hashToken(live.token)]);

      // The clock moves on: the two-hour session expires at 12:00 and goes at the next hourly run (12:17).
      await vi.advanceTimersByTimeAsync(2 * HOUR);
      expect(tokens(db)).toHaveLength(2); // 12:00: expired, but the job has not run yet
      await vi.advanceTimersByTimeAsync(20 * 60_000);
      // The purge is asynchronous: give it its turns (waitFor moves the fake clock by a few ms only).
      await vi.waitFor(() => expect(tokens(db)).toEqual([hashToken(live.token)]));
      expect(await users.userForSession(live.token)).toEqual({
        username: 'admin',
        role: 'admin',
        mustChangePassword: false,
        communeId: 'default',
      });
    } finally {
      housekeeping.stop();
      await sqlDb.close();
      db.close();
    }
  });

  it('runs when the server starts: sessions that expired while it was down are gone', async () => {
    const dataDir = tempDir();
    const db = openDatabase(dataDir);
    await new UserService(sqliteSql(db)).create('admin', ADMIN_PASSWORD, 'admin', { communeId: 'default' });
    insertSession(db, 'expired-while-down', Date.now() - DAY);
    db.close();

    const server = await startTestServer({ LOAXA_DATA: dataDir });
    servers.push(server);
    const rows = server.services.db
      .prepare('SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ?')
      .get(hashToken('expired-while-down'));
    expect(rows).toEqual({ n: 0 });
    // The test helper's own login is still there.
    expect((await server.api('GET', '/api/v1/session')).status).toBe(200);
  });
});
