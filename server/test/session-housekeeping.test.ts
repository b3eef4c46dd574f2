/**
 * Expired sessions leave the database: once when the server starts, then every
 * hour (node-cron), whatever the clock says when the job runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { UserService } from '../src/auth/users';
import { openStore, type Store } from '../src/db/open';
import type { SqlDb } from '../src/db/sql';
import { hashToken } from '../src/auth/passwords';
import { startSessionHousekeeping } from '../src/auth/session-housekeeping';
import { createLogger } from '../src/logger';
import { ADMIN_PASSWORD, row, rows, run, sql, startTestServer, type TestServer } from './helpers';
import { freshTestDatabaseUrl } from './test-database';

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

/**
 * A fresh store of the suite's engine, no server on it: a SQLite file in a new data directory, or
 * (LOAXA_TEST_DB=postgres) a new PostgreSQL database, whose URL a server started on it is given.
 */
async function freshStore(): Promise<{ store: Store; dataDir: string; databaseUrl: string | undefined }> {
  const dataDir = tempDir();
  const databaseUrl = await freshTestDatabaseUrl();
  return { store: await openStore({ dataDir, databaseUrl }), dataDir, databaseUrl };
}

/** A session row written straight into the table, as an old server would have left it. */
async function insertSession(db: SqlDb, token: string, expiresAt: number): Promise<void> {
  await run(
    db,
    sql`INSERT INTO sessions (token_hash, username, created_at, expires_at)
        VALUES (${hashToken(token)}, 'admin', ${expiresAt - 7 * DAY}, ${expiresAt})`,
  );
}

const tokens = async (db: SqlDb) =>
  (await rows<{ token_hash: string }>(db, sql`SELECT token_hash FROM sessions ORDER BY expires_at`)).map(
    (r) => r.token_hash,
  );

describe('session housekeeping', () => {
  it('removes expired sessions at once, then those that expire later within the hour after', async () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    // Opened on the real clock (a PostgreSQL database is created and connected to first).
    const { store } = await freshStore();
    const db = store.sql;
    vi.useFakeTimers({ now: t0 });
    const users = new UserService(db);
    await users.create('admin', ADMIN_PASSWORD, 'admin', { communeId: 'default' });
    await insertSession(db, 'expired-yesterday', t0 - DAY);
    await insertSession(db, 'expires-in-two-hours', t0 + 2 * HOUR);
    const live = await users.startSession('admin'); // expires in 7 days

    // The job's purges, tracked so the test lets each finish before the clock passes the next run: on
    // PostgreSQL a purge is a network round trip, which a fake clock does not wait for, and a run still
    // going blocks the next one (noOverlap), so an unfinished 10:17 run would block the 12:17 one.
    const running = new Set<Promise<number>>();
    const purges = {
      purgeExpiredSessions(): Promise<number> {
        const purge = users.purgeExpiredSessions();
        running.add(purge);
        void purge.finally(() => running.delete(purge)).catch(() => {});
        return purge;
      },
    };
    const settled = async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    };
    /** Moves the clock on by `ms`, 10 minutes at a time, each run that starts finishing before the next step. */
    const advance = async (ms: number) => {
      for (let left = ms; left > 0; left -= 10 * 60_000) {
        await vi.advanceTimersByTimeAsync(Math.min(left, 10 * 60_000));
        await settled();
      }
    };

    const housekeeping = await startSessionHousekeeping(purges, createLogger('silent'));
    try {
      expect(await tokens(db)).toEqual([hashToken('expires-in-two-hours'), hashToken(live.token)]);

      // The clock moves on: the two-hour session expires at 12:00 and goes at the next hourly run (12:17).
      await advance(2 * HOUR);
      expect(await tokens(db)).toHaveLength(2); // 12:00: expired, but the job has not run yet
      await advance(20 * 60_000);
      expect(await tokens(db)).toEqual([hashToken(live.token)]);
      expect(await users.userForSession(live.token)).toEqual({
        username: 'admin',
        role: 'admin',
        mustChangePassword: false,
        communeId: 'default',
      });
    } finally {
      housekeeping.stop();
      vi.useRealTimers();
      await store.close();
    }
  });

  it('runs when the server starts: sessions that expired while it was down are gone', async () => {
    const { store, dataDir, databaseUrl } = await freshStore();
    await new UserService(store.sql).create('admin', ADMIN_PASSWORD, 'admin', { communeId: 'default' });
    await insertSession(store.sql, 'expired-while-down', Date.now() - DAY);
    await store.close();

    const server = await startTestServer({
      LOAXA_DATA: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    servers.push(server);
    const left = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ${hashToken('expired-while-down')}`,
    );
    expect(left && Number(left.n)).toBe(0);
    // The test helper's own login is still there.
    expect((await server.api('GET', '/api/v1/session')).status).toBe(200);
  });
});
