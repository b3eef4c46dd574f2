import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileAssets, isLive, planDecoder, type AckPayload, type PlanPayload } from '@loaxa/protocol';
import { AckJournal } from './ack/ack-journal';
import { AckReporter } from './ack/ack-reporter';
import type { AssetCache } from './cache/cache';
import { FileCache } from './cache/file-cache';
import { systemClock, type Clock } from './clock/clock';
import { CommandGate } from './commands/command-gate';
import { handleCommand, type DeviceState } from './commands/command-handler';
import { parseConfig, readCaFile, type AgentConfig, type AgentConfigInput } from './config';
import { ServerOffsetMonitor } from './clock/server-offset';
import { httpGet } from './link/http-get';
import { Downloader } from './download/downloader';
import type { BackoffPolicy } from './link/backoff';
import { MqttLink } from './link/mqtt-link';
import { silentLogger, type Logger } from './logger';
import { OccurrenceRunner } from './occurrence/occurrence-runner';
import { recoverOccurrence } from './occurrence/recovery';
import { AckDispatcher } from './outbox/ack-dispatcher';
import { MemoryAckOutbox, type AckOutbox } from './outbox/outbox';
import { PlanRunner } from './plan/plan-runner';
import { chooseCommandAssets, choosePlanAssets } from './plan/asset-choice';
import type { LivePlay, Player } from './player/player';
import { LiveHub } from './live/hub';
import { AppendLog } from './state/append-log';
import { StateStore } from './state/state-store';
import { Playback } from './playback/playback';
import { buildTelemetry } from './telemetry/telemetry';
import { readSystemReadings, type SystemReadings } from './telemetry/system-readings';
import { AGENT_VERSION } from './version';

export interface AgentIo {
  player: Player;
  /** Device clock; defaults to the system clock. Simulators pass a skewed one. */
  clock?: Clock;
  /** Defaults to files under `<dataDir>/cache`, indexed, within `cacheBudgetBytes`. */
  cache?: AssetCache;
  logger?: Logger;
  /**
   * Where acks wait for the broker on a node that is not durable; defaults to
   * an in-memory outbox (survives reconnects, not restarts). A durable node's
   * outbox is its ack journal, so this is not used there.
   */
  outbox?: AckOutbox;
  /**
   * Keep the plan and the ack journal (stages reached, acks not yet confirmed)
   * under `<dataDir>/state`, so a restart neither loses acks nor plays anything
   * twice. Defaults to true unless the caller brings its own cache (simulated
   * nodes keep everything in memory).
   */
  durable?: boolean;
  /** Performs a reboot command; without it reboot is acked "skipped". */
  reboot?: () => Promise<void>;
  /** Connection tuning, mainly for tests and large simulated fleets. */
  link?: { backoff?: BackoffPolicy; planWaitMs?: number; connectTimeoutMs?: number; keepaliveS?: number };
  /**
   * Compare the clock with the server's every `clockCheckIntervalMs`. Defaults
   * to `durable`: real nodes do, in-memory simulated fleets do not (thousands
   * of them would poll the server for nothing).
   */
  clockCheck?: boolean;
  /**
   * What the node reads about itself for its telemetry (free disk, SoC temperature, signal);
   * defaults to reading them (telemetry/system-readings.ts). A simulated fleet shares one reading
   * among its devices instead of touching the disk for each of thousands.
   */
  systemReadings?: () => Promise<SystemReadings>;
}

export interface AgentEvents {
  /** Every ack, as it is handed to the outbox (before the broker confirms it). */
  ack: [ack: AckPayload];
  /** The broker confirmed our retained "online" for this connection. */
  online: [];
  /** The MQTT connection dropped. */
  offline: [];
  /** A plan was accepted. */
  plan: [plan: PlanPayload];
}

export interface AgentSnapshot {
  deviceId: string;
  connected: boolean;
  online: boolean;
  planVersion: number | null;
  zones: readonly string[];
  playing: string | null;
  volume: number;
  ampOn: boolean;
  /** Server clock − device clock (median of recent exchanges), once measured. */
  clockOffsetMs: number | null;
}

/**
 * One loudspeaker node: wires the link, plan, commands, downloads, playback and
 * ack outbox together. The same core runs on a Pi and, with simulated IO, by
 * the thousand in firmware-sim.
 */
export class Agent extends EventEmitter<AgentEvents> {
  readonly config: AgentConfig;
  readonly deviceId: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache: AssetCache;
  private readonly state: DeviceState = { volume: 100, ampOn: false };
  private readonly playback: Playback;
  private readonly runner: OccurrenceRunner;
  private readonly plans: PlanRunner;
  private readonly gate = new CommandGate();
  private readonly acks: AckReporter;
  private readonly dispatcher: AckDispatcher;
  private readonly link: MqttLink;
  private readonly liveHub: LiveHub;
  /** Durable state under `<dataDir>/state`; null for simulated nodes. */
  private readonly stateStore: StateStore | null;
  /** Stages reached and acks not yet confirmed, one fsynced record each; null for simulated nodes. */
  private readonly journal: AckJournal | null;
  private readonly outbox: AckOutbox;
  private readonly clockMonitor: ServerOffsetMonitor | null;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private startedAtMono = 0;
  private running = false;
  /** Said in every started/finished ack and the online status when the player makes no sound. */
  private readonly simulatedDetail: string | undefined;

  constructor(
    config: AgentConfigInput,
    private readonly io: AgentIo,
  ) {
    super();
    this.config = parseConfig(config);
    this.deviceId = this.config.deviceId;
    this.simulatedDetail =
      this.config.player.type === 'alsa' ? undefined : `simulated: ${this.config.player.type} player, no sound`;
    this.clock = io.clock ?? systemClock;
    this.logger = (io.logger ?? silentLogger()).child({ deviceId: this.deviceId });
    const stateDir = join(this.config.dataDir, 'state');
    this.stateStore = (io.durable ?? io.cache === undefined) ? new StateStore(stateDir, this.logger) : null;
    this.journal = this.stateStore
      ? new AckJournal(new AppendLog(join(stateDir, ACK_JOURNAL_FILE)), {
          clock: this.clock,
          logger: this.logger,
          legacy: this.stateStore,
        })
      : null;
    this.cache =
      io.cache ??
      new FileCache(this.config.dataDir, {
        ...(this.config.cacheBudgetBytes !== undefined ? { budgetBytes: this.config.cacheBudgetBytes } : {}),
        ...(this.stateStore ? { store: this.stateStore } : {}),
        needed: () => this.neededAssets(),
        clock: this.clock,
        logger: this.logger,
      });
    const agentVersion = this.config.agentVersion ?? AGENT_VERSION;
    const ca = this.config.tls ? readCaFile(this.config.tls.caFile) : undefined;
    this.link = new MqttLink(
      {
        deviceId: this.deviceId,
        mqttUrl: this.config.mqttUrl,
        ...(this.config.mqttUrls ? { mqttUrls: this.config.mqttUrls } : {}),
        secret: this.config.secret,
        ...(ca ? { ca } : {}),
        agentVersion,
        audioFormat: this.config.audioFormat,
        simulated: this.simulatedDetail !== undefined,
        clock: this.clock,
        logger: this.logger,
        ...io.link,
      },
      {
        plan: (plan) => this.onPlan(plan),
        command: (command) => {
          // The clock exchange starts as the session's play-now arrives, so the first frames play in step.
          if (command.action === 'play-now' && command.assets.some(isLive)) this.liveHub.warm();
          handleCommand(chooseCommandAssets(command, this.config.audioFormat), {
            gate: this.gate,
            runner: this.runner,
            playback: this.playback,
            acks: this.acks,
            clock: this.clock,
            logger: this.logger,
            state: this.state,
            ...(io.reboot ? { reboot: io.reboot } : {}),
            ...(io.player.controls ? { controls: io.player.controls } : {}),
          });
        },
        connected: () => {
          this.liveHub.connected();
          void this.dispatcher.flush();
        },
        disconnected: () => {
          this.liveHub.disconnected();
          this.dispatcher.connectionLost();
          this.emit('offline');
        },
        online: () => {
          this.emit('online');
          this.sendTelemetry();
        },
      },
    );
    this.outbox = this.journal ?? io.outbox ?? new MemoryAckOutbox();
    this.dispatcher = new AckDispatcher(this.outbox, this.link, this.logger, { spreadMs: this.config.ackSpreadMs });
    this.acks = new AckReporter(
      this.clock,
      (ack) => {
        this.logger.debug({ ack }, 'ack');
        this.emit('ack', ack);
        void this.dispatcher.submit(ack);
      },
      this.journal ?? undefined,
    );
    this.liveHub = new LiveHub(this.link, this.clock, this.logger);
    const live: LivePlay = (asset, sink, signal) => this.liveHub.play(asset, sink, signal);
    this.playback = new Playback(io.player, this.clock, () => this.state.volume, { live });
    const downloader = new Downloader({
      serverUrl: this.config.serverUrl,
      deviceId: this.deviceId,
      secret: this.config.secret,
      cache: this.cache,
      ...(ca ? { ca } : {}),
    });
    const timeUrl = new URL('/api/v1/time', this.config.serverUrl);
    this.clockMonitor =
      (io.clockCheck ?? this.stateStore !== null) && this.config.clockCheckIntervalMs > 0
        ? new ServerOffsetMonitor({
            clock: this.clock,
            intervalMs: this.config.clockCheckIntervalMs,
            warnMs: this.config.clockWarnMs,
            logger: this.logger,
            serverTime: () => fetchServerTime(timeUrl, ca),
            onEstimate: (offsetMs) => {
              this.state.clockOffsetMs = offsetMs;
            },
          })
        : null;
    this.runner = new OccurrenceRunner({
      ...(this.simulatedDetail ? { simulatedDetail: this.simulatedDetail } : {}),
      acks: this.acks,
      downloader,
      playback: this.playback,
      clock: this.clock,
      logger: this.logger,
    });
    this.plans = new PlanRunner(this.runner, this.logger, this.acks);
  }

  get online(): boolean {
    return this.link.isOnline;
  }

  snapshot(): AgentSnapshot {
    return {
      deviceId: this.deviceId,
      connected: this.link.isConnected,
      online: this.link.isOnline,
      planVersion: this.plans.planVersion,
      zones: this.plans.zones,
      playing: this.playback.playing,
      volume: this.state.volume,
      ampOn: this.state.ampOn,
      clockOffsetMs: this.state.clockOffsetMs ?? null,
    };
  }

  /**
   * For the systemd watchdog: false once the agent has stopped or its durable
   * state has stopped reaching the disk (a wedged SD card), so systemd restarts it.
   */
  healthy(): boolean {
    const stalled = Math.max(this.stateStore?.stalledForMs() ?? 0, this.journal?.stalledForMs() ?? 0);
    return this.running && stalled < STATE_STALL_LIMIT_MS;
  }

  /** Connects; resolves after the first attempt (success or not). Later attempts run in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAtMono = performance.now();
    // Every interval from a random phase (the first report goes out on "online"): loudspeakers
    // that boot together, after a power cut or a simulated fleet's start, do not all report in
    // the same instant, every interval, for as long as they run.
    const interval = this.config.telemetryIntervalMs;
    this.telemetryTimer = setTimeout(() => {
      this.sendTelemetry();
      this.telemetryTimer = setInterval(() => this.sendTelemetry(), interval);
      this.telemetryTimer.unref();
    }, Math.random() * interval);
    this.telemetryTimer.unref();
    await this.restore();
    this.clockMonitor?.start();
    await this.link.start();
  }

  /**
   * Stops playback and timers and leaves the broker. `abrupt` drops the socket
   * without a DISCONNECT, like a power cut: the broker then publishes our last will.
   */
  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // One clear for either: Node's timers share one kind, and clearTimeout clears an interval too.
    clearTimeout(this.telemetryTimer);
    this.clockMonitor?.stop();
    this.liveHub.stop();
    this.playback.close();
    await this.runner.close();
    if (!options.abrupt) await this.dispatcher.idle();
    this.dispatcher.close();
    await this.link.stop(options);
    await this.stateStore?.idle();
    await this.journal?.close();
  }

  private onPlan(plan: PlanPayload): readonly string[] {
    // Saved as received, so a node whose audioFormat changes chooses again after its restart.
    const outcome = this.plans.apply(choosePlanAssets(plan, this.config.audioFormat));
    if (outcome.accepted) {
      this.stateStore?.write(PLAN_FILE, plan).catch((err: unknown) => this.logger.error({ err }, 'plan not saved'));
      this.emit('plan', plan);
    }
    return outcome.zones;
  }

  /**
   * Takes back what the previous run left: its ack journal (which stages it
   * reached, which acks the broker never confirmed), closing any occurrence it
   * may have left audible, and its plan, which is resumed at once so a node
   * that boots without network still plays on time.
   */
  private async restore(): Promise<void> {
    if (!this.stateStore || !this.journal) return;
    await this.journal.load(); // fail here rather than mid-flush
    this.acks.restore(this.journal.sentRecord());
    // Before the plan is applied: the plan runner then finds these over and leaves them alone.
    const now = this.clock.now();
    for (const [occurrenceId, entry] of this.journal.occurrences()) {
      const recovery = recoverOccurrence(entry, now);
      if (!recovery) continue;
      this.logger.warn({ occurrenceId, stage: recovery.stage }, 'occurrence left part-way by the last run; reported');
      this.acks.occurrence(occurrenceId, recovery.stage, recovery.detail);
    }
    const plan = await this.stateStore.read<unknown>(PLAN_FILE);
    if (plan !== undefined) {
      if (planDecoder.check(plan)) {
        this.plans.apply(choosePlanAssets(plan, this.config.audioFormat));
        this.logger.info({ planVersion: plan.planVersion }, 'resumed the plan saved before the restart');
      } else {
        this.logger.warn('saved plan does not match the schema; waiting for the broker to deliver one');
      }
    }
    if (this.cache instanceof FileCache) {
      // Re-hashing the cache can take seconds on a Pi; downloads wait for it, the connection need not.
      this.cache.open().catch((err: unknown) => this.logger.error({ err }, 'audio cache could not be opened'));
    }
  }

  private neededAssets(): Set<string> {
    const needed = this.plans.referencedAssets();
    // The item on the loudspeaker now: the playback holds it from the player's start to its end.
    for (const asset of fileAssets(this.playback.playingAssets)) needed.add(asset.sha256);
    return needed;
  }

  private sendTelemetry(): void {
    if (!this.link.isConnected) return;
    const readings = (
      this.io.systemReadings?.() ??
      readSystemReadings({
        dataDir: this.config.dataDir,
        ...(this.config.signalCommand ? { signalCommand: this.config.signalCommand } : {}),
      })
    ).catch(() => ({}));
    Promise.all([this.cache.sizeBytes(), readings]).then(
      ([cacheBytes, system]) =>
        this.link.publishTelemetry(
          buildTelemetry({
            ...system,
            at: this.clock.now(),
            volume: this.state.volume,
            playing: this.playback.playing,
            cacheBytes,
            uptimeS: (performance.now() - this.startedAtMono) / 1000,
            ...(this.state.clockOffsetMs !== undefined ? { clockOffsetMs: this.state.clockOffsetMs } : {}),
          }),
        ),
      (err: unknown) => this.logger.warn({ err }, 'cache size unknown; telemetry skipped'),
    );
  }
}

const PLAN_FILE = 'plan';
const ACK_JOURNAL_FILE = 'acks.jsonl';
/** A state write pending this long means the disk is wedged: stop feeding the watchdog. */
const STATE_STALL_LIMIT_MS = 60_000;

async function fetchServerTime(url: URL, ca: Buffer | undefined): Promise<number> {
  const response = await httpGet(url, { timeoutMs: 10_000, ca, headers: { accept: 'application/json' } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url.pathname}: HTTP ${response.status}`);
  const now = (JSON.parse(text) as { now?: unknown }).now;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new Error(`GET ${url.pathname}: no "now" in the reply`);
  return now;
}

export function createAgent(config: AgentConfigInput, io: AgentIo): Agent {
  return new Agent(config, io);
}
