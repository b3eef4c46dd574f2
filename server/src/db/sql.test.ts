/**
 * The SQLite side of the query layer hands its one connection to queries first come first
 * served, at a cost that grows with the number waiting, not with its square (Kysely's own mutex
 * woke every waiter at each release: re-planning 5,000 loudspeakers queued ≈ 20,000 queries and
 * the server spent minutes in that lock).
 */
import { createHook } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqliteSql } from './sql';

function memoryDb() {
  const handle = new Database(':memory:');
  return { handle, db: sqliteSql(handle as never).db };
}

describe('SQLite query layer under many waiting queries', () => {
  it('runs queries in the order they asked, and a transaction holds the connection to its end', async () => {
    const { handle, db } = memoryDb();
    await sql`CREATE TABLE log (n INTEGER)`.execute(db);
    const done: number[] = [];
    const tx = db.transaction().execute(async (t) => {
      await sql`INSERT INTO log VALUES (-1)`.execute(t);
      await new Promise((r) => setTimeout(r, 20));
      await sql`INSERT INTO log VALUES (-2)`.execute(t);
    });
    const queries = Array.from({ length: 200 }, (_, i) =>
      sql`INSERT INTO log VALUES (${i})`.execute(db).then(() => done.push(i)),
    );
    await Promise.all([tx, ...queries]);
    expect(done).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const rows = handle.prepare('SELECT n FROM log').all() as { n: number }[];
    expect(rows.map((r) => r.n)).toEqual([-1, -2, ...Array.from({ length: 200 }, (_, i) => i)]);
    handle.close();
  });

  it('does work per query that does not grow with the number of queries waiting at once', async () => {
    const { handle, db } = memoryDb();
    // Promises created per query, counted by async_hooks: a machine-independent measure of the
    // wake-ups. Kysely's own mutex, same queries: 525 per query with 1,000 waiting, 2,022 with 4,000.
    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++;
      },
    });
    const perQuery = async (n: number) => {
      promises = 0;
      hook.enable();
      try {
        await Promise.all(Array.from({ length: n }, () => sql`SELECT 1`.execute(db)));
      } finally {
        hook.disable();
      }
      return promises / n;
    };
    const few = await perQuery(1_000);
    const many = await perQuery(4_000);
    console.log(`[sql] promises per query: ${few.toFixed(1)} with 1,000 waiting, ${many.toFixed(1)} with 4,000`);
    expect(many).toBeLessThan(few * 1.5);
    expect(many).toBeLessThan(100);
    handle.close();
  });
});
