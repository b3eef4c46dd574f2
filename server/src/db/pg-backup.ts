/**
 * Backup and restore when the store is PostgreSQL (DATABASE_URL): PostgreSQL's
 * own tools, `pg_dump --format=custom` (consistent while the servers run: one
 * snapshot) and `pg_restore`. Media live in the database too (media_blobs), so
 * a dump is the whole installation's content. The tools must be of the
 * server's major version or newer (Debian: apt-get install postgresql-client).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { postgresSql } from './sql';

const run = promisify(execFile);

/** pg_dump / pg_restore: on PATH, else the newest Debian server's bin directory. */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const candidate = path.join(root, v, 'bin', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed (apt-get install postgresql-client)`);
}

async function schemaVersion(url: string): Promise<number> {
  const target = postgresSql(url, { poolSize: 1, applicationName: 'loaxa-backup' });
  try {
    const row = (await sql<{ v: number | null }>`SELECT MAX(version) AS v FROM schema_migrations`.execute(target.db))
      .rows[0];
    return Number(row?.v ?? 0);
  } finally {
    await target.close();
  }
}

function toolError(tool: string, err: unknown): Error {
  const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
  return new Error(`${tool} failed: ${stderr || (err as Error).message}`);
}

/** Dumps the database at `url` into `file` (written as file.partial, then renamed; owner-only). */
export async function pgDump(url: string, file: string): Promise<{ bytes: number; version: number }> {
  const version = await schemaVersion(url);
  const temp = `${file}.partial`;
  try {
    await run(pgTool('pg_dump'), ['--format=custom', '--no-owner', `--file=${temp}`, `--dbname=${url}`]);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw toolError('pg_dump', err);
  }
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
  return { bytes: fs.statSync(file).size, version };
}

/**
 * Restores a pg_dump file into the database at `url`, replacing what it holds, in one transaction
 * (a failure leaves the database as it was). The restored database is a new generation, as on
 * SQLite (see backup.ts): devices then take the plans it numbers.
 */
export async function pgRestore(url: string, file: string): Promise<{ version: number }> {
  if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
  try {
    await run(pgTool('pg_restore'), [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${url}`,
      file,
    ]);
  } catch (err) {
    throw toolError('pg_restore', err);
  }
  const target = postgresSql(url, { poolSize: 1, applicationName: 'loaxa-restore' });
  try {
    await sql`INSERT INTO meta (key, value) VALUES ('generation', substr(md5(gen_random_uuid()::text), 1, 16))
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(target.db);
  } finally {
    await target.close();
  }
  return { version: await schemaVersion(url) };
}
