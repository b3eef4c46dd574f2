import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, startServer, type RunningServer } from '../src/index';
import { createLogger } from '../src/logger';
import type { Logger } from 'pino';
import { sql, type RawBuilder } from 'kysely';
import type { SqlDb } from '../src/db/sql';
import { freshTestDatabaseUrl } from './test-database';
import { removeAtExit } from './remove-at-exit';

/** The PostgreSQL database each test data directory got (LOAXA_TEST_DB=postgres). */
const databaseOfDataDir = new Map<string, string>();

/**
 * Kysely's SQL template, for tests that read or arrange rows directly on either engine:
 * `await rows<{ id: string }>(server, sql\`SELECT id FROM devices WHERE zone_id = ${zone}\`)`.
 * Values are parameters ($1 on PostgreSQL, ? on SQLite); write SQL both engines accept.
 */
export { sql };

type HasSql = { services: { sql: SqlDb } } | SqlDb;
const sqlOf = (target: HasSql): SqlDb => ('services' in target ? target.services.sql : target);

/** The rows a query returns on the test server's database (SQLite or PostgreSQL). */
export async function rows<T>(target: HasSql, query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(sqlOf(target).db)).rows;
}

/** The first row a query returns, or undefined. */
export async function row<T>(target: HasSql, query: RawBuilder<T>): Promise<T | undefined> {
  return (await rows(target, query))[0];
}

/** Runs a statement; resolves to the number of rows it changed. */
export async function run(target: HasSql, query: RawBuilder<unknown>): Promise<number> {
  return Number((await query.execute(sqlOf(target).db)).numAffectedRows ?? 0);
}

export const ADMIN_PASSWORD = 'test-admin-password';
/** Password of `tinh`, the province administrator every test server has. */
export const PROVINCE_PASSWORD = 'test-province-password';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Cookie header value of a signed-in admin. */
  cookie: string;
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** A small HTTP(S) client that can trust a given CA (fetch cannot, on Node 20, without undici). */
function request(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  ca?: Buffer,
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: init.method, headers: init.headers, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The real server on free loopback ports with a fresh data directory. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { ca?: Buffer; logger?: Logger; now?: () => number } = {},
): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-test-'));
  removeAtExit(dataDir);
  // LOAXA_TEST_DB=postgres: a database of its own, copied from the run's migrated template; a
  // restart on the same data directory (LOAXA_DATA) finds the same database again.
  let databaseUrl: string | undefined;
  if (!env.DATABASE_URL) {
    databaseUrl = env.LOAXA_DATA ? databaseOfDataDir.get(env.LOAXA_DATA) : undefined;
    databaseUrl ??= await freshTestDatabaseUrl();
  }
  const config = loadConfig({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    // Notices start with their words: every played notice is 4 s shorter (the chime has its unit tests).
    LOAXA_CHIME: 'off',
    LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOAXA_PROVINCE_PASSWORD: PROVINCE_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  if (databaseUrl) databaseOfDataDir.set(config.dataDir, databaseUrl);
  const server = await startServer(config, {
    logger: options.logger ?? createLogger(config.logLevel),
    ...(options.now ? { now: options.now } : {}),
  });
  const login = await request(
    `${server.url}/api/v1/session`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    },
    options.ca,
  );
  if (login.status !== 200) throw new Error(`test login failed: ${login.status}`);
  const cookie = (login.headers['set-cookie']?.[0] ?? '').split(';')[0]!;

  const api = async <T>(method: string, url: string, body?: unknown) => {
    const res = await request(
      `${server.url}${url}`,
      {
        method,
        headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      options.ca,
    );
    return { status: res.status, body: (res.text ? JSON.parse(res.text) : null) as T };
  };
  const close = server.close.bind(server);
  return {
    ...server,
    dataDir,
    cookie,
    api,
    /**
     * Stops the server; the data directory is removed at process exit. A PostgreSQL database
     * stays for a restart on the same directory; the run's PostgreSQL goes with its data at the end.
     */
    async close() {
      await close();
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Signs in to `server` as another user; returns an api() bound to that session. */
export async function signIn(
  server: Pick<TestServer, 'url'>,
  username: string,
  password: string,
): Promise<TestServer['api']> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return async <T>(method: string, url: string, body?: unknown) => {
    const r = await fetch(`${server.url}${url}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

/** Signs in as `tinh`, the province administrator (acts across communes, creates them). */
export function signInProvince(server: Pick<TestServer, 'url'>): Promise<TestServer['api']> {
  return signIn(server, 'tinh', PROVINCE_PASSWORD);
}

/**
 * A new commune with a user of `role` in it (username `${role}-${commune id}`),
 * made by the province administrator; returns the commune's id and the user's api().
 */
export async function communeWithUser(
  server: Pick<TestServer, 'url'>,
  name: string,
  role: 'admin' | 'approver' | 'editor' | 'technician' | 'viewer' = 'admin',
): Promise<{ id: string; api: TestServer['api']; province: TestServer['api'] }> {
  const province = await signInProvince(server);
  const created = await province<{ id: string }>('POST', '/api/v1/communes', { name });
  if (created.status !== 201)
    throw new Error(`creating commune ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  const { id } = created.body;
  const username = `${role}-${id}`;
  const password = `${username}-password`;
  const user = await province('POST', '/api/v1/users', { username, password, role, commune: id });
  if (user.status !== 201) throw new Error(`creating ${username}: ${user.status} ${JSON.stringify(user.body)}`);
  return { id, api: await signIn(server, username, password), province };
}

/** An occurrence as GET /api/v1/occurrences/{id} answers it, with what the tests read. */
export interface FinishedOccurrence {
  id: string;
  title: string;
  sha256: string;
  startAt: string;
  durationMs: number;
  deliveries: { deviceId: string; stage: string }[];
}

/** Waits until every loudspeaker the occurrence went to has finished playing it. */
export function waitForFinished(
  server: Pick<TestServer, 'api'>,
  id: string,
  timeoutMs = 60_000,
): Promise<FinishedOccurrence> {
  return waitFor(
    `occurrence ${id} to finish on every loudspeaker`,
    async () => {
      const { body } = await server.api<FinishedOccurrence>('GET', `/api/v1/occurrences/${id}`);
      return body.deliveries.length > 0 && body.deliveries.every((d) => d.stage === 'finished') && body;
    },
    timeoutMs,
  );
}

/**
 * Opens the live event stream (`/api/v1/events`) at `baseUrl` as `cookie`; returns what it has
 * carried so far, as it grows (raw text), until `signal` aborts it.
 */
export async function openEventStream(baseUrl: string, cookie: string, signal: AbortSignal): Promise<() => string> {
  const res = await fetch(`${baseUrl}/api/v1/events`, { headers: { cookie }, signal });
  if (res.status !== 200) throw new Error(`event stream: ${res.status} ${await res.text()}`);
  let text = '';
  const decoder = new TextDecoder();
  void (async () => {
    const reader = res.body!.getReader();
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) return;
      text += decoder.decode(chunk.value, { stream: true });
    }
  })();
  return () => text;
}
