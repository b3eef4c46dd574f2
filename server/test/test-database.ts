/**
 * `LOAXA_TEST_DB=postgres` (issue 18): the whole suite on PostgreSQL. The
 * global setup starts one private PostgreSQL for the run and migrates a
 * template database once; every test server then gets a database of its own,
 * copied from the template (`CREATE DATABASE … TEMPLATE`, no migrations), as a
 * SQLite test server gets a fresh file. Without the switch the suite runs on
 * SQLite as always.
 */
import { sql } from 'kysely';
import { inject } from 'vitest';
import { postgresSql } from '../src/db/sql';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's PostgreSQL (`postgres://…/postgres`), when LOAXA_TEST_DB=postgres. */
    testPostgresUrl: string | null;
  }
}

export const TEMPLATE_DATABASE = 'loaxa_template';

/** Which engine this run's test servers use. */
export function testEngine(): 'sqlite' | 'postgres' {
  return process.env.LOAXA_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

let created = 0;

/** `CREATE DATABASE name [TEMPLATE template]` on the server at `url` (its `postgres` database). */
export async function createDatabase(url: string, name: string, template?: string): Promise<string> {
  const admin = postgresSql(url, { poolSize: 1 });
  try {
    await sql.raw(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`).execute(admin.db);
  } finally {
    await admin.close();
  }
  return url.replace(/\/postgres$/, `/${name}`);
}

/**
 * A fresh migrated PostgreSQL database for one test server, as a DATABASE_URL; undefined when
 * the run is on SQLite.
 */
export async function freshTestDatabaseUrl(): Promise<string | undefined> {
  if (testEngine() !== 'postgres') return undefined;
  const url = inject('testPostgresUrl');
  if (!url) throw new Error('LOAXA_TEST_DB=postgres but the global setup started no PostgreSQL');
  return createDatabase(url, `loaxa_t${process.pid}_${++created}`, TEMPLATE_DATABASE);
}

/** Drops a test server's database once it has stopped (the run's PostgreSQL keeps only what is in use). */
export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = postgresSql(url.replace(/\/[^/]+$/, '/postgres'), { poolSize: 1 });
  try {
    await sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(admin.db);
  } finally {
    await admin.close();
  }
}
