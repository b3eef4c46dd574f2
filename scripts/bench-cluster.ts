/**
 * The cluster mode of the benchmark (issue 18): `npm run bench -- --cluster --devices 2000`.
 * The same simulated fleet, measured the same way, twice in one run:
 *   1. single: one `loaxa serve` process (SQLite, embedded broker), as a site runs it;
 *   2. cluster: the production shape of server/test/cluster/harness.ts — a private
 *      PostgreSQL, 3 NATS nodes (JetStream, MQTT, stream_replicas 3), two `loaxa serve`
 *      instances and a TCP balancer; each device gets its own order over the three nodes
 *      from provisioning (agentConfig.mqttUrl + mqttUrls) and the fleet processes use it.
 * Both are compiled servers in their own processes, provisioned through POST /api/v1/devices
 * (real credentials: on the cluster each one goes through the NATS authorization file), and
 * measured by the same functions: provisioning time, connect time (all devices online in the
 * registry), an emergency to all zones (API call → each device's "started" ack: p50/p95/p99,
 * reach = devices that played / devices online), scheduled start skew, RSS and CPU time of
 * every process. The cluster's figures are then divided by the single server's.
 * Writes reports/bench-cluster-latest.json and .md.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseNatsAuthorization } from '../server/src/broker/nats';
import { sqliteSql, type SqlDb } from '../server/src/db/sql';
import { startCluster, type Cluster } from '../server/test/cluster/harness';
import { row, rows, sql, waitFor } from '../server/test/helpers';
import { describeNatsConsumers, NATS_SERVER_BIN, type NatsConsumerOptions } from '../server/test/nats-cluster';
import { POSTGRES_BIN_DIR } from '../server/test/postgres';
import { exited, serverProcess } from '../server/test/processes';
import { pct, sleep, spawnFleetProcess, splitFleet, type FleetDevice } from './bench-fleet';
import {
  cpuSecondsOfPid,
  machineAvailableBytes,
  machineBusySeconds,
  pidAndChildren,
  pssOfPid,
  rssOfPid,
} from './bench-measure';

const ROOT = path.resolve(import.meta.dirname, '..');
const SINGLE_PASSWORD = 'bench-cluster-password';
/** Quiet time after the last device connected before the connected-RSS reading (as bench.ts). */
const SETTLE_MS = 15_000;
/** Emergencies and scheduled broadcasts measured, after one warm-up each; the run with the median p99 is reported. */
const RUNS = 3;
/** Above this 1-minute load average before a deployment starts, its figures are flagged as not to keep. */
const MAX_LOAD = 3;
/**
 * Above this CPU (cores) used by processes not of this run, on average over a measured phase, its
 * figures are flagged too: the load average counts this run's own processes, this does not.
 */
const MAX_FOREIGN_CORES = 0.5;
/** The connect phase is stopped when the machine has less memory than this left (it is shared). */
const MIN_AVAILABLE_BYTES = 3 * 1024 ** 3;
const EMERGENCY_TEXT = 'Khẩn cấp: nước lũ đang lên, bà con vùng trũng di chuyển ngay đến nơi an toàn.';
const SCHEDULED_TEXT = 'Thông báo lịch tiêm phòng cho gia súc vào sáng thứ bảy.';

export interface ClusterBenchOptions {
  devices: number;
  zones: number;
  /** Fleet processes (each target gets the same number). */
  processes: number;
  leadMs: number;
  provisionConcurrency: number;
  connectTimeoutMs: number;
  /** How the NATS nodes keep MQTT session consumers (default: 3 replicas on disk). */
  consumers: NatsConsumerOptions;
}

/** What measure() is told besides the options: the load average before the deployment was started. */
type MeasureOptions = ClusterBenchOptions & { loadBefore: number };

type Api = <T = Record<string, unknown>>(
  method: string,
  p: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;

/** One measured deployment: where its devices and the API are, its database, its processes. */
interface Target {
  name: 'single' | 'cluster';
  /** What the devices download from (the balancer for the cluster). */
  serverUrl: string;
  /** The fleet's default broker (each device's own list comes from provisioning). */
  mqttUrl: string;
  api: Api;
  db: SqlDb;
  /** Every process of the deployment, by component; `tree`: the pid and its children, summed. */
  processes(): { component: string; pid: number; tree?: boolean }[];
  /** Each API the warm-up emergency goes through (on the cluster: each instance directly). */
  warmUpApis(): Promise<Api[]>;
  /** Resolves once the broker knows every provisioned credential, or rejects. */
  credentialsInForce(devices: number): Promise<void>;
}

interface Provisioned {
  deviceId: string;
  secret: string;
  mqttUrl: string;
  mqttUrls?: string[];
}

interface ComponentMemory {
  /** RSS (a tree: the sum of its processes' RSS, shared pages counted in each), MB. */
  rssMb: number;
  /** Proportional set size (shared pages divided among the processes), MB. */
  pssMb: number;
}

/**
 * What to stop if the run is interrupted (Ctrl-C, `timeout`): the finally blocks do not run on a
 * signal, and every process of the run must still be stopped by its pid.
 */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench --cluster: ${signal}, stopping every process of the run`);
    void Promise.allSettled([...cleanups].map((stop) => stop())).then(() => process.exit(130));
  });
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const round2 = (n: number) => Math.round(n * 100) / 100;
const loadNow = () => round2(os.loadavg()[0]!);

function memoryOf(p: { pid: number; tree?: boolean }): ComponentMemory {
  const pids = p.tree ? pidAndChildren(p.pid) : [p.pid];
  return {
    rssMb: mb(pids.reduce((sum, pid) => sum + rssOfPid(pid), 0)),
    pssMb: mb(pids.reduce((sum, pid) => sum + pssOfPid(pid), 0)),
  };
}

/** CPU seconds; a tree: its root with its exited children, and the live ones. */
function cpuOf(p: { pid: number; tree?: boolean }): number {
  if (!p.tree) return cpuSecondsOfPid(p.pid);
  const [root, ...children] = pidAndChildren(p.pid);
  return cpuSecondsOfPid(root!, { reaped: true }) + children.reduce((sum, pid) => sum + cpuSecondsOfPid(pid), 0);
}

/** Peak RSS/PSS of every component, sampled each second while running. */
function memorySampler(components: () => { component: string; pid: number; tree?: boolean }[]) {
  const peaks: Record<string, ComponentMemory> = {};
  const sample = () => {
    for (const c of components()) {
      const m = memoryOf(c);
      const peak = (peaks[c.component] ??= { rssMb: 0, pssMb: 0 });
      peak.rssMb = Math.max(peak.rssMb, m.rssMb);
      peak.pssMb = Math.max(peak.pssMb, m.pssMb);
    }
  };
  const timer = setInterval(sample, 1_000);
  return {
    peaks,
    snapshot: (): Record<string, ComponentMemory> =>
      Object.fromEntries(components().map((c) => [c.component, memoryOf(c)])),
    cpu: (): Record<string, number> => Object.fromEntries(components().map((c) => [c.component, cpuOf(c)])),
    stop: () => clearInterval(timer),
  };
}

/** Runs `count` jobs, `concurrency` at a time, in order of index. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

/**
 * How many devices started `occurrenceId` by the fleet processes' own account (their agents'
 * "started" acks as made, before any broker): beside the acks the server stored, it tells a
 * command never heard from an ack lost or late on the way back.
 */
async function startedOnDevices(
  fleet: readonly ChildProcess[],
  occurrenceId: string,
): Promise<{ started: number; skipped: number }> {
  const counts = await Promise.all(
    fleet.map(
      (child) =>
        new Promise<{ started: number; skipped: number }>((resolve) => {
          const timer = setTimeout(() => {
            child.off('message', onMessage);
            resolve({ started: 0, skipped: 0 });
          }, 10_000);
          const onMessage = (m: {
            type?: string;
            occurrenceId?: string;
            deviceIds?: string[];
            skippedIds?: string[];
          }) => {
            if (m.type !== 'started-by' || m.occurrenceId !== occurrenceId) return;
            clearTimeout(timer);
            child.off('message', onMessage);
            resolve({ started: m.deviceIds?.length ?? 0, skipped: m.skippedIds?.length ?? 0 });
          };
          child.on('message', onMessage);
          child.send({ type: 'started-by', occurrenceId });
        }),
    ),
  );
  return {
    started: counts.reduce((a, c) => a + c.started, 0),
    skipped: counts.reduce((a, c) => a + c.skipped, 0),
  };
}

/** Stops fleet processes by pid: SIGTERM, then SIGKILL after 10 s. */
async function stopFleet(fleet: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    fleet.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }),
  );
}

export async function benchCluster(options: ClusterBenchOptions): Promise<void> {
  const { devices: N } = options;
  if (!NATS_SERVER_BIN) throw new Error('--cluster: install nats-server (apt-get install nats-server)');
  if (!POSTGRES_BIN_DIR) throw new Error('--cluster: install PostgreSQL (apt-get install postgresql)');
  if (!fs.existsSync(path.join(ROOT, 'server/dist/main.mjs'))) {
    throw new Error('--cluster runs the compiled server: npm run build first (server/dist is missing)');
  }
  const natsVersion = execFileSync(NATS_SERVER_BIN, ['-v'], { encoding: 'utf8' }).trim();
  const postgresVersion = execFileSync(path.join(POSTGRES_BIN_DIR, 'postgres'), ['--version'], {
    encoding: 'utf8',
  }).trim();
  const startedAt = new Date().toISOString();
  console.log(`bench --cluster: ${N} devices, ${options.processes} fleet processes; load ${loadNow()}`);

  const reports = path.join(ROOT, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  const header = {
    devices: N,
    zones: options.zones,
    fleetProcesses: options.processes,
    leadMs: options.leadMs,
    provisionConcurrency: options.provisionConcurrency,
    natsConsumers: describeNatsConsumers(options.consumers),
    machine: {
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    versions: { natsServer: natsVersion, postgres: postgresVersion },
  };
  let single: TargetResult | null = null;
  let cluster: TargetResult | null = null;
  try {
    single = await runSingle(options);
    console.log('single:', JSON.stringify(single, null, 1));
    cluster = await runCluster(options);
    console.log('cluster:', JSON.stringify(cluster, null, 1));
  } catch (err) {
    // What stopped the run is a result too (the largest fleet that runs): written down, then raised.
    const failed = single ? 'cluster' : 'single';
    const failure = {
      ...header,
      failed,
      error: (err as Error).message,
      single,
      startedAt,
      at: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(reports, 'bench-cluster-latest.json'), `${JSON.stringify(failure, null, 2)}\n`);
    fs.writeFileSync(
      path.join(reports, 'bench-cluster-latest.md'),
      [
        `# Loa Xã benchmark: cluster vs one server — ${failure.at}`,
        '',
        `Machine: ${header.machine.cpus}, ${header.machine.memoryGb} GB. Versions: ${natsVersion}; ${postgresVersion}.`,
        `${N} devices, fleet in ${options.processes} processes.`,
        '',
        `**The ${failed} run did not complete:** ${failure.error}`,
        '',
        ...(single ? ['Single server figures (JSON):', '', '```json', JSON.stringify(single, null, 2), '```', ''] : []),
      ].join('\n'),
    );
    console.log('report (failed run): reports/bench-cluster-latest.json, reports/bench-cluster-latest.md');
    throw err;
  }

  const ratio = (c: number, s: number) => (s > 0 && Number.isFinite(c) && Number.isFinite(s) ? round2(c / s) : NaN);
  const sumRss = (m: Record<string, ComponentMemory>, ...prefixes: string[]) =>
    Object.entries(m)
      .filter(([k]) => prefixes.some((p) => k.startsWith(p)))
      .reduce((sum, [, v]) => sum + v.pssMb, 0);
  const serverSide = (r: TargetResult) => sumRss(r.memory.connected, 'server', 'nats', 'postgres');
  const ratios = {
    provisionMs: ratio(cluster.provision.ms, single.provision.ms),
    connectMs: ratio(cluster.connect.ms, single.connect.ms),
    emergencyP50: ratio(cluster.emergency.p50Ms, single.emergency.p50Ms),
    emergencyP95: ratio(cluster.emergency.p95Ms, single.emergency.p95Ms),
    emergencyP99: ratio(cluster.emergency.p99Ms, single.emergency.p99Ms),
    emergencyReach: ratio(cluster.emergency.reach, single.emergency.reach),
    skewP50: ratio(cluster.scheduled.skewP50Ms, single.scheduled.skewP50Ms),
    skewP99: ratio(cluster.scheduled.skewP99Ms, single.scheduled.skewP99Ms),
    serverSideMemory: ratio(serverSide(cluster), serverSide(single)),
    serverSideCpuSeconds: ratio(cluster.cpuSecondsServerSide, single.cpuSecondsServerSide),
  };
  const keepable = (r: TargetResult) =>
    r.loads.every((l) => (l.foreignCores === undefined ? l.load <= MAX_LOAD : l.foreignCores <= MAX_FOREIGN_CORES));
  const report = {
    ...header,
    single,
    cluster,
    ratio: ratios,
    /** A deployment started above this load average is not a figure to keep. */
    maxLoad: MAX_LOAD,
    /** Nor a measured phase during which other processes used more cores than this. */
    maxForeignCores: MAX_FOREIGN_CORES,
    keep: keepable(single) && keepable(cluster),
    note:
      'Both deployments are compiled `loaxa serve` processes on this machine with the fleet in child processes of the ' +
      'bench (the same fleet processes count, the same measuring code). Memory: PSS (proportional set size, ' +
      '/proc/<pid>/smaps_rollup) of each process; PostgreSQL is the postmaster plus all its children (backends, ' +
      'workers), PSS summed so its shared buffers count once (RSS summed is given too). The balancer is a TCP proxy ' +
      "inside the bench process and is not counted. Latencies are the acks' device-clock times (the host clock) " +
      'minus the API call; a device that was online and never acked "started" counts against reach.',
    startedAt,
    at: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(reports, 'bench-cluster-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(reports, 'bench-cluster-latest.md'), markdown(report));
  console.log('report: reports/bench-cluster-latest.json, reports/bench-cluster-latest.md');
  const ok = [single, cluster].every(
    (r) =>
      r.connect.connected === N &&
      r.emergency.reached === r.emergency.online &&
      r.scheduled.played === r.scheduled.online,
  );
  process.exit(ok ? 0 : 1);
}

type TargetResult = Awaited<ReturnType<typeof measure>>;

async function runSingle(options: ClusterBenchOptions): Promise<TargetResult> {
  const loadBefore = loadNow();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-single-'));
  const proc = await serverProcess(dataDir, { password: SINGLE_PASSWORD, logLevel: 'warn', capture: true });
  const child = proc.start();
  const stopServer = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  };
  cleanups.add(stopServer);
  let handle: Database.Database | null = null;
  try {
    await waitFor(
      'the single server to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited: ${proc.output().slice(-3000)}`);
        return (await fetch(`${proc.url}/api/v1/health`).catch(() => null))?.ok === true;
      },
      90_000,
      200,
    );
    handle = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
    return await measure(
      {
        name: 'single',
        serverUrl: proc.url,
        mqttUrl: proc.mqttUrl,
        api: await proc.adminApi(),
        db: sqliteSql(handle),
        processes: () => [{ component: 'server (with its broker)', pid: child.pid! }],
        warmUpApis: async () => [await proc.adminApi()],
        // The embedded broker checks each login against the database: in force once written.
        credentialsInForce: async () => {},
      },
      { ...options, loadBefore },
    );
  } finally {
    handle?.close();
    await stopServer();
    cleanups.delete(stopServer);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runCluster(options: ClusterBenchOptions): Promise<TargetResult> {
  const loadBefore = loadNow();
  let c: Cluster | null = null;
  try {
    const started = performance.now();
    c = await startCluster({ consumers: options.consumers });
    cleanups.add(c.close);
    const startMs = Math.round(performance.now() - started);
    console.log(`cluster started in ${startMs} ms`);
    const cluster = c;
    const authFile = cluster.instances[0].proc.env.NATS_AUTH_FILE!;
    const result = await measure(
      {
        name: 'cluster',
        serverUrl: cluster.balancer.url,
        mqttUrl: cluster.nats.nodes[0]!.mqttUrl,
        api: cluster.api,
        db: cluster.sql,
        processes: () => [
          ...cluster.nats.nodes.map((n) => ({ component: `nats ${n.name}`, pid: n.pid() ?? 0 })),
          ...cluster.instances.map((i) => ({ component: `server ${i.name}`, pid: i.child?.pid ?? 0 })),
          { component: 'postgres (all its processes)', pid: cluster.pg.pid, tree: true },
        ],
        warmUpApis: () => Promise.all(cluster.instances.map((i) => i.proc.adminApi())),
        // The instances write every device's bcrypt hash into the include file, then SIGHUP each node
        // and confirm the reload with a probe login; a device that tries before that is refused and retries.
        credentialsInForce: (devices) =>
          waitFor(
            'every device in the NATS authorization file',
            () => parseNatsAuthorization(fs.readFileSync(authFile, 'utf8')).size >= devices + 2,
            600_000,
            500,
          ).then(async () => {
            await sleep(2_000);
          }),
      },
      { ...options, loadBefore },
    );
    return { ...result, clusterStartMs: startMs };
  } finally {
    if (c) {
      cleanups.delete(c.close);
      await c.close();
    }
  }
}

/** Everything measured on one deployment, the same way for both. */
async function measure(target: Target, options: MeasureOptions) {
  const { devices: N, zones: ZONES } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `loaxa-bench-${target.name}-`));
  const fleet: ChildProcess[] = [];
  const stopOurFleet = () => stopFleet(fleet);
  cleanups.add(stopOurFleet);
  const loads: { phase: string; load: number; foreignCores?: number }[] = [
    { phase: 'before the deployment started', load: options.loadBefore },
  ];
  const memory = memorySampler(() => [
    ...target.processes(),
    ...fleet.map((f, i) => ({ component: `fleet ${i + 1}`, pid: f.pid ?? 0 })),
  ]);
  /** CPU of this run's processes so far (the bench itself, the deployment, the fleet), seconds. */
  const ourCpu = () => {
    const self = process.cpuUsage();
    return (self.user + self.system) / 1e6 + Object.values(memory.cpu()).reduce((a, b) => a + b, 0);
  };
  /** Starts a measured phase; the returned function ends it and notes the load and the CPU others used meanwhile. */
  const phase = (name: string) => {
    const load = loadNow();
    const machine0 = machineBusySeconds();
    const ours0 = ourCpu();
    const wall0 = performance.now();
    return () => {
      const foreignCores = round2(
        Math.max(0, machineBusySeconds() - machine0 - (ourCpu() - ours0)) / ((performance.now() - wall0) / 1000),
      );
      loads.push({ phase: name, load, foreignCores });
      if (foreignCores > MAX_FOREIGN_CORES)
        console.warn(`[${target.name}] ${name}: other processes used ${foreignCores} cores: not a figure to keep`);
    };
  };
  const countOf = (r: { n: number | string } | undefined) => Number(r?.n ?? 0);
  const online = async () =>
    countOf(await row(target.db, sql<{ n: number }>`SELECT COUNT(*) AS n FROM devices WHERE online = 1`));
  const startedOf = async (id: string) =>
    (
      await rows<{ device_id: string; at: number | string }>(
        target.db,
        sql`SELECT device_id, at FROM acks WHERE ref_id = ${id} AND stage = 'started'`,
      )
    ).map((a) => ({ deviceId: a.device_id, at: Number(a.at) }));
  const finishedCount = async (id: string) =>
    countOf(
      await row(
        target.db,
        sql<{ n: number }>`SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ${id} AND stage = 'finished'`,
      ),
    );
  const must = async <T>(method: string, p: string, body?: unknown, api: Api = target.api): Promise<T> => {
    const res = await api<T>(method, p, body);
    if (res.status >= 300) throw new Error(`${target.name}: ${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  try {
    // --- provisioning ----------------------------------------------------------
    const zoneIds: string[] = [];
    for (let i = 0; i < ZONES; i++)
      zoneIds.push((await must<{ id: string }>('POST', '/api/v1/zones', { name: `Thôn ${i + 1}` })).id);
    const provisioned: Provisioned[] = new Array<Provisioned>(N);
    const provisionStart = performance.now();
    let lastLog = Date.now();
    await pool(N, options.provisionConcurrency, async (i) => {
      const res = await must<{ agentConfig: Provisioned }>('POST', '/api/v1/devices', {
        id: `bc${String(i + 1).padStart(5, '0')}`,
        zones: [zoneIds[i % ZONES]!],
        player: 'null',
      });
      provisioned[i] = res.agentConfig;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        console.log(`[${target.name}] provisioned ${provisioned.filter(Boolean).length}/${N}`);
      }
    });
    const requestsMs = Math.round(performance.now() - provisionStart);
    await target.credentialsInForce(N);
    const provision = {
      ms: Math.round(performance.now() - provisionStart),
      requestsMs,
      perSecond: Math.round((N / requestsMs) * 1000),
      concurrency: options.provisionConcurrency,
    };
    console.log(`[${target.name}] provisioning:`, provision);
    const devices: FleetDevice[] = provisioned.map((d) => ({
      deviceId: d.deviceId,
      secret: d.secret,
      brokers: [d.mqttUrl, ...(d.mqttUrls ?? [])],
    }));
    const brokersUsed = new Map<string, number>();
    for (const d of devices) brokersUsed.set(d.brokers![0]!, (brokersUsed.get(d.brokers![0]!) ?? 0) + 1);
    const { files } = splitFleet(dir, devices, options.processes);
    // As quiet as the connected reading below: provisioning's garbage is given back first.
    await sleep(SETTLE_MS);
    const idle = memory.snapshot();

    // --- connect ---------------------------------------------------------------
    const connectPhase = phase('connect');
    const cpuBefore = memory.cpu();
    const connectStart = performance.now();
    for (const file of files) fleet.push(spawnFleetProcess({ url: target.serverUrl, mqttUrl: target.mqttUrl }, file));
    const milestones: Record<string, number> = {};
    const deadline = Date.now() + options.connectTimeoutMs;
    let connected = 0;
    let lastProgress = Date.now();
    while (Date.now() < deadline) {
      connected = await online();
      for (const share of [0.5, 0.9, 0.99])
        if (milestones[`p${share * 100}`] === undefined && connected >= share * N)
          milestones[`p${share * 100}`] = Math.round(performance.now() - connectStart);
      if (connected >= N) break;
      if (machineAvailableBytes() < MIN_AVAILABLE_BYTES) {
        const at = memory.snapshot();
        await stopFleet(fleet);
        throw new Error(
          `memory guard: the machine had < ${MIN_AVAILABLE_BYTES / 1024 ** 3} GB available with ${connected}/${N} ` +
            `online after ${Math.round(performance.now() - connectStart)} ms; the fleet was stopped. PSS MB then: ` +
            Object.entries(at)
              .map(([k, v]) => `${k} ${v.pssMb}`)
              .join(', '),
        );
      }
      if (Date.now() - lastProgress > 15_000) {
        lastProgress = Date.now();
        console.log(
          `[${target.name}] ${connected}/${N} online after ${Math.round(performance.now() - connectStart)} ms`,
        );
      }
      await sleep(250);
    }
    const connect = {
      ms: Math.round(performance.now() - connectStart),
      connected,
      devices: N,
      timedOut: connected < N,
      timeoutMs: options.connectTimeoutMs,
      /** ms until 50 / 90 / 99 % of the devices were online. */
      milestones,
      /** Devices whose first broker is each URL. */
      firstBroker: Object.fromEntries(brokersUsed),
    };
    connectPhase();
    const cpuConnect = Object.fromEntries(
      Object.entries(memory.cpu()).map(([k, v]) => [k, round2(v - (cpuBefore[k] ?? 0))]),
    );
    console.log(`[${target.name}] connect:`, connect);
    await sleep(SETTLE_MS);
    const connectedMemory = memory.snapshot();

    // --- emergency to all zones ------------------------------------------------
    const emergencyOnce = async (api: Api = target.api) => {
      const onlineNow = await online();
      const start = Date.now();
      const { occurrenceId } = await must<{ occurrenceId: string }>(
        'POST',
        '/api/v1/broadcasts',
        { text: EMERGENCY_TEXT, zones: 'all', priority: 'emergency' },
        api,
      );
      const apiMs = Date.now() - start;
      // Started within 30 s of the API's answer (longer for large fleets) counts; later is reported apart.
      const startDeadline = Date.now() + Math.max(30_000, N * 3);
      while ((await startedOf(occurrenceId)).length < onlineNow && Date.now() < startDeadline) await sleep(200);
      const latencies = (await startedOf(occurrenceId)).map((a) => a.at - start).sort((a, b) => a - b);
      const finishDeadline = Date.now() + 60_000;
      while ((await finishedCount(occurrenceId)) < latencies.length && Date.now() < finishDeadline) await sleep(250);
      const heard = await startedOnDevices(fleet, occurrenceId);
      return {
        /** Devices that started it by their own account (the fleet processes'), stored or not. */
        startedOnDevices: heard.started,
        /** Devices that heard it only after it had ended ("skipped", expired): late, not lost. */
        skippedOnDevices: heard.skipped,
        /** "started" acks stored after the deadline (by the end of the wait for "finished"): late, not counted. */
        startedLate: (await startedOf(occurrenceId)).length - latencies.length,
        apiMs,
        p50Ms: pct(latencies, 50),
        p95Ms: pct(latencies, 95),
        p99Ms: pct(latencies, 99),
        maxMs: latencies.at(-1) ?? NaN,
        reached: latencies.length,
        online: onlineNow,
      };
    };
    // Warm-up (not counted): the text's first rendering, and the code paths' first run; on the
    // cluster through each instance directly, so both have rendered it.
    const warmUps = [];
    for (const api of await target.warmUpApis()) warmUps.push(await emergencyOnce(api));
    console.log(`[${target.name}] emergency warm-up:`, warmUps);
    const emergencyPhase = phase('emergency');
    const emergencyRuns = [];
    for (let run = 0; run < RUNS; run++) {
      emergencyRuns.push(await emergencyOnce());
      console.log(`[${target.name}] emergency ${run + 1}:`, emergencyRuns.at(-1));
    }
    emergencyPhase();
    const medianEmergency = [...emergencyRuns].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(RUNS / 2)]!;
    const worstReach = emergencyRuns.reduce((w, r) => (r.reached / r.online < w.reached / w.online ? r : w));
    const emergency = {
      ...medianEmergency,
      /** The lowest reach of any counted run (every run must reach every online device). */
      reached: worstReach.reached,
      online: worstReach.online,
      reach: round2(worstReach.reached / Math.max(1, worstReach.online)),
      p99RunsMs: emergencyRuns.map((r) => r.p99Ms),
      /** Each run's devices reached / their "started" stored only after the deadline. */
      reachedRuns: emergencyRuns.map(
        (r) =>
          `${r.reached}/${r.online} (+${r.startedLate} late; started on ${r.startedOnDevices} devices, ` +
          `heard after its end on ${r.skippedOnDevices})`,
      ),
      warmUpP99Ms: warmUps.map((w) => w.p99Ms),
    };

    // --- scheduled -------------------------------------------------------------
    const scheduledOnce = async () => {
      const onlineNow = await online();
      const at = Date.now() + options.leadMs;
      const { occurrenceId } = await must<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
        text: SCHEDULED_TEXT,
        zones: 'all',
        at: new Date(at).toISOString(),
      });
      while (Date.now() < at + 3_000) await sleep(200);
      const startDeadline = Date.now() + Math.max(20_000, N * 2);
      while ((await startedOf(occurrenceId)).length < onlineNow && Date.now() < startDeadline) await sleep(200);
      const skews = (await startedOf(occurrenceId)).map((a) => Math.abs(a.at - at)).sort((a, b) => a - b);
      const finishDeadline = Date.now() + 60_000;
      while ((await finishedCount(occurrenceId)) < skews.length && Date.now() < finishDeadline) await sleep(250);
      return {
        skewP50Ms: pct(skews, 50),
        skewP99Ms: pct(skews, 99),
        skewMaxMs: skews.at(-1) ?? NaN,
        played: skews.length,
        online: onlineNow,
      };
    };
    const scheduledWarmUp = await scheduledOnce();
    const scheduledPhase = phase('scheduled');
    const scheduledRuns = [];
    for (let run = 0; run < RUNS; run++) {
      scheduledRuns.push(await scheduledOnce());
      console.log(`[${target.name}] scheduled ${run + 1}:`, scheduledRuns.at(-1));
    }
    scheduledPhase();
    const medianScheduled = [...scheduledRuns].sort((a, b) => a.skewP99Ms - b.skewP99Ms)[Math.floor(RUNS / 2)]!;
    const worstPlayed = scheduledRuns.reduce((w, r) => (r.played / r.online < w.played / w.online ? r : w));
    const scheduled = {
      ...medianScheduled,
      played: worstPlayed.played,
      online: worstPlayed.online,
      leadMs: options.leadMs,
      skewP99RunsMs: scheduledRuns.map((r) => r.skewP99Ms),
      warmUpSkewP99Ms: scheduledWarmUp.skewP99Ms,
    };
    const cpuTotal = memory.cpu();
    const serverSide = (cpu: Record<string, number>) =>
      Object.entries(cpu)
        .filter(([k]) => !k.startsWith('fleet'))
        .reduce((sum, [, v]) => sum + v, 0);
    // Per 1,000 connected devices: what each component grew by from idle (provisioned, no fleet) to
    // connected and settled, and its whole connected size.
    const perThousand = Object.fromEntries(
      Object.entries(connectedMemory).map(([k, v]) => [
        k,
        {
          growthMb: round2(((v.pssMb - (idle[k]?.pssMb ?? 0)) / Math.max(1, connected)) * 1000),
          totalMb: round2((v.pssMb / Math.max(1, connected)) * 1000),
        },
      ]),
    );
    return {
      provision,
      connect,
      emergency,
      scheduled,
      memory: { idle, connected: connectedMemory, peak: memory.peaks, perThousandDevices: perThousand },
      cpuSecondsConnect: cpuConnect,
      cpuSeconds: Object.fromEntries(Object.entries(cpuTotal).map(([k, v]) => [k, round2(v)])),
      cpuSecondsServerSide: round2(serverSide(cpuTotal)),
      loads,
      clusterStartMs: undefined as number | undefined,
    };
  } finally {
    memory.stop();
    await stopFleet(fleet);
    cleanups.delete(stopOurFleet);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(r: {
  devices: number;
  zones: number;
  fleetProcesses: number;
  provisionConcurrency: number;
  natsConsumers: string;
  single: TargetResult;
  cluster: TargetResult;
  ratio: Record<string, number>;
  machine: { cpus: string; memoryGb: number; os: string; node: string };
  versions: { natsServer: string; postgres: string };
  keep: boolean;
  maxLoad: number;
  maxForeignCores: number;
  note: string;
  at: string;
}): string {
  const { single: s, cluster: c } = r;
  const loadsText = (t: TargetResult) =>
    t.loads
      .map((l) => `${l.phase} ${l.load}${l.foreignCores === undefined ? '' : ` (others ${l.foreignCores} cores)`}`)
      .join(', ');
  const line = (name: string, a: string | number, b: string | number, ratio?: number) =>
    `| ${name} | ${a} | ${b} | ${ratio === undefined || Number.isNaN(ratio) ? '' : ratio} |`;
  const components = (t: TargetResult) => Object.keys(t.memory.connected);
  const memRows = (label: string, t: TargetResult) =>
    components(t).map(
      (k) =>
        `| ${label} | ${k} | ${t.memory.idle[k]?.pssMb ?? '–'} | ${t.memory.connected[k]!.pssMb} (RSS ${t.memory.connected[k]!.rssMb}) | ${t.memory.peak[k]?.pssMb ?? '–'} (RSS ${t.memory.peak[k]?.rssMb ?? '–'}) | ${t.memory.perThousandDevices[k]!.growthMb} | ${t.cpuSecondsConnect[k] ?? '–'} / ${t.cpuSeconds[k] ?? '–'} |`,
    );
  return [
    `# Loa Xã benchmark: cluster vs one server — ${r.at}`,
    '',
    `Machine: ${r.machine.cpus}, ${r.machine.memoryGb} GB, ${r.machine.os}, Node ${r.machine.node}.`,
    `Versions: ${r.versions.natsServer}; ${r.versions.postgres}.`,
    `Parameters: ${r.devices} devices in ${r.zones} zones, fleet in ${r.fleetProcesses} processes, provisioning ${r.provisionConcurrency} requests at once.`,
    `Single: one \`loaxa serve\` (SQLite, embedded broker). Cluster: 3 NATS nodes (JetStream, MQTT, stream_replicas 3, ${r.natsConsumers}), ` +
      `2 \`loaxa serve\` instances on one PostgreSQL behind a TCP balancer${c.clusterStartMs !== undefined ? ` (started in ${c.clusterStartMs} ms)` : ''}.`,
    `Load: the 1-minute load average before each deployment started, then for each measured phase the load ` +
      `average at its start (it counts this run's own processes) and the cores other processes used during it — ` +
      `single: ${loadsText(s)}; cluster: ${loadsText(c)}.` +
      (r.keep
        ? ''
        : ` **Started above load ${r.maxLoad}, or other processes used more than ${r.maxForeignCores} core in a ` +
          'measured phase: not a figure to keep.**'),
    '',
    '| measure | single | cluster | cluster / single |',
    '|---|---|---|---|',
    line(
      'provisioning (POST /devices; cluster: until every credential is in the NATS file)',
      `${s.provision.ms} ms (${s.provision.perSecond}/s)`,
      `${c.provision.ms} ms (${c.provision.perSecond}/s)`,
      r.ratio.provisionMs,
    ),
    line(
      'connect: all online in the registry',
      `${s.connect.ms} ms (${s.connect.connected}/${s.connect.devices})`,
      `${c.connect.ms} ms (${c.connect.connected}/${c.connect.devices})`,
      r.ratio.connectMs,
    ),
    line(
      'connect: 50 / 90 / 99 % online',
      `${s.connect.milestones.p50 ?? '–'} / ${s.connect.milestones.p90 ?? '–'} / ${s.connect.milestones.p99 ?? '–'} ms`,
      `${c.connect.milestones.p50 ?? '–'} / ${c.connect.milestones.p90 ?? '–'} / ${c.connect.milestones.p99 ?? '–'} ms`,
    ),
    line('emergency → started p50', `${s.emergency.p50Ms} ms`, `${c.emergency.p50Ms} ms`, r.ratio.emergencyP50),
    line('emergency → started p95', `${s.emergency.p95Ms} ms`, `${c.emergency.p95Ms} ms`, r.ratio.emergencyP95),
    line(
      'emergency → started p99 (runs)',
      `${s.emergency.p99Ms} ms (${s.emergency.p99RunsMs.join(', ')})`,
      `${c.emergency.p99Ms} ms (${c.emergency.p99RunsMs.join(', ')})`,
      r.ratio.emergencyP99,
    ),
    line(
      'emergency reach (worst run): played / online',
      `${s.emergency.reached} / ${s.emergency.online}`,
      `${c.emergency.reached} / ${c.emergency.online}`,
      r.ratio.emergencyReach,
    ),
    line(
      'emergency runs: reached / online (+ "started" stored after the deadline; the devices\' own count)',
      s.emergency.reachedRuns.join(', '),
      c.emergency.reachedRuns.join(', '),
    ),
    line('scheduled start skew p50', `${s.scheduled.skewP50Ms} ms`, `${c.scheduled.skewP50Ms} ms`, r.ratio.skewP50),
    line(
      'scheduled start skew p99 (runs)',
      `${s.scheduled.skewP99Ms} ms (${s.scheduled.skewP99RunsMs.join(', ')})`,
      `${c.scheduled.skewP99Ms} ms (${c.scheduled.skewP99RunsMs.join(', ')})`,
      r.ratio.skewP99,
    ),
    line(
      'scheduled played (worst run) / online',
      `${s.scheduled.played} / ${s.scheduled.online}`,
      `${c.scheduled.played} / ${c.scheduled.online}`,
    ),
    line(
      'server side memory, connected (PSS MB: servers + brokers + database)',
      Object.entries(s.memory.connected)
        .filter(([k]) => !k.startsWith('fleet'))
        .reduce((n, [, v]) => n + v.pssMb, 0),
      Object.entries(c.memory.connected)
        .filter(([k]) => !k.startsWith('fleet'))
        .reduce((n, [, v]) => n + v.pssMb, 0),
      r.ratio.serverSideMemory,
    ),
    line(
      'server side CPU time over the whole run (s)',
      s.cpuSecondsServerSide,
      c.cpuSecondsServerSide,
      r.ratio.serverSideCpuSeconds,
    ),
    '',
    '## Memory and CPU of every process',
    '',
    `PSS in MB (RSS in brackets); idle = provisioned, ${SETTLE_MS / 1000} s later, before the fleet connected; connected = ` +
      `${SETTLE_MS / 1000} s after the last device came online; peak = highest sampled (each second) over the run. ` +
      '"per 1,000" = (connected − idle) ÷ devices online × 1,000. CPU: seconds used during the connect phase / over the whole run.',
    '',
    '| deployment | process | idle | connected | peak | per 1,000 devices | CPU s connect / all |',
    '|---|---|---|---|---|---|---|',
    ...memRows('single', s),
    ...memRows('cluster', c),
    '',
    `Devices per first broker (cluster): ${Object.entries(c.connect.firstBroker)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    r.note,
    '',
  ].join('\n');
}
