/**
 * The production shape of issue 18 on one machine, for `npm run test:cluster`
 * and `npm run bench -- --cluster`: a private PostgreSQL, a 3-node NATS
 * cluster (JetStream + MQTT), two `loaxa serve` processes sharing both, and a
 * TCP balancer in front of them (balancer.ts). Every part is a real process on
 * free loopback ports, stopped by pid.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeInitialNatsAuthorization } from '../../src/broker/nats';
import { postgresSql, type SqlDb } from '../../src/db/sql';
import { waitFor } from '../helpers';
import { startNatsCluster, type NatsConsumerOptions, type TestNatsCluster } from '../nats-cluster';
import { startPostgres, type TestPostgres } from '../postgres';
import { exited, serverProcess, type ServerProcess } from '../processes';
import { createDatabase } from '../test-database';
import { startBalancer, type Balancer } from './balancer';

export const CLUSTER_PASSWORD = 'cluster-test-password';
const SERVER_USER = 'loaxa-server';

export interface Health {
  status: string;
  leader: boolean;
  instance: string;
  devices: number;
  devicesOnline: number;
}

export interface Instance {
  name: string;
  proc: ServerProcess;
  child: ChildProcess | null;
  /** Its health, or null while it does not answer. */
  health(): Promise<Health | null>;
  /** Starts it (again) and waits until it answers. */
  start(): Promise<void>;
  /** kill -9, or SIGTERM for a graceful stop; waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  pg: TestPostgres;
  nats: TestNatsCluster;
  instances: [Instance, Instance];
  balancer: Balancer;
  /** The shared database, for the tests' own reads. */
  sql: SqlDb;
  /** Admin API through the balancer (signs in again when its instance died). */
  api<T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** The instance that runs the scheduler now (waits for one). */
  leader(timeoutMs?: number): Promise<Instance>;
  close(): Promise<void>;
}

export async function startCluster(
  options: { logLevel?: string; capture?: boolean; consumers?: NatsConsumerOptions } = {},
): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-cluster-'));
  const pg = await startPostgres();
  const databaseUrl = await createDatabase(pg.url, 'loaxa_cluster');
  const serverPassword = crypto.randomBytes(16).toString('hex');
  const authFile = path.join(dir, 'loaxa-auth.conf');
  // What an operator writes before the nodes' first start (`loaxa nats-auth-init`): the server's own user.
  writeInitialNatsAuthorization(authFile, SERVER_USER, serverPassword);
  const nats = await startNatsCluster(3, {
    include: authFile,
    probe: { username: SERVER_USER, password: serverPassword },
    ...(options.consumers ? { consumers: options.consumers } : {}),
  });

  const env = {
    DATABASE_URL: databaseUrl,
    NATS_URLS: nats.nodes.map((n) => n.natsUrl).join(','),
    NATS_AUTH_FILE: authFile,
    NATS_PID_FILES: nats.nodes.map((n) => n.pidFile).join(','),
    MQTT_URL: nats.nodes.map((n) => n.mqttUrl).join(','),
    MQTT_USERNAME: SERVER_USER,
    MQTT_PASSWORD: serverPassword,
  };
  const procs: ServerProcess[] = [];
  for (const name of ['a', 'b']) {
    const dataDir = path.join(dir, `instance-${name}`);
    fs.mkdirSync(dataDir);
    procs.push(
      await serverProcess(dataDir, {
        password: CLUSTER_PASSWORD,
        logLevel: options.logLevel ?? 'warn',
        capture: options.capture ?? true,
        env,
      }),
    );
  }
  const balancer = await startBalancer(procs.map((p) => ({ host: '127.0.0.1', port: Number(p.env.PORT) })));
  // Loudspeakers download through the balancer, whichever instance planned them.
  for (const p of procs) p.env.LOAXA_PUBLIC_URL = balancer.url;

  const instance = (name: string, proc: ServerProcess): Instance => {
    const self: Instance = {
      name,
      proc,
      child: null,
      async health() {
        try {
          const res = await fetch(`${proc.url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
          return res.ok ? ((await res.json()) as Health) : null;
        } catch {
          return null;
        }
      },
      async start() {
        self.child = proc.start();
        const child = self.child;
        await waitFor(
          `instance ${name} to answer`,
          async () => {
            if (child.exitCode !== null) throw new Error(`instance ${name} exited: ${proc.output().slice(-3000)}`);
            return (await self.health()) !== null;
          },
          90_000,
          200,
        );
      },
      async stop(signal: NodeJS.Signals = 'SIGKILL') {
        const child = self.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        await exited(child);
      },
    };
    return self;
  };
  const instances: [Instance, Instance] = [instance('a', procs[0]!), instance('b', procs[1]!)];
  // One after the other: the first migrates the empty database and creates the accounts.
  await instances[0].start();
  await instances[1].start();

  let cookie: string | null = null;
  const signIn = async () => {
    const res = await fetch(`${balancer.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: CLUSTER_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`sign-in through the balancer: ${res.status} ${await res.text()}`);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  };
  const api = async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
    // Sessions live in the shared database: one sign-in serves every instance. A request on a
    // connection cut by an instance's death is tried once more, as a browser's retry would.
    for (let attempt = 0; ; attempt++) {
      try {
        cookie ??= await signIn();
        const res = await fetch(`${balancer.url}${p}`, {
          method,
          headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
  };
  const sql = postgresSql(databaseUrl, { poolSize: 2, applicationName: 'loaxa-cluster-test' });

  return {
    pg,
    nats,
    instances,
    balancer,
    sql,
    api,
    async leader(timeoutMs = 15_000) {
      return waitFor(
        'one instance to lead',
        async () => {
          for (const i of instances) if ((await i.health())?.leader) return i;
          return null;
        },
        timeoutMs,
        200,
      );
    },
    async close() {
      for (const i of instances) await i.stop('SIGKILL');
      await balancer.close();
      await sql.close();
      await nats.close();
      await pg.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
