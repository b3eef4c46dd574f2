/**
 * The real server and a simulated fleet as separate OS processes, for tests
 * that kill -9 or SIGTERM the server and start it again on the same data.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { RawBuilder } from 'kysely';
import { freePort, rows, sql } from './helpers';
import { openStore } from '../src/db/open';
import { postgresSql, sqliteSql } from '../src/db/sql';
import { EventHub } from '../src/events/hub';
import { DeviceRegistry } from '../src/devices/registry';
import { freshTestDatabaseUrl } from './test-database';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const children: ChildProcess[] = [];

/** For afterAll: SIGKILL every process these helpers started that still runs. */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the exit code once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve(child.exitCode)
      : child.once('exit', (code) => resolve(code)),
  );
}

export interface Provisioned {
  dataDir: string;
  devices: { deviceId: string; secret: string }[];
  /** The devices as JSON for `firmware-sim --devices-file`. */
  devicesFile: string;
}

/**
 * The PostgreSQL database of each data directory, when the suite runs on PostgreSQL
 * (LOAXA_TEST_DB=postgres): created at the directory's first use, then the same for every start.
 */
const databases = new Map<string, Promise<string | undefined>>();

/** DATABASE_URL for the servers on `dataDir`; undefined on SQLite. */
export function databaseUrlFor(dataDir: string): Promise<string | undefined> {
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = freshTestDatabaseUrl()));
  return url;
}

/** Moves a data directory; its servers keep their database (the same PostgreSQL one, when used). */
export function moveDataDir(from: string, to: string): void {
  fs.renameSync(from, to);
  const url = databases.get(from);
  if (url) databases.set(to, url);
}

/** A fresh data directory with zone `thon-a` and `count` devices in it, written before the first start. */
export async function provision(prefix: string, count: number): Promise<Provisioned> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `loaxa-${prefix}-`));
  const store = await openStore({ dataDir, databaseUrl: await databaseUrlFor(dataDir) });
  const sqlDb = store.sql;
  const registry = new DeviceRegistry(sqlDb, new EventHub());
  await registry.createZone('Thôn A', 'default', 'thon-a');
  const devices: { deviceId: string; secret: string }[] = [];
  for (let i = 0; i < count; i++) {
    const deviceId = `${prefix}-${i}`;
    devices.push({
      deviceId,
      secret: (await registry.createDevice({ communeId: 'default', id: deviceId, zones: ['thon-a'] })).secret,
    });
  }
  await store.close();
  const devicesFile = path.join(dataDir, 'devices.json');
  fs.writeFileSync(devicesFile, JSON.stringify(devices));
  return { dataDir, devices, devicesFile };
}

export interface ServerProcess {
  url: string;
  mqttUrl: string;
  /** The server's environment: what the `loaxa` CLI needs to find it and its data. */
  env: NodeJS.ProcessEnv;
  /** Spawns `loaxa serve` (the compiled server, as production runs it) on the same ports and data each time. */
  start(): ChildProcess;
  /** Everything the server processes printed, when started with `capture`. */
  output(): string;
  /** Signs in as admin and returns the cookie header value. */
  login(): Promise<string>;
  /** Signs in as admin and returns a JSON caller for the API. */
  adminApi(): Promise<
    <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>
  >;
  /** `loaxa device add <id> --zone <zone> --player null` against this server: the agent config it prints. */
  addDevice(deviceId: string, zone: string): Promise<AgentConfigJson>;
}

/** What `loaxa device add` prints for the agent. */
export interface AgentConfigJson {
  deviceId: string;
  serverUrl: string;
  mqttUrl: string;
  secret: string;
  [key: string]: unknown;
}

export async function serverProcess(
  dataDir: string,
  /** password null: none given, so the first start generates one (and login() cannot sign in). */
  options: {
    password: string | null;
    logLevel?: string;
    capture?: boolean;
    /** More environment, over the rest (a cluster instance's DATABASE_URL, NATS_URLS…). */
    env?: Record<string, string>;
  },
): Promise<ServerProcess> {
  const databaseUrl = options.env?.DATABASE_URL ?? (await databaseUrlFor(dataDir));
  const env = {
    ...process.env,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    MQTT_PORT: String(await freePort()),
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    // Notices start with their words: every played notice is 4 s shorter (the chime has its unit tests).
    LOAXA_CHIME: 'off',
    LOAXA_ADMIN_PASSWORD: options.password ?? '',
    LOG_LEVEL: options.logLevel ?? 'warn',
    ...options.env,
  };
  const url = `http://127.0.0.1:${env.PORT}`;
  let output = '';
  const login = async () => {
    const res = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: options.password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  };
  return {
    url,
    mqttUrl: `mqtt://127.0.0.1:${env.MQTT_PORT}`,
    env,
    start() {
      const child = spawn(process.execPath, [path.join(ROOT, 'server/bin/loaxa.mjs'), 'serve'], {
        env,
        cwd: ROOT,
        stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'ignore',
      });
      child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
      children.push(child);
      return child;
    },
    output: () => output,
    login,
    async adminApi() {
      const cookie = await login();
      return async <T = Record<string, unknown>>(method: string, p: string, body?: unknown) => {
        const res = await fetch(`${url}${p}`, {
          method,
          headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: res.status, body: (await res.json()) as T };
      };
    },
    async addDevice(deviceId, zone) {
      const { stdout } = await run(
        process.execPath,
        // A test bench has no sound card: ask for the silent player explicitly.
        [path.join(ROOT, 'server/bin/loaxa.mjs'), 'device', 'add', deviceId, '--zone', zone, '--player', 'null'],
        { env },
      );
      return JSON.parse(stdout) as AgentConfigJson;
    },
  };
}

/** The firmware simulator running the devices of `devicesFile` against the server. */
export function startFleet(server: ServerProcess, devicesFile: string): ChildProcess {
  const args = ['--server-url', server.url, '--mqtt-url', server.mqttUrl, '--devices-file', devicesFile];
  const fleet = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'firmware-sim/src/cli.ts'), ...args, '--log-level', 'warn'],
    { cwd: ROOT, stdio: 'ignore' },
  );
  children.push(fleet);
  return fleet;
}

/**
 * The rows a query returns from the database of the servers on `dataDir` (the server may be
 * running or dead): the SQLite file opened read-only, or the directory's PostgreSQL database.
 */
export async function readDb<T>(dataDir: string, query: RawBuilder<T>): Promise<T[]> {
  const url = await databaseUrlFor(dataDir);
  if (url) {
    const target = postgresSql(url, { poolSize: 1, applicationName: 'loaxa-test-read' });
    try {
      return await rows(target, query);
    } finally {
      await target.close();
    }
  }
  const handle = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
  const target = sqliteSql(handle);
  try {
    return await rows(target, query);
  } finally {
    await target.close();
    handle.close();
  }
}

/** Devices online according to the server's health route. */
export async function devicesOnline(server: ServerProcess): Promise<number> {
  return ((await (await fetch(`${server.url}/api/v1/health`)).json()) as { devicesOnline: number }).devicesOnline;
}

/** How many devices have finished occurrence `id`, by the database of the servers on `dataDir`. */
export async function finishedOn(dataDir: string, id: string): Promise<number> {
  const [row] = await readDb(
    dataDir,
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ${id} AND stage = 'finished'`,
  );
  return Number(row?.n ?? 0);
}
