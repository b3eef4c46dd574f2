import { EventEmitter } from 'node:events';
import type { AckPayload, PlanPayload } from '@loaxa/protocol';
import { AckReporter } from './ack/ack-reporter';
import type { AssetCache } from './cache/cache';
import { FileCache } from './cache/file-cache';
import { systemClock, type Clock } from './clock/clock';
import { CommandGate } from './commands/command-gate';
import { handleCommand, type DeviceState } from './commands/command-handler';
import { parseConfig, type AgentConfig, type AgentConfigInput } from './config';
import { Downloader } from './download/downloader';
import type { BackoffPolicy } from './link/backoff';
import { MqttLink } from './link/mqtt-link';
import { silentLogger, type Logger } from './logger';
import { OccurrenceRunner } from './occurrence/occurrence-runner';
import { AckDispatcher } from './outbox/ack-dispatcher';
import { MemoryAckOutbox, type AckOutbox } from './outbox/outbox';
import { PlanRunner } from './plan/plan-runner';
import type { Player } from './player/player';
import { Playback } from './playback/playback';
import { buildTelemetry } from './telemetry/telemetry';
import { AGENT_VERSION } from './version';

export interface AgentIo {
  player: Player;
  /** Device clock; defaults to the system clock. Simulators pass a skewed one. */
  clock?: Clock;
  /** Defaults to files under `<dataDir>/cache`. */
  cache?: AssetCache;
  logger?: Logger;
  /** Defaults to an in-memory outbox (acks survive reconnects, not restarts). */
  outbox?: AckOutbox;
  /** Performs a reboot command; without it reboot is acked "skipped". */
  reboot?: () => Promise<void>;
  /** Connection tuning, mainly for tests and large simulated fleets. */
  link?: { backoff?: BackoffPolicy; planWaitMs?: number; connectTimeoutMs?: number; keepaliveS?: number };
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
  private telemetryTimer: NodeJS.Timeout | undefined;
  private startedAtMono = 0;
  private running = false;

  constructor(
    config: AgentConfigInput,
    private readonly io: AgentIo,
  ) {
    super();
    this.config = parseConfig(config);
    this.deviceId = this.config.deviceId;
    this.clock = io.clock ?? systemClock;
    this.logger = (io.logger ?? silentLogger()).child({ deviceId: this.deviceId });
    this.cache = io.cache ?? new FileCache(this.config.dataDir);
    const agentVersion = this.config.agentVersion ?? AGENT_VERSION;
    this.link = new MqttLink(
      {
        deviceId: this.deviceId,
        mqttUrl: this.config.mqttUrl,
        secret: this.config.secret,
        agentVersion,
        clock: this.clock,
        logger: this.logger,
        ...io.link,
      },
      {
        plan: (plan) => this.onPlan(plan),
        command: (command) =>
          handleCommand(command, {
            gate: this.gate,
            runner: this.runner,
            playback: this.playback,
            acks: this.acks,
            clock: this.clock,
            logger: this.logger,
            state: this.state,
            ...(io.reboot ? { reboot: io.reboot } : {}),
          }),
        connected: () => void this.dispatcher.flush(),
        disconnected: () => {
          this.dispatcher.connectionLost();
          this.emit('offline');
        },
        online: () => {
          this.emit('online');
          this.sendTelemetry();
        },
      },
    );
    this.dispatcher = new AckDispatcher(io.outbox ?? new MemoryAckOutbox(), this.link, this.logger);
    this.acks = new AckReporter(this.clock, (ack) => {
      this.logger.debug({ ack }, 'ack');
      this.emit('ack', ack);
      void this.dispatcher.submit(ack);
    });
    this.playback = new Playback(io.player, this.clock, () => this.state.volume);
    const downloader = new Downloader({
      serverUrl: this.config.serverUrl,
      deviceId: this.deviceId,
      secret: this.config.secret,
      cache: this.cache,
    });
    this.runner = new OccurrenceRunner({
      acks: this.acks,
      downloader,
      playback: this.playback,
      clock: this.clock,
      logger: this.logger,
    });
    this.plans = new PlanRunner(this.runner, this.logger);
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
    };
  }

  /** Connects; resolves after the first attempt (success or not). Later attempts run in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAtMono = performance.now();
    const interval = this.config.telemetryIntervalMs;
    this.telemetryTimer = setInterval(() => this.sendTelemetry(), interval);
    this.telemetryTimer.unref();
    await this.link.start();
  }

  /**
   * Stops playback and timers and leaves the broker. `abrupt` drops the socket
   * without a DISCONNECT, like a power cut: the broker then publishes our last will.
   */
  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.telemetryTimer);
    this.playback.close();
    await this.runner.close();
    if (!options.abrupt) await this.dispatcher.idle();
    await this.link.stop(options);
  }

  private onPlan(plan: PlanPayload): readonly string[] {
    const outcome = this.plans.apply(plan);
    if (outcome.accepted) this.emit('plan', plan);
    return outcome.zones;
  }

  private sendTelemetry(): void {
    if (!this.link.isConnected) return;
    this.cache.sizeBytes().then(
      (cacheBytes) =>
        this.link.publishTelemetry(
          buildTelemetry({
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

export function createAgent(config: AgentConfigInput, io: AgentIo): Agent {
  return new Agent(config, io);
}
