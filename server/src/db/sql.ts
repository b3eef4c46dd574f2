/**
 * One query layer over both engines (issue 18): Kysely, with its SQLite dialect
 * over the better-sqlite3 handle the server already holds, or its PostgreSQL
 * dialect over a `pg` pool (for DATABASE_URL=`postgres://…`, which the server
 * does not read until every module is ported). Queries are
 * written once, as Kysely builders or `sql` templates (Kysely numbers the
 * parameters for each engine); where the engines differ (JSON functions, date
 * arithmetic) a query asks `engine` and says so.
 *
 * Every time is a BIGINT of epoch milliseconds and every flag an integer on
 * both engines, so `pg` is told to give BIGINT (int8) back as a JavaScript
 * number: exact below 2^53, i.e. for ms until the year 287,396.
 */
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { newerSchemaError, type Db } from './database';
import { MIGRATIONS, type Migration } from './migrations';
import { POSTGRES_BASELINE_SQL, POSTGRES_BASELINE_VERSION } from './postgres-schema';

export type Engine = 'sqlite' | 'postgres';

/** The tables are typed where a module is ported; until then rows are what each query says. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tables = any;

export interface SqlDb {
  readonly engine: Engine;
  readonly db: Kysely<Tables>;
  /** Ends the pool (PostgreSQL); the SQLite handle stays its owner's to close. */
  close(): Promise<void>;
}

export type SqlTx = Transaction<Tables>;

/** pg's OID for int8 (BIGINT). */
const INT8_OID = 20;

/**
 * Kysely's SQLite driver hands its one connection over with a mutex that wakes every waiter at each
 * release (each then waits again): n queued queries cost n² wake-ups. Re-planning 5,000 loudspeakers
 * at once queues ≈ 20,000 and the server spent minutes in that lock (seen in `npm run bench --
 * --devices 5000`: no plan went out). This driver lets callers in one at a time, first come first
 * served, so Kysely's own mutex is always free when reached.
 */
export class FifoSqliteDriver extends SqliteDriver {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#held = true;
    try {
      return await super.acquireConnection();
    } catch (err) {
      this.#handOver();
      throw err;
    }
  }

  override async releaseConnection(): Promise<void> {
    try {
      await super.releaseConnection();
    } finally {
      this.#handOver();
    }
  }

  /** The next waiter gets the connection (it stays held), or it is free. */
  #handOver(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}

class FifoSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new FifoSqliteDriver(this.#config);
  }
}

/** Kysely over the server's open SQLite handle (WAL, foreign keys on, migrated: see database.ts). */
export function sqliteSql(handle: Db): SqlDb {
  // Kysely must not close the handle: the server and its raw statements still use it. Statements
  // come from the handle's cache (database.ts), like the raw ones.
  const db = new Kysely<Tables>({
    dialect: new FifoSqliteDialect({
      database: { prepare: (text: string) => handle.prepare(text), close: () => {} },
    }),
  });
  return {
    engine: 'sqlite',
    db,
    async close() {
      await db.destroy();
    },
  };
}

export interface PostgresOptions {
  /** Connections kept by this process (default 10). */
  poolSize?: number;
  /** `application_name`, shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * An idle pooled connection failed (the server restarted or ended it): the pool drops it and the
   * next query opens another, so this only tells. Without a listener pg would throw it.
   */
  onIdleError?: (err: Error) => void;
}

/** Kysely over a `pg` pool to `url` (postgres://user:pass@host:port/db). Nothing is migrated here. */
export function postgresSql(url: string, options: PostgresOptions = {}): SqlDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'loaxa',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as never,
    },
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    db,
    async close() {
      await db.destroy();
    },
  };
}

/** True for the URLs that choose PostgreSQL. */
export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Any lock id is fine as long as every Loa Xã instance on a database uses the same one: the first
 * 8 bytes of sha256("loaxa:migrate") as a signed 64-bit integer.
 */
const MIGRATION_LOCK_ID = '2511070493473204048';

/**
 * Brings a PostgreSQL database to this build's schema, tracked like SQLite's (schema_migrations:
 * version, name, applied_at). An empty database gets the baseline (the schema SQLite reaches at
 * POSTGRES_BASELINE_VERSION) in one transaction and every version up to it recorded; later versions
 * apply their own `postgres` SQL, each in its own transaction. Instances starting together take
 * turns on an advisory lock, so only the first migrates. As on SQLite, a database holding a version
 * this build does not know (written by a newer Loa Xã) is refused. Returns the versions applied.
 */
export async function migratePostgres(target: SqlDb, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  if (target.engine !== 'postgres') throw new Error('migratePostgres: not a PostgreSQL database');
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  return target.db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${sql.raw(MIGRATION_LOCK_ID)})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`.execute(conn);
      const applied = new Set(
        (await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(conn)).rows.map(
          (r) => r.version,
        ),
      );
      const known = new Set(ordered.map((m) => m.version));
      const unknown = [...applied].filter((v) => !known.has(v)).sort((a, b) => a - b);
      if (unknown.length > 0) throw newerSchemaError(unknown, ordered.length);
      const done: number[] = [];
      const record = (tx: SqlTx | typeof conn, m: Migration) =>
        sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`.execute(
          tx,
        );
      if (applied.size === 0) {
        const baseline = ordered.filter((m) => m.version <= POSTGRES_BASELINE_VERSION);
        await conn.transaction().execute(async (tx) => {
          // The schema and the rows SQLite's migrations insert (generation, the first commune).
          await sql.raw(POSTGRES_BASELINE_SQL).execute(tx);
          for (const m of baseline) await record(tx, m);
        });
        for (const m of baseline) applied.add(m.version);
        done.push(...baseline.map((m) => m.version));
      }
      for (const m of ordered) {
        if (applied.has(m.version)) continue;
        if (m.version <= POSTGRES_BASELINE_VERSION || m.postgres === undefined) {
          // Below the baseline a gap means a database started by hand; above it, a migration
          // written for SQLite only: either way this build cannot bring it up to date.
          throw new Error(`database schema: PostgreSQL cannot apply version ${m.version} (${m.name})`);
        }
        const statement = m.postgres;
        await conn.transaction().execute(async (tx) => {
          await sql.raw(statement).execute(tx);
          await record(tx, m);
        });
        done.push(m.version);
      }
      return done;
    } finally {
      await sql`SELECT pg_advisory_unlock(${sql.raw(MIGRATION_LOCK_ID)})`.execute(conn);
    }
  });
}
