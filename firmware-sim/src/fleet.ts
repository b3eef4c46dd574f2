import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AckPayload, PlanPayload } from '@loaxa/protocol';
import {
  createAgent,
  MemoryCache,
  readSystemReadings,
  SimPlayer,
  VirtualSoundCard,
  skewedClock,
  type Agent,
  type AssetCache,
  type BackoffPolicy,
  type Clock,
  type Logger,
  type SystemReadings,
} from '@loaxa/device-agent';
import { pino } from 'pino';
import {
  clockSkews,
  DiskFullCache,
  DownloadFaults,
  NetworkFaults,
  selectDevices,
  type FaultName,
  type FaultOptions,
} from './faults';

export interface SimDevice {
  deviceId: string;
  secret: string;
  /** Added to the host clock: a node whose clock runs ahead (+) or behind (−). */
  clockSkewMs?: number;
  /**
   * This device's broker nodes in its order (its provisioned `mqttUrl`, then `mqttUrls`): a
   * cluster's devices start on different nodes and move to the next when theirs dies. Default:
   * the fleet's mqttUrl.
   */
  brokers?: readonly string[];
}

export interface SimFleetOptions {
  serverUrl: string;
  mqttUrl: string;
  devices: readonly SimDevice[];
  logger?: Logger;
  /** Devices connecting at once; a broker takes thousands of simultaneous CONNECTs badly. */
  batchSize?: number;
  telemetryIntervalMs?: number;
  /**
   * Each agent's `ackSpreadMs`. Default 0, unlike an installed agent: a test then sees each ack
   * as soon as it is raised. The bench and the demo pass the installed default
   * (DEFAULT_ACK_SPREAD_MS), so their fleets answer a broadcast as a real one does.
   */
  ackSpreadMs?: number;
  /** Reconnect backoff per device (tests shorten it). */
  backoff?: BackoffPolicy;
  agentVersion?: string;
  /** Faults to inject in this run (see faults.ts). */
  faults?: FaultOptions;
  /**
   * Live audio each virtual sound card keeps, ms (default none: 4 h of a session is 1.4 GB a node);
   * tests and the live bench keep some to find when the clicks sounded.
   */
  liveAudioKeepMs?: number;
}

export interface FleetEvents {
  /** Every ack a device hands to its outbox, across reboots. */
  ack: [deviceId: string, ack: AckPayload];
  /** A plan the device accepted. */
  plan: [deviceId: string, plan: PlanPayload];
  /** A simulated power cut (`down`) and the boot after it (`up`). */
  reboot: [deviceId: string, phase: 'down' | 'up'];
}

export interface FleetFaults {
  /** Devices each fault applies to. */
  targets: Partial<Record<FaultName, ReadonlySet<string>>>;
  /** Present when network faults are on: cut devices off now, or drop their connections. */
  network?: NetworkFaults;
  downloads?: DownloadFaults;
  /** Cuts the `offline` fault's devices off for its `forMs`, now. */
  goOffline(): void;
  /** Cache writes refused with ENOSPC, per device. */
  diskFullFailures(): number;
  reboots: number;
}

export interface SimFleet {
  /** The live agent of each device (a rebooted device gets a new Agent in its slot). */
  agents: Agent[];
  /** Each device's clock, its skew included: what its agent schedules by. */
  clocks: ReadonlyMap<string, Clock>;
  events: EventEmitter<FleetEvents>;
  faults: FleetFaults;
  /** The virtual sound cards each device's live sessions played into, oldest first. */
  liveCards: ReadonlyMap<string, VirtualSoundCard[]>;
  /** Resolves when every device has announced "online"; rejects naming the missing ones after timeoutMs. */
  waitOnline(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the real agent core for each simulated loudspeaker in this process:
 * real MQTT sessions, real HTTP downloads and sha256 checks, silent players that
 * take as long as the audio, and in-memory caches that keep no audio bytes.
 */
export async function startSimFleet(options: SimFleetOptions): Promise<SimFleet> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const ids = options.devices.map((d) => d.deviceId);
  const f = options.faults ?? {};
  const targets: FleetFaults['targets'] = {};
  for (const name of Object.keys(f) as FaultName[]) {
    const spec = f[name];
    if (spec) targets[name] = selectDevices(spec.devices, ids);
  }

  const network = f.offline || f.connectionDrops ? await NetworkFaults.start(options.mqttUrl) : undefined;
  const downloads =
    f.slowDownloads || f.failingDownloads || f.corruptDownloads
      ? await DownloadFaults.start(options.serverUrl, {
          ...(f.slowDownloads
            ? { slow: { devices: targets.slowDownloads!, bytesPerSecond: f.slowDownloads.bytesPerSecond } }
            : {}),
          ...(f.failingDownloads
            ? { failing: { devices: targets.failingDownloads!, failures: f.failingDownloads.failures } }
            : {}),
          ...(f.corruptDownloads
            ? { corrupt: { devices: targets.corruptDownloads!, times: f.corruptDownloads.times } }
            : {}),
        })
      : undefined;
  const skews = f.clockSkew ? clockSkews([...targets.clockSkew!], f.clockSkew.maxMs) : new Map<string, number>();
  const diskFull = new Map<string, DiskFullCache>();
  // Devices that reboot keep their state (plan, acks sent, outbox) on "disk", as a real node does.
  const stateRoot = targets.rebootWhilePlaying?.size ? fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-sim-')) : undefined;
  const events = new EventEmitter<FleetEvents>();
  const clocks = new Map<string, Clock>();
  const liveCards = new Map<string, VirtualSoundCard[]>();
  let stopped = false;
  let reboots = 0;

  // The host's free disk and temperature are every simulated device's: read once for all of them,
  // at most every 10 s, instead of two file-system calls per device per telemetry report.
  let hostReadings: { at: number; value: Promise<SystemReadings> } | undefined;
  const systemReadings = () => {
    if (!hostReadings || performance.now() - hostReadings.at > 10_000) {
      hostReadings = { at: performance.now(), value: readSystemReadings({ dataDir: os.tmpdir() }) };
    }
    return hostReadings.value;
  };

  const build = (device: SimDevice, cache: AssetCache) => {
    const clock = skewedClock((device.clockSkewMs ?? 0) + (skews.get(device.deviceId) ?? 0));
    clocks.set(device.deviceId, clock);
    const durable = stateRoot !== undefined && targets.rebootWhilePlaying!.has(device.deviceId);
    const agent = createAgent(
      {
        deviceId: device.deviceId,
        secret: device.secret,
        serverUrl: downloads?.url ?? options.serverUrl,
        // Network faults run every device through their one proxy, in front of the fleet's broker.
        ...(network || !device.brokers?.length
          ? { mqttUrl: network?.url ?? options.mqttUrl }
          : {
              mqttUrl: device.brokers[0]!,
              ...(device.brokers.length > 1 ? { mqttUrls: device.brokers.slice(1) } : {}),
            }),
        player: { type: 'sim' },
        agentVersion: options.agentVersion ?? 'sim',
        ...(durable ? { dataDir: path.join(stateRoot, device.deviceId) } : {}),
        ...(options.telemetryIntervalMs !== undefined ? { telemetryIntervalMs: options.telemetryIntervalMs } : {}),
        ackSpreadMs: options.ackSpreadMs ?? 0,
      },
      {
        player: new SimPlayer(clock, () => {
          const card = new VirtualSoundCard(clock, { keepMs: options.liveAudioKeepMs ?? 0 });
          liveCards.set(device.deviceId, [...(liveCards.get(device.deviceId) ?? []), card]);
          return card;
        }),
        clock,
        cache,
        systemReadings,
        ...(durable ? { durable: true } : {}),
        // A node with a skewed clock measures it against the server and reports it, as a real one
        // does; the other simulated nodes do not (thousands would poll the server for nothing).
        ...(skews.has(device.deviceId) ? { clockCheck: true } : {}),
        logger: logger.child({ sim: true }),
        ...(options.backoff ? { link: { backoff: options.backoff } } : {}),
      },
    );
    agent.on('ack', (ack) => events.emit('ack', device.deviceId, ack));
    agent.on('plan', (plan) => events.emit('plan', device.deviceId, plan));
    return agent;
  };

  const agents: Agent[] = options.devices.map((device) => {
    // The cache is the node's disk: it survives a reboot.
    let cache: AssetCache = new MemoryCache({ keepBytes: false });
    if (targets.diskFull?.has(device.deviceId)) {
      const full = new DiskFullCache(cache, f.diskFull!.failures);
      diskFull.set(device.deviceId, full);
      cache = full;
    }
    const agent = build(device, cache);
    if (targets.rebootWhilePlaying?.has(device.deviceId)) {
      const { afterMs, downMs } = f.rebootWhilePlaying!;
      let rebooted = false;
      const onAck = (deviceId: string, ack: AckPayload) => {
        if (deviceId !== device.deviceId || ack.stage !== 'started' || rebooted) return;
        rebooted = true;
        events.off('ack', onAck);
        setTimeout(async () => {
          const slot = agents.findIndex((a) => a.deviceId === device.deviceId);
          await agents[slot]!.stop({ abrupt: true });
          reboots++;
          events.emit('reboot', device.deviceId, 'down');
          await new Promise((r) => setTimeout(r, downMs));
          if (stopped) return;
          const fresh = build(device, cache);
          agents[slot] = fresh;
          await fresh.start();
          events.emit('reboot', device.deviceId, 'up');
        }, afterMs);
      };
      events.on('ack', onAck);
    }
    return agent;
  });

  const batchSize = Math.max(1, options.batchSize ?? 50);
  for (let i = 0; i < agents.length; i += batchSize) {
    await Promise.all(agents.slice(i, i + batchSize).map((agent) => agent.start()));
  }
  logger.info({ devices: agents.length, faults: Object.keys(targets) }, 'simulated fleet connecting');

  const goOffline = () => {
    if (network && f.offline) network.cutOff(targets.offline!, f.offline.forMs);
  };
  if (f.offline?.afterMs !== undefined) network!.after(f.offline.afterMs, goOffline);
  if (network && f.connectionDrops && targets.connectionDrops!.size) {
    network.every(f.connectionDrops.everyMs, () => {
      for (const id of targets.connectionDrops!) network.drop(id);
    });
  }

  return {
    agents,
    clocks,
    liveCards,
    events,
    faults: {
      targets,
      ...(network ? { network } : {}),
      ...(downloads ? { downloads } : {}),
      goOffline,
      diskFullFailures: () => [...diskFull.values()].reduce((n, c) => n + c.failed, 0),
      get reboots() {
        return reboots;
      },
    },
    waitOnline: (timeoutMs) => waitOnline(agents, timeoutMs),
    async stop() {
      stopped = true;
      await Promise.all(agents.map((agent) => agent.stop()));
      await network?.close();
      await downloads?.close();
      if (stateRoot) fs.rmSync(stateRoot, { recursive: true, force: true });
    },
  };
}

function waitOnline(agents: readonly Agent[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = new Set(agents.filter((agent) => !agent.online));
    if (pending.size === 0) return resolve();
    const listeners = new Map<Agent, () => void>();
    const cleanup = () => {
      clearTimeout(timer);
      for (const [agent, listener] of listeners) agent.off('online', listener);
    };
    for (const agent of pending) {
      const listener = () => {
        pending.delete(agent);
        if (pending.size === 0) {
          cleanup();
          resolve();
        }
      };
      listeners.set(agent, listener);
      agent.on('online', listener);
    }
    const timer = setTimeout(() => {
      cleanup();
      const missing = [...pending].map((agent) => agent.deviceId);
      const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ', …' : '');
      reject(
        new Error(`${missing.length} of ${agents.length} simulated devices not online after ${timeoutMs} ms: ${shown}`),
      );
    }, timeoutMs);
  });
}
