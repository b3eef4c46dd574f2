/**
 * The server's store: PostgreSQL when DATABASE_URL is set (shared by every
 * instance, migrated by whichever starts first), else the embedded SQLite file
 * in the data directory. Either way the rest of the server sees one `SqlDb`.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openDatabase } from './database';
import { isPostgresUrl, migratePostgres, postgresSql, sqliteSql, type SqlDb } from './sql';

export interface Store {
  sql: SqlDb;
  /** Ends the pool, or closes the SQLite file. */
  close(): Promise<void>;
}

/** host:port/database of a PostgreSQL URL, never its password (for errors and the log). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

export class StoreError extends Error {
  override name = 'StoreError';
}

export async function openStore(
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  logger?: Logger,
  /** Shown in pg_stat_activity; the host and pid by default. */
  applicationName = `loaxa:${os.hostname()}:${process.pid}`,
): Promise<Store> {
  if (!isPostgresUrl(config.databaseUrl)) {
    const handle = openDatabase(config.dataDir);
    const target = sqliteSql(handle);
    return {
      sql: target,
      async close() {
        await target.close();
        handle.close();
      },
    };
  }
  const where = describePostgresUrl(config.databaseUrl);
  const target = postgresSql(config.databaseUrl, {
    applicationName: applicationName.slice(0, 63),
    onIdleError: (err) => logger?.warn({ err: err.message, database: where }, 'a PostgreSQL connection was lost'),
  });
  try {
    const applied = await migratePostgres(target);
    if (applied.length > 0) logger?.info({ database: where, applied }, 'database migrated');
  } catch (err) {
    await target.close();
    const code = (err as { code?: string }).code;
    const reason = err instanceof Error ? err.message : String(err);
    // Connection problems name the server; schema problems (a newer database) keep their own words.
    if (code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28P01|28000|3D000)$/.test(code)) {
      throw new StoreError(`DATABASE_URL: cannot use PostgreSQL at ${where}: ${reason}`);
    }
    throw err;
  }
  logger?.info({ database: where }, 'using PostgreSQL');
  return { sql: target, close: () => target.close() };
}
