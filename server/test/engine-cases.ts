/**
 * The engines a ported module's tests run on (issue 18): SQLite always, and
 * PostgreSQL when it is installed (one private instance per test file, started
 * on first use and stopped after the file), each a fresh migrated database:
 *
 *     describe.each(engineCases('the lock-out on PostgreSQL'))('… on %s', (_name, open) => { … });
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll } from 'vitest';
import { openDatabase } from '../src/db/database';
import { migratePostgres, postgresSql, sqliteSql, type SqlDb } from '../src/db/sql';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

export interface EngineCase {
  target: SqlDb;
  /** Lets the database go (and its files, for SQLite). */
  close(): Promise<void>;
}

/** `[engine name, open a fresh database]` pairs; `skips` names what skips without PostgreSQL. */
export function engineCases(skips: string): [string, () => Promise<EngineCase>][] {
  const cases: [string, () => Promise<EngineCase>][] = [
    [
      'SQLite',
      async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-engine-'));
        const handle = openDatabase(dir);
        const target = sqliteSql(handle);
        return {
          target,
          async close() {
            await target.close();
            handle.close();
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    ],
  ];
  if (requirePostgres(skips)) {
    let server: TestPostgres | undefined;
    let databases = 0;
    afterAll(async () => {
      await server?.close();
    });
    cases.push([
      'PostgreSQL',
      async () => {
        server ??= await startPostgres();
        // A database of its own for each case, like SQLite's fresh file.
        const name = `loaxa_case_${++databases}`;
        const admin = postgresSql(server.url, { poolSize: 1 });
        await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
        await admin.close();
        const target = postgresSql(server.url.replace(/\/postgres$/, `/${name}`), { poolSize: 4 });
        await migratePostgres(target);
        return { target, close: () => target.close() };
      },
    ]);
  }
  return cases;
}
