/**
 * `npm run bench [-- --devices 500 --zones 20]`: a server with a temporary
 * database on loopback, a simulated fleet in a separate process (so the
 * server's own memory and CPU are measured), and three measurements:
 * connect time, an emergency broadcast to all zones (API call → each
 * device's "started"), scheduled broadcasts (start skew across devices; the median of three), and
 * plan re-delivery after a zone change (K devices moved through the API →
 * each device's new plan, reported by the fleet process over IPC). Right before
 * the emergency and the scheduled broadcast it measures their floor on the same
 * fleet (issue 22): a bare broker fan-out of one message the size of the
 * emergency command, and bare timers firing at one instant.
 * Writes reports/bench-latest.json and reports/bench-latest.md.
 * `--communes N`: the province mode (bench-province.ts); `--cluster`: one server
 * beside the 3-node NATS cluster on the same fleet (bench-cluster.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { encodeFramed, MAX_INLINE_BYTES, topics, type PlayNowCommand } from '@loaxa/protocol';
import { loadConfig, startServer } from '../server/src/index';
import { assetFor } from '../server/src/broadcasts/planner';
import { commandHeader, newRefId } from '../server/src/broadcasts/service';
import type { MediaAsset, MediaStore } from '../server/src/media/store';
import { createLogger } from '../server/src/logger';
import { startProfile, type ProfileSummary } from '../firmware-sim/src/profile';
import type { GcPause } from '../firmware-sim/src/gc-log';
import { pct, sleep, spawnFleetProcess, splitFleet } from './bench-fleet';
import { rssOfPid } from './bench-measure';
import { MOSQUITTO_BIN, startMosquitto, type TestMosquitto } from '../server/test/mosquitto';
import { row, rows, sql } from '../server/test/helpers';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    /** Default 500 (cluster mode: 2000). */
    devices: { type: 'string' },
    zones: { type: 'string', default: '20' },
    'lead-ms': { type: 'string', default: '8000' },
    move: { type: 'string', default: '50' },
    /** Fleet processes; default: one per core, at most one per 250 devices. */
    processes: { type: 'string' },
    /** CPU profiles of the server and the fleet during the emergency broadcast, in the report. */
    profile: { type: 'boolean', default: true },
    /** embedded (Aedes in the server process) or mosquitto (Debian's, started for the run: MQTT_URL). */
    broker: { type: 'string', default: 'embedded' },
    /** Province mode (scripts/bench-province.ts): this many communes share the devices. */
    communes: { type: 'string' },
    /** Province mode: days of history behind the province report. */
    days: { type: 'string', default: '30' },
    /** Province mode: loudspeakers on the Devices page timed in chromium (the rest offline). */
    'page-devices': { type: 'string', default: '15000' },
    /** Cluster mode (scripts/bench-cluster.ts): the same fleet on one server, then on 3 NATS nodes + 2 instances. */
    cluster: { type: 'boolean', default: false },
    /** Cluster mode: simultaneous POST /api/v1/devices while provisioning. */
    'provision-concurrency': { type: 'string', default: '12' },
    /** Cluster mode: how long the fleet may take to come online, s (default 120 + 0.03 per device). */
    'connect-timeout-s': { type: 'string' },
    /** Cluster mode: replicas of each MQTT session consumer on the NATS nodes, 1 or 3 (default 3). */
    'consumer-replicas': { type: 'string', default: '3' },
    /** Cluster mode: the NATS nodes keep MQTT session consumers in memory (consumer_memory_storage). */
    'consumer-memory': { type: 'boolean', default: false },
  },
  allowNegative: true,
});
const DEVICES = Number(values.devices ?? (values.cluster ? 2000 : 500));
const ZONES = Math.min(Number(values.zones), DEVICES);
const LEAD_MS = Number(values['lead-ms']);
const MOVE = Math.min(Number(values.move), DEVICES);
if (!Number.isInteger(MOVE) || MOVE < 0) throw new Error('--move: a whole number of devices (0 … devices)');
const MAX_DEVICES = values.cluster ? 20_000 : 10_000;
if (!Number.isInteger(DEVICES) || DEVICES < 1 || DEVICES > MAX_DEVICES)
  throw new Error(`--devices: 1 … ${MAX_DEVICES}`);
const PROCESSES = Number(values.processes ?? Math.min(os.cpus().length, Math.ceil(DEVICES / 250)));
if (!Number.isInteger(PROCESSES) || PROCESSES < 1 || PROCESSES > DEVICES) {
  throw new Error('--processes: a whole number from 1 to the number of devices');
}

/** `--communes N`: the province mode (issue 17), its own measurements and report. */
async function provinceMain(): Promise<void> {
  const communes = Number(values.communes);
  const days = Number(values.days);
  const pageDevices = Number(values['page-devices']);
  if (!Number.isInteger(communes) || communes < 1 || communes > DEVICES) {
    throw new Error('--communes: a whole number from 1 to the number of devices');
  }
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error('--days: 1 … 366');
  if (!Number.isInteger(pageDevices) || pageDevices < 1 || pageDevices > 50_000) {
    throw new Error('--page-devices: 1 … 50000');
  }
  const { benchProvince } = await import('./bench-province');
  await benchProvince({ communes, devices: DEVICES, pageDevices, days, processes: PROCESSES });
}

/** `--cluster`: issue 18's cost of the cluster, beside one server on the same fleet. */
async function clusterMain(): Promise<void> {
  if (values.broker !== 'embedded' || values.communes !== undefined) {
    throw new Error('--cluster: its single-server side uses the embedded broker; no --broker, no --communes');
  }
  const provisionConcurrency = Number(values['provision-concurrency']);
  if (!Number.isInteger(provisionConcurrency) || provisionConcurrency < 1 || provisionConcurrency > 64) {
    throw new Error('--provision-concurrency: 1 … 64');
  }
  const connectTimeoutS = Number(values['connect-timeout-s'] ?? 120 + 0.03 * DEVICES);
  if (!(connectTimeoutS > 0 && connectTimeoutS <= 3600)) throw new Error('--connect-timeout-s: 1 … 3600');
  const consumerReplicas = Number(values['consumer-replicas']);
  if (consumerReplicas !== 1 && consumerReplicas !== 3) throw new Error('--consumer-replicas: 1 or 3');
  const { benchCluster } = await import('./bench-cluster');
  await benchCluster({
    devices: DEVICES,
    zones: ZONES,
    processes: PROCESSES,
    leadMs: LEAD_MS,
    provisionConcurrency,
    connectTimeoutMs: Math.round(connectTimeoutS * 1000),
    consumers: { replicas: consumerReplicas, memory: values['consumer-memory'] },
  });
}

/**
 * Timer floor instants, and scheduled broadcasts; each side's median one (by p99) is reported. Five,
 * not three: on this 2-core VM one instant's p99 ranged 0.2–9.7 ms for the floor and 2–14 ms for ours
 * within one run (a collection, or the other processes taking the core), and the median of three
 * still swung the verdict from one run to the next.
 */
const FLOOR_TIMER_RUNS = 5;
/** Emergency broadcasts, each after its floor's fan-out (median p99 of each side reported); five, as above (the floor's p99 ranged 136–264 ms in one run). */
const EMERGENCY_RUNS = 5;

/** Quiet time after the last device connected before the connected-RSS reading. */
const SETTLE_MS = 15_000;
const BROKER = values.broker;
if (BROKER !== 'embedded' && BROKER !== 'mosquitto') throw new Error('--broker: embedded or mosquitto');
if (BROKER === 'mosquitto' && !MOSQUITTO_BIN)
  throw new Error('--broker mosquitto: install it (apt-get install -y mosquitto)');

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The floor's stand-in for the emergency command, in the same form (framed: JSON, a NUL byte,
 * raw bytes) and of the same size: a header whose action no command has, so the agents' decoder
 * refuses it after reading those few bytes (a warning; nothing is played or acked). The fleet
 * knows it by its start.
 */
const FLOOR_MARKER = '{"action":"bench-floor"}';
/**
 * Per fleet process: how far apart its devices got a message, (last − first) ÷ (count − 1) in µs.
 * A process's devices share one CPU, so each one's handling delays the next one's arrival.
 */
function perDeviceArrivalUs(perProcess: { arrivals: [string, number][] }[]): number[] {
  return perProcess.map(({ arrivals }) => {
    const at = arrivals.map(([, t]) => t);
    return at.length > 1 ? Math.round(((Math.max(...at) - Math.min(...at)) / (at.length - 1)) * 1000) : 0;
  });
}

/** The first bytes of every command the server sends (commandHeader's keys come first). */
const COMMAND_MARKER = '{"v":1,"commandId":"';
const floorMessage = (bytes: number) =>
  Buffer.concat([Buffer.from(`${FLOOR_MARKER}\0`), Buffer.alloc(Math.max(0, bytes - FLOOR_MARKER.length - 1), 'x')]);

/**
 * Byte size of the play-now command an emergency broadcast of `text` sends, built as
 * BroadcastService.launch builds it (the simulated devices take Ogg: no MP3 copy is attached),
 * framed: the fleet's agents say they read framed commands.
 */
async function playNowCommandBytes(media: MediaStore, audio: MediaAsset, text: string): Promise<number> {
  const asset = assetFor({ ...audio, duration_ms: audio.durationMs });
  const inline = await media.readSmall(audio, MAX_INLINE_BYTES);
  if (inline) asset.data = inline.toString('base64');
  const command: PlayNowCommand = {
    ...commandHeader(),
    action: 'play-now',
    occurrenceId: newRefId('occ'),
    priority: 'emergency',
    title: text, // titleOf(text): it is one line under 80 characters
    assets: [asset],
  };
  return encodeFramed(command).byteLength;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-'));
  const mosquitto: TestMosquitto | null = BROKER === 'mosquitto' ? await startMosquitto() : null;
  const config = loadConfig({
    ...mosquitto?.serverEnv,
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    LOAXA_ADMIN_PASSWORD: 'bench-password',
    LOG_LEVEL: 'warn',
  });
  const server = await startServer(config, { logger: createLogger('warn') });
  const { registry } = server.services;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  let peakRss = 0;
  /** Peak RSS of each phase so far (MB): where the memory goes. */
  const phasePeaks: Record<string, number> = {};
  let phasePeak = 0;
  const endPhase = (name: string) => {
    phasePeaks[name] = Math.round(phasePeak / 1024 / 1024);
    phasePeak = 0;
  };
  let peakBrokerRss = 0;
  const mosquittoPid = mosquitto
    ? Number(fs.readFileSync(path.join(mosquitto.dir, 'mosquitto.pid'), 'utf8').trim())
    : null;
  const rssTimer = setInterval(() => {
    // Reading RSS opens /proc/self: it fails for a moment when the process is out of file descriptors.
    try {
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      phasePeak = Math.max(phasePeak, rss);
    } catch {
      return;
    }
    if (mosquittoPid) peakBrokerRss = Math.max(peakBrokerRss, rssOfPid(mosquittoPid));
  }, 200);

  const communeId = server.services.communes.defaultId();
  const zoneIds: string[] = [];
  for (let i = 0; i < ZONES; i++) zoneIds.push((await registry.createZone(`Thôn ${i + 1}`, communeId, `z${i + 1}`)).id);
  const devices: { deviceId: string; secret: string }[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const id = `b${String(i + 1).padStart(5, '0')}`;
    devices.push({
      deviceId: id,
      secret: (await registry.createDevice({ id, zones: [zoneIds[i % ZONES]!], communeId })).secret,
    });
  }
  // Mosquitto learns the new devices from the password/ACL files the server rewrote.
  if (mosquitto && !(await server.brokerSettled())) throw new Error('mosquitto did not load the device credentials');
  const { files: devicesFiles, processOf } = splitFleet(dataDir, devices, PROCESSES);

  const login = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-password' }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  // COUNT(*) is a bigint on PostgreSQL: Number() whatever the driver gives back.
  const countOf = (r: { n: number } | undefined) => Number(r?.n ?? 0);
  const online = async () =>
    countOf(await row(server, sql<{ n: number }>`SELECT COUNT(*) AS n FROM devices WHERE online = 1`));

  // --- connect ---------------------------------------------------------------
  const connectStart = performance.now();
  const plansSeen: { deviceId: string; zones: string[]; at: number }[] = [];
  const fleetProfiles: ProfileSummary[] = [];
  type FleetMessage =
    | { type: 'plan'; deviceId: string; zones: string[]; at: number }
    | { type: 'profile'; summary: ProfileSummary }
    | { type: 'profile-started' }
    | { type: 'floor-delivery-armed' }
    | { type: 'floor-delivery'; arrivals: [deviceId: string, at: number][] }
    | { type: 'floor-timer'; lateMs: number[] }
    | { type: 'gc-pauses'; pauses: GcPause[] };
  const fleet = devicesFiles.map((devicesFile) => {
    const child = spawnFleetProcess(server, devicesFile);
    child.on('message', (m: FleetMessage) => {
      if (m.type === 'plan') plansSeen.push(m);
      if (m.type === 'profile') fleetProfiles.push(m.summary);
    });
    return child;
  });
  /** The next message of `type` from every fleet process; rejects after timeoutMs. */
  const fromEveryFleetProcess = <T extends FleetMessage['type']>(type: T, timeoutMs = 60_000) =>
    Promise.all(
      fleet.map(
        (child) =>
          new Promise<Extract<FleetMessage, { type: T }>>((resolve, reject) => {
            const timer = setTimeout(() => {
              child.off('message', onMessage);
              reject(new Error(`fleet process ${child.pid}: no ${type} message in ${timeoutMs} ms`));
            }, timeoutMs);
            const onMessage = (m: FleetMessage) => {
              if (m.type !== type) return;
              clearTimeout(timer);
              child.off('message', onMessage);
              resolve(m as Extract<FleetMessage, { type: T }>);
            };
            child.on('message', onMessage);
          }),
      ),
    );
  /**
   * The longest garbage-collector pause of any fleet process overlapping [from, to] (0 when none):
   * one in the middle of a shared start delays every device of its process after it.
   */
  const longestGcPause = async (from: number, to: number): Promise<number> => {
    const answers = fromEveryFleetProcess('gc-pauses');
    for (const child of fleet) child.send({ type: 'gc-pauses', at: from, to });
    const pauses = (await answers).flatMap((m) => m.pauses);
    return round2(Math.max(0, ...pauses.map((p) => p.ms)));
  };
  const connectDeadline = Date.now() + 120_000;
  while ((await online()) < DEVICES && Date.now() < connectDeadline) await sleep(100);
  const connectMs = Math.round(performance.now() - connectStart);
  const connected = await online();
  console.log(`connect: ${connected}/${DEVICES} online in ${connectMs} ms`);
  // The issue's memory target is for connected devices: RSS once they are all in and idle. Right
  // after the connect burst V8 still holds the burst's garbage pages; it gives them back after some
  // seconds of quiet (its memory reducer), so both moments are reported.
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  await sleep(2_000);
  const justConnectedRssMb = mb(process.memoryUsage.rss());
  await sleep(SETTLE_MS - 2_000);
  const connectedMemory = process.memoryUsage();
  const connectedRssMb = mb(connectedMemory.rss);
  if (process.env.LOAXA_HEAP_SNAPSHOT) v8.writeHeapSnapshot(process.env.LOAXA_HEAP_SNAPSHOT);
  const connectedBrokerRssMb = mosquittoPid ? Math.round(rssOfPid(mosquittoPid) / 1024 / 1024) : undefined;

  endPhase('connect');
  // --- emergency to all zones -------------------------------------------------
  const text = 'Khẩn cấp: nước lũ đang lên, bà con vùng trũng di chuyển ngay đến nơi an toàn.';
  const audio = await server.services.renderer.render({ text }); // warm the render cache: a prepared alert
  /** Profiles the server (this process) and every fleet process until the returned stop() is called. */
  const profileAll = async () => {
    if (!values.profile) return null;
    const started = fromEveryFleetProcess('profile-started');
    for (const child of fleet) child.send({ type: 'profile-start' });
    await started;
    const stopServer = await startProfile();
    return async (): Promise<ProfileSet> => {
      const server = await stopServer();
      for (const child of fleet) child.send({ type: 'profile-stop' });
      const deadline = Date.now() + 10_000;
      while (fleetProfiles.length < fleet.length && Date.now() < deadline) await sleep(50);
      return { server, fleet: fleetProfiles.splice(0) };
    };
  };
  /** Waits until 0.5 s after `at`, profiling from 0.5 s before it: where a start's lateness comes from. */
  const profileAround = async (at: number) => {
    while (Date.now() < at - 500) await sleep(50);
    const stop = await profileAll();
    while (Date.now() < at + 500) await sleep(20);
    return (await stop?.()) ?? null;
  };

  // The floor of the emergency (issue 22): its fan-out with none of our logic. The server's broker
  // bus publishes one QoS 1 message the size of the emergency command on each zone's command topic,
  // as the emergency path does; each fleet process times its arrival at each device's MQTT client.
  // Floor and ours alternate EMERGENCY_RUNS times (one pair is one sample of a noisy machine: single
  // runs here gave ratios from 1.26 to 2.11); the figures are each side's run with the median p99.
  // A first pair warms the fleet's code (its first emergency ran 1.2–2× slower than the third: the
  // agent's command path was not yet compiled) and runs under the profiler, which slows it too; it
  // is reported apart, not counted.
  const payloadBytes = await playNowCommandBytes(server.services.media, audio, text);
  const floorOnce = async (profile: boolean) => {
    const armed = fromEveryFleetProcess('floor-delivery-armed');
    for (const child of fleet) child.send({ type: 'floor-delivery', marker: FLOOR_MARKER });
    await armed;
    const stopFloorProfile = profile ? await profileAll() : null;
    const floorMessageSeen = fromEveryFleetProcess('floor-delivery');
    const message = floorMessage(payloadBytes);
    const floorStart = Date.now();
    await Promise.all(zoneIds.map((zone) => server.services.bus.publish(topics.zoneCmd(zone), message, { qos: 1 })));
    const seen = await floorMessageSeen;
    const latencies = seen.flatMap((m) => m.arrivals.map(([, at]) => at - floorStart)).sort((a, b) => a - b);
    await stopFloorProfile?.();
    await sleep(1_000); // the devices log the refused message: let the fleet go quiet again
    return Object.assign(latencies, { perDeviceUs: perDeviceArrivalUs(seen) });
  };

  const startedOf = (id: string) =>
    rows<{ device_id: string; at: number }>(
      server,
      sql`SELECT device_id, at FROM acks WHERE ref_id = ${id} AND stage = 'started'`,
    );
  const finishedCount = async (id: string) =>
    countOf(
      await row(
        server,
        sql<{ n: number }>`SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ${id} AND stage = 'finished'`,
      ),
    );
  const emergencyOnce = async (profile: boolean) => {
    // Where our time goes: when the server first publishes the command, and when it reaches each
    // device's MQTT client (the floor's own probe, keyed on the command's first bytes), before the
    // agent decodes and starts it ('received' … 'started' in its acks).
    const emergencyArmed = fromEveryFleetProcess('floor-delivery-armed');
    for (const child of fleet) child.send({ type: 'floor-delivery', marker: COMMAND_MARKER });
    await emergencyArmed;
    const emergencyArrivals = fromEveryFleetProcess('floor-delivery');
    let firstPublishAt = NaN;
    /** Zone topics the command went to, and those it went to framed (the floor's form). */
    const zoneTopics = { all: 0, framed: 0 };
    const bus = server.services.bus;
    const publish = bus.publish.bind(bus);
    bus.publish = (topic, payload, options) => {
      if (topic.includes('/zone/')) {
        if (Number.isNaN(firstPublishAt)) firstPublishAt = Date.now();
        zoneTopics.all++;
        if (typeof payload !== 'string') zoneTopics.framed++;
      }
      return publish(topic, payload, options);
    };
    const stopEmergencyProfile = profile ? await profileAll() : null;
    const emergencyStart = Date.now();
    const { occurrenceId: emergencyId } = await api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text,
      zones: zoneIds,
      priority: 'emergency',
    });
    const apiMs = Date.now() - emergencyStart;
    bus.publish = publish;
    // The profiles cover the fan-out: from the API call until the command reached every device.
    const arrivals = await emergencyArrivals;
    const profiled = (await stopEmergencyProfile?.()) ?? null;
    const emergencyDeadline = Date.now() + 30_000;
    while ((await startedOf(emergencyId)).length < connected && Date.now() < emergencyDeadline) await sleep(100);
    const latencies = (await startedOf(emergencyId)).map((a) => a.at - emergencyStart).sort((a, b) => a - b);
    // Where the time goes: each stage's delay from the API call, per device.
    const stageMs = async (stage: string) => {
      const at = (
        await rows<{ at: number }>(server, sql`SELECT at FROM acks WHERE ref_id = ${emergencyId} AND stage = ${stage}`)
      )
        .map((a) => a.at - emergencyStart)
        .sort((a, b) => a - b);
      return { p50Ms: pct(at, 50), p99Ms: pct(at, 99) };
    };
    const arrived = arrivals.flatMap((m) => m.arrivals.map(([, at]) => at - emergencyStart)).sort((a, b) => a - b);
    const stages = {
      /** Per fleet process, (last − first arrival) ÷ (devices − 1), µs: its devices take turns on one CPU. */
      arrivalGapUs: perDeviceArrivalUs(arrivals),
      published: { p50Ms: firstPublishAt - emergencyStart, p99Ms: firstPublishAt - emergencyStart },
      arrived: { p50Ms: pct(arrived, 50), p99Ms: pct(arrived, 99) },
      received: await stageMs('received'),
      ready: await stageMs('ready'),
      started: await stageMs('started'),
    };
    const finishDeadline = Date.now() + 60_000;
    while ((await finishedCount(emergencyId)) < latencies.length && Date.now() < finishDeadline) await sleep(200);
    return {
      emergency: {
        apiMs,
        p50Ms: pct(latencies, 50),
        p95Ms: pct(latencies, 95),
        p99Ms: pct(latencies, 99),
        maxMs: latencies.at(-1) ?? NaN,
        reached: latencies.length,
        online: connected,
        zoneTopics,
        stages,
      },
      profile: profiled,
    };
  };

  const floorRuns: Awaited<ReturnType<typeof floorOnce>>[] = [];
  const emergencyRuns: Awaited<ReturnType<typeof emergencyOnce>>['emergency'][] = [];
  const profiles: { emergency: ProfileSet | null; scheduledStart: ProfileSet | null } = {
    emergency: null,
    scheduledStart: null,
  };
  const warmFloor = await floorOnce(true);
  const warm = await emergencyOnce(true);
  profiles.emergency = warm.profile;
  const warmUp = { floorP99Ms: pct(warmFloor, 99), p99Ms: warm.emergency.p99Ms, reached: warm.emergency.reached };
  console.log('emergency warm-up (profiled, not counted):', warmUp);
  for (let run = 0; run < EMERGENCY_RUNS; run++) {
    floorRuns.push(await floorOnce(false));
    const ours = await emergencyOnce(false);
    emergencyRuns.push(ours.emergency);
    console.log(
      `emergency run ${run + 1}: floor p99 ${pct(floorRuns[run]!, 99)} ms, ours p99 ${ours.emergency.p99Ms} ms`,
    );
  }
  const floorLatencies = [...floorRuns].sort((a, b) => pct(a, 99) - pct(b, 99))[Math.floor(EMERGENCY_RUNS / 2)]!;
  const emergency = {
    ...[...emergencyRuns].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(EMERGENCY_RUNS / 2)]!,
    /** The fewest devices any emergency (the warm-up too) reached: every run must reach all. */
    reached: Math.min(warm.emergency.reached, ...emergencyRuns.map((r) => r.reached)),
    /** Each run's p99, in the order they ran. */
    p99RunsMs: emergencyRuns.map((r) => r.p99Ms),
    /** The first emergency (and its floor), under the profiler and on cold code: not counted. */
    warmUp,
  };
  console.log('emergency:', emergency);

  endPhase('emergency');
  // --- scheduled --------------------------------------------------------------
  // Its floor first (issue 22): every device arms the agent's start timer for one instant, as far
  // ahead as the broadcast below, and each fleet process reports how far from it each one fired.
  // One instant is one sample of the machine's noise (a collection, another process): the floor is
  // the run with the median p99 of FLOOR_TIMER_RUNS, after one profiled run that is not counted (at
  // 5,000 devices a profiled scheduled start once ran 2.5 s late at p99: the profiler's, not ours).
  const timerRuns: number[][] = [];
  const timerGcMs: number[] = [];
  for (let run = -1; run < FLOOR_TIMER_RUNS; run++) {
    const floorAt = Date.now() + LEAD_MS;
    const floorFired = fromEveryFleetProcess('floor-timer', LEAD_MS + 30_000);
    for (const child of fleet) child.send({ type: 'floor-timer', at: floorAt });
    if (run < 0) await profileAround(floorAt);
    const lates = (await floorFired).flatMap((m) => m.lateMs).sort((a, b) => a - b);
    if (run >= 0) timerRuns.push(lates);
    if (run >= 0) timerGcMs.push(await longestGcPause(floorAt, floorAt + (lates.at(-1) ?? 0)));
  }
  const byP99 = [...timerRuns].sort((a, b) => pct(a, 99) - pct(b, 99));
  const floorSkews = byP99[Math.floor(byP99.length / 2)]!;

  // Ours by the same rule as its floor: FLOOR_TIMER_RUNS scheduled broadcasts, one after another,
  // and the one with the median p99 (one instant is one sample of the machine's noise), after a
  // profiled one that is not counted.
  const scheduledRuns: {
    at: number;
    id: string;
    starts: { device_id: string; at: number }[];
    ready: number;
    gcMs: number;
  }[] = [];
  let scheduledWarmUpP99Ms = NaN;
  for (let run = -1; run < FLOOR_TIMER_RUNS; run++) {
    const at = Date.now() + LEAD_MS;
    const { occurrenceId: id } = await api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo lịch tiêm phòng cho gia súc vào sáng thứ bảy.',
      zones: 'all',
      at: new Date(at).toISOString(),
    });
    if (run < 0) profiles.scheduledStart = await profileAround(at);
    while (Date.now() < at + 3000) await sleep(200);
    const startedDeadline = Date.now() + 20_000;
    while ((await startedOf(id)).length < connected && Date.now() < startedDeadline) await sleep(100);
    const ready = countOf(
      await row(
        server,
        sql<{ n: number }>`SELECT COUNT(DISTINCT device_id) AS n FROM acks
            WHERE ref_id = ${id} AND stage = 'ready' AND at <= ${at}`,
      ),
    );
    const starts = await startedOf(id);
    const lastStart = Math.max(at, ...starts.map((a) => a.at));
    // The acks carry whole ms: the window reaches to the end of the last start's ms.
    if (run >= 0) scheduledRuns.push({ at, id, starts, ready, gcMs: await longestGcPause(at, lastStart + 1) });
    else
      scheduledWarmUpP99Ms = pct(
        starts.map((a) => Math.abs(a.at - at)).sort((a, b) => a - b),
        99,
      );
    // The next one must not queue behind this one.
    const finishDeadline = Date.now() + 60_000;
    while ((await finishedCount(id)) < starts.length && Date.now() < finishDeadline) await sleep(200);
  }
  const skewsOf = (r: (typeof scheduledRuns)[number]) =>
    r.starts.map((a) => Math.abs(a.at - r.at)).sort((a, b) => a - b);
  const runsByP99 = [...scheduledRuns].sort((a, b) => pct(skewsOf(a), 99) - pct(skewsOf(b), 99));
  const median = runsByP99[Math.floor(runsByP99.length / 2)]!;
  const { at, starts: scheduledStarts } = median;
  const skews = skewsOf(median);
  // Where the skew comes from: in each fleet process, how late its first device started (the
  // timer), and how much each further device due on the same instant added (the shared loop).
  const perProcess = Array.from({ length: PROCESSES }, (_, p) =>
    scheduledStarts
      .filter((a) => processOf.get(a.device_id) === p)
      .map((a) => a.at - at)
      .sort((a, b) => a - b),
  ).filter((lates) => lates.length > 0);
  const scheduled = {
    leadMs: LEAD_MS,
    skewP50Ms: pct(skews, 50),
    skewP99Ms: pct(skews, 99),
    skewMaxMs: skews.at(-1) ?? NaN,
    played: skews.length,
    readyBeforeStart: median.ready,
    firstStartLateMs: Math.max(...perProcess.map((lates) => lates[0]!)),
    perDeviceStartUs: Math.round(
      (perProcess.reduce((sum, lates) => sum + (lates.at(-1)! - lates[0]!) / Math.max(1, lates.length - 1), 0) /
        Math.max(1, perProcess.length)) *
        1000,
    ),
    /** Each run's p99, in the order they ran. */
    skewP99RunsMs: scheduledRuns.map((r) => pct(skewsOf(r), 99)),
    /** Each run's longest collector pause of a fleet process inside its start window (0: none). */
    gcPauseRunsMs: scheduledRuns.map((r) => r.gcMs),
    /** The profiled run before them, not counted. */
    warmUpSkewP99Ms: scheduledWarmUpP99Ms,
  };
  console.log('scheduled:', scheduled);
  const floor = {
    payloadBytes,
    emergencyP50Ms: pct(floorLatencies, 50),
    emergencyP99Ms: pct(floorLatencies, 99),
    emergencyMaxMs: floorLatencies.at(-1) ?? NaN,
    reached: floorLatencies.length,
    /** Each run's p99, in the order they ran (alternating with ours). */
    emergencyP99RunsMs: floorRuns.map((r) => pct(r, 99)),
    /** The median run's arrival gap per fleet process (see emergency.stages.arrivalGapUs). */
    arrivalGapUs: floorLatencies.perDeviceUs,
    skewP50Ms: round2(pct(floorSkews, 50)),
    skewP99Ms: round2(pct(floorSkews, 99)),
    skewMaxMs: round2(floorSkews.at(-1) ?? NaN),
    fired: floorSkews.length,
    /** Each run's p99, in the order they ran: the spread says how noisy the machine was. */
    skewP99RunsMs: timerRuns.map((lates) => round2(pct(lates, 99))),
    gcPauseRunsMs: timerGcMs,
  };
  const ratio = {
    emergencyP99: round2(emergency.p99Ms / floor.emergencyP99Ms),
    skewP99: round2(scheduled.skewP99Ms / floor.skewP99Ms),
  };
  /** Issue 22's targets: emergency p99 ≤ 1.5 × its floor, start skew p99 ≤ its floor + 5 ms. */
  const floorTargetsMet = {
    emergencyP99: emergency.p99Ms <= 1.5 * floor.emergencyP99Ms,
    skewP99: scheduled.skewP99Ms <= floor.skewP99Ms + 5,
  };
  console.log('floor:', floor, 'ratio:', ratio);

  endPhase('scheduled');
  // --- plan re-delivery after a zone change ----------------------------------
  // Move every MOVE-th device to the next zone through the API (10 requests in flight, as a script
  // would), and time each from its request to the fleet reporting a plan with the new zone.
  const moves = Array.from({ length: MOVE }, (_, i) => {
    const index = Math.floor((i * DEVICES) / Math.max(1, MOVE));
    return { deviceId: devices[index]!.deviceId, to: zoneIds[(index + 1) % ZONES]!, sentAt: 0 };
  });
  const moveStart = Date.now();
  for (let i = 0; i < moves.length; i += 10) {
    await Promise.all(
      moves.slice(i, i + 10).map(async (m) => {
        m.sentAt = Date.now();
        await api('PUT', `/api/v1/devices/${m.deviceId}/zones`, { zones: [m.to] });
      }),
    );
  }
  const planLatency = (m: (typeof moves)[number]) => {
    const seen = plansSeen.find((p) => p.deviceId === m.deviceId && p.at >= m.sentAt && p.zones.includes(m.to));
    return seen ? seen.at - m.sentAt : null;
  };
  const moveDeadline = Date.now() + 30_000;
  while (moves.some((m) => planLatency(m) === null) && Date.now() < moveDeadline) await sleep(100);
  const planMs = moves
    .map(planLatency)
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  const zoneMove = {
    moved: moves.length,
    received: planMs.length,
    p50Ms: pct(planMs, 50),
    p95Ms: pct(planMs, 95),
    maxMs: planMs.at(-1) ?? NaN,
    allMs: planMs.length ? Math.max(...moves.map((m) => m.sentAt + (planLatency(m) ?? 0))) - moveStart : NaN,
  };
  console.log('zone move:', zoneMove);

  clearInterval(rssTimer);
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  const report = {
    devices: DEVICES,
    zones: ZONES,
    fleetProcesses: PROCESSES,
    connectMs,
    connected,
    emergency,
    scheduled,
    floor,
    ratio,
    floorTargetsMet,
    zoneMove,
    profiles,
    broker: BROKER,
    serverRssMb: Math.round(peakRss / 1024 / 1024),
    justConnectedRssMb,
    serverRssPeakMbByPhase: phasePeaks,
    connectedMemoryMb: {
      heapUsed: mb(connectedMemory.heapUsed),
      heapTotal: mb(connectedMemory.heapTotal),
      external: mb(connectedMemory.external),
      arrayBuffers: mb(connectedMemory.arrayBuffers),
    },
    connectedRssMb,
    ...(mosquitto ? { brokerRssMb: Math.round(peakBrokerRss / 1024 / 1024), connectedBrokerRssMb } : {}),
    serverCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    machine: {
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    note: `${BROKER === 'mosquitto' ? 'server in this process, Debian mosquitto as the broker (MQTT_URL)' : 'server and embedded broker in this process'}; fleet in child processes on the same machine; latencies use the device clock (same host clock); render cache warmed for the emergency text`,
    at: new Date().toISOString(),
  };
  const targets = [
    {
      name: 'emergency → started p99 ≤ 1 s',
      measured: `${emergency.p99Ms} ms`,
      met: emergency.p99Ms <= 1000,
    },
    {
      name: 'emergency reaches every online device',
      measured: `${emergency.reached} / ${connected}`,
      met: emergency.reached === connected,
    },
    { name: 'scheduled start skew p99 ≤ 20 ms', measured: `${scheduled.skewP99Ms} ms`, met: scheduled.skewP99Ms <= 20 },
    {
      name: `server RSS ≤ 400 MB with ${connected} devices connected`,
      measured: `${connectedRssMb} MB, ${SETTLE_MS / 1000} s after the last connect (2 s after: ${justConnectedRssMb} MB; peak during the broadcasts: ${report.serverRssMb} MB)`,
      met: connectedRssMb <= 400,
    },
  ];
  for (const child of fleet) child.kill('SIGTERM');
  await server.close();
  const mosquittoLog = mosquitto?.log();
  await mosquitto?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const reports = path.join(ROOT, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  fs.writeFileSync(path.join(reports, 'bench-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (mosquittoLog !== undefined) fs.writeFileSync(path.join(reports, 'bench-mosquitto.log'), mosquittoLog);
  fs.writeFileSync(
    path.join(reports, 'bench-latest.md'),
    [
      `# Loa Xã benchmark — ${report.at}`,
      '',
      `Machine: ${report.machine.cpus}, ${report.machine.memoryGb} GB, ${report.machine.os}, Node ${report.machine.node}.`,
      `Parameters: ${DEVICES} devices in ${ZONES} zones (fleet in ${PROCESSES} process${PROCESSES > 1 ? 'es' : ''}), ${BROKER} broker, scheduled lead ${LEAD_MS} ms, ${MOVE} devices moved. ${report.note}.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| connect (all online) | ${connectMs} ms (${connected}/${DEVICES}) |`,
      `| emergency: API call returned | ${emergency.apiMs} ms |`,
      `| emergency → started p50 / p95 / p99 / max | ${emergency.p50Ms} / ${emergency.p95Ms} / ${emergency.p99Ms} / ${emergency.maxMs} ms |`,
      `| emergency reached | ${emergency.reached} of ${connected} online |`,
      `| scheduled start skew p50 / p99 / max | ${scheduled.skewP50Ms} / ${scheduled.skewP99Ms} / ${scheduled.skewMaxMs} ms |`,
      `| scheduled played / ready before start | ${scheduled.played} / ${scheduled.readyBeforeStart} |`,
      `| zone move → new plan on the device p50 / p95 / max | ${zoneMove.p50Ms} / ${zoneMove.p95Ms} / ${zoneMove.maxMs} ms |`,
      `| zone move: plans received / devices moved (all done in) | ${zoneMove.received} / ${zoneMove.moved} (${zoneMove.allMs} ms) |`,
      `| server RSS, all connected: 2 s / ${SETTLE_MS / 1000} s after the last connect | ${justConnectedRssMb} / ${connectedRssMb} MB${mosquitto ? ` (mosquitto: ${connectedBrokerRssMb} MB)` : ' (broker included)'}; JS heap ${report.connectedMemoryMb.heapUsed} of ${report.connectedMemoryMb.heapTotal} MB, buffers ${report.connectedMemoryMb.arrayBuffers} MB |`,
      `| server peak RSS | ${report.serverRssMb} MB${mosquitto ? ` (mosquitto: ${report.brokerRssMb} MB)` : ' (broker included)'} |`,
      `| server peak RSS by phase: connect / emergency / scheduled | ${phasePeaks.connect} / ${phasePeaks.emergency} / ${phasePeaks.scheduled} MB |`,
      `| server CPU (avg over run) | ${report.serverCpuPercent} % of one core |`,
      '',
      '## Targets (issue 7, on a 2-core machine)',
      '',
      '| target | measured | met |',
      '|---|---|---|',
      ...targets.map((t) => `| ${t.name} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
      '',
      '## Against the floor (issue 22)',
      '',
      'Each floor is measured on the same fleet processes right before ours. Emergency: one bare QoS 1 message',
      `the size of the emergency command (${floor.payloadBytes} bytes) and framed like it (a short JSON header, a NUL byte, raw ` +
        `bytes; ours went framed on ${emergency.zoneTopics.framed} of ${emergency.zoneTopics.all} zone topics), published through the server's broker bus on each zone's`,
      `command topic, to its arrival at each device's MQTT client (reached ${floor.reached} of ${connected}, p50 ${floor.emergencyP50Ms} ms);`,
      `${EMERGENCY_RUNS} pairs, floor then ours, each side's median run by p99 (floor ${floor.emergencyP99RunsMs.join(', ')} ms; ours ` +
        `${emergency.p99RunsMs.join(', ')} ms).`,
      `Skew: the agent's start timer armed on every device for one instant ${LEAD_MS} ms ahead, |fired − instant|`,
      `(fired ${floor.fired}, p50 ${floor.skewP50Ms} ms; read to the µs, ours to the ms); the median of ` +
        `${FLOOR_TIMER_RUNS} instants by p99 (${floor.skewP99RunsMs.join(', ')} ms). Ours by the same rule: the median of ` +
        `${FLOOR_TIMER_RUNS} scheduled broadcasts by p99 (${scheduled.skewP99RunsMs.join(', ')} ms). The longest pause of a fleet ` +
        `process's garbage collector inside each start window, in the same order (0: none), floor ` +
        `${floor.gcPauseRunsMs.join(', ')} ms; ours ${scheduled.gcPauseRunsMs.join(', ')} ms.`,
      '',
      '| p99 | ours | floor | ratio | target | met |',
      '|---|---|---|---|---|---|',
      `| emergency → started (floor: → delivered) | ${emergency.p99Ms} ms | ${floor.emergencyP99Ms} ms | ${ratio.emergencyP99} | ≤ 1.5 × floor (${round2(1.5 * floor.emergencyP99Ms)} ms) | ${floorTargetsMet.emergencyP99 ? 'yes' : '**no**'} |`,
      `| scheduled start skew | ${scheduled.skewP99Ms} ms | ${floor.skewP99Ms} ms | ${ratio.skewP99} | ≤ floor + 5 ms (${round2(floor.skewP99Ms + 5)} ms) | ${floorTargetsMet.skewP99 ? 'yes' : '**no**'} |`,
      '',
      '## Emergency: where the time goes',
      '',
      'Delay from the API call to each stage: published (the server hands the command to its broker), arrived (at the ' +
        "device's MQTT client, as the floor is timed), then what the devices acknowledge (received: decoded; ready: " +
        'audio verified in the cache; started: playing).',
      '',
      '| stage | p50 | p99 |',
      '|---|---|---|',
      ...(['published', 'arrived', 'received', 'ready', 'started'] as const).map(
        (stage) => `| ${stage} | ${emergency.stages[stage].p50Ms} ms | ${emergency.stages[stage].p99Ms} ms |`,
      ),
      '',
      ...profileSections('the emergency', profiles.emergency),
      '## Scheduled start: where the time goes',
      '',
      'Every simulated device due on the instant runs its start on its process’s one event loop, one after',
      'another; a real loudspeaker has its own CPU. Split of the lateness, per fleet process:',
      '',
      `- first device of a process started ${scheduled.firstStartLateMs} ms after the instant (worst process): the timer and`,
      '  the start path itself, what one real loudspeaker sees;',
      `- each further device due on the same instant added ${scheduled.perDeviceStartUs} µs on average: the queue of simulated`,
      `  devices (${Math.ceil(DEVICES / PROCESSES)} per process here), which a real fleet does not have.`,
      '',
      'Profiled from 0.5 s before the start instant to 0.5 s after it.',
      '',
      ...profileSections('the scheduled start', profiles.scheduledStart),
    ].join('\n'),
  );
  console.log(`report: reports/bench-latest.json, reports/bench-latest.md`);
  const ok =
    emergency.reached === connected &&
    scheduled.played === connected &&
    connected === DEVICES &&
    floor.reached === connected &&
    floor.fired === connected &&
    zoneMove.received === zoneMove.moved;
  process.exit(ok ? 0 : 1);
}

interface ProfileSet {
  server: ProfileSummary;
  fleet: ProfileSummary[];
}

function profileSections(when: string, set: ProfileSet | null): string[] {
  if (!set) return [];
  return [
    ...profileSection(`${when}, server (HTTP, broker, SQLite)`, set.server),
    ...set.fleet.flatMap((p, i) => profileSection(`${when}, fleet process ${i + 1} of ${set.fleet.length}`, p)),
  ];
}

function profileSection(title: string, profile: ProfileSummary): string[] {
  return [
    `### CPU profile during ${title}`,
    '',
    `${profile.windowMs} ms window, ${profile.idlePercent} % idle. Heaviest functions (self time):`,
    '',
    '| function | self | share |',
    '|---|---|---|',
    ...profile.top.map((row) => `| \`${row.fn.replaceAll('|', '\\|')}\` | ${row.selfMs} ms | ${row.percent} % |`),
    '',
  ];
}

const run = values.cluster ? clusterMain : values.communes === undefined ? main : provinceMain;
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
