/**
 * Vitest global setup: the compiled server, demo and agent bundle (and the console) exist and
 * match the sources before any test spawns a bin (`server/bin/loaxa.mjs`, `loaxa-agent.mjs`),
 * so a fresh clone's `npm test` works and test files never race to build them. Instant when
 * `npm install` already built them and nothing changed since. LOAXA_SKIP_BUILD=1 skips it, for
 * unit tests run while other files are mid-edit (a bin then runs whatever was built last).
 *
 * With LOAXA_TEST_DB=postgres it also starts the run's private PostgreSQL and migrates the
 * template database each test server's database is copied from (server/test/test-database.ts).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migratePostgres, postgresSql } from '../../server/src/db/sql';
import { startPostgres } from '../../server/test/postgres';
import { createDatabase, TEMPLATE_DATABASE, testEngine } from '../../server/test/test-database';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.LOAXA_SKIP_BUILD !== '1') {
    const root = path.resolve(import.meta.dirname, '../..');
    execFileSync(process.execPath, [path.join(root, 'scripts/ensure-built.mjs')], { cwd: root, stdio: 'inherit' });
  }
  if (testEngine() !== 'postgres') {
    project.provide('testPostgresUrl', null);
    return undefined;
  }
  const server = await startPostgres();
  const template = postgresSql(await createDatabase(server.url, TEMPLATE_DATABASE), { poolSize: 1 });
  try {
    await migratePostgres(template);
  } finally {
    await template.close();
  }
  console.log(`[loaxa] the suite runs on PostgreSQL (${server.url}, pid ${server.pid})`);
  project.provide('testPostgresUrl', server.url);
  return () => server.close();
}
