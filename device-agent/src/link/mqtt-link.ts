import { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { connect, type IClientSubscribeOptions, type MqttClient } from 'mqtt';
import {
  commandDecoder,
  encode,
  MAX_PAYLOAD_BYTES,
  parseTopic,
  planDecoder,
  pongDecoder,
  PROTOCOL_VERSION,
  topics,
  type AckPayload,
  type PingPayload,
  type PongPayload,
  type AudioFormat,
  type CommandPayload,
  type PlanPayload,
  type StatusPayload,
  type TelemetryPayload,
} from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logger';
import type { AckTransport } from '../outbox/ack-dispatcher';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';

export interface LinkOptions {
  deviceId: string;
  /** The broker, or the first node of a broker cluster that shares sessions. */
  mqttUrl: string;
  /** The cluster's other nodes: after a failed or lost connection the next attempt goes to the next node. */
  mqttUrls?: readonly string[];
  secret: string;
  /** Extra trusted CA (PEM) for mqtts:// and wss://. */
  ca?: Buffer;
  agentVersion?: string;
  /** Announced in the "online" status when it is not the default "ogg" (a server then makes MP3 copies). */
  audioFormat?: AudioFormat;
  /** Announced in the "online" status: the agent's player makes no sound (null or sim). */
  simulated?: boolean;
  clock: Clock;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** Announce "online" this long after connecting even if no plan arrives (a device with no plan yet). */
  planWaitMs?: number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  /** A connection that stays up this long resets the backoff. */
  stableAfterMs?: number;
}

export interface LinkHandlers {
  /** Returns the zones whose command topics the device must hear after this plan. */
  plan(plan: PlanPayload): readonly string[];
  command(command: CommandPayload): void;
  connected(): void;
  disconnected(): void;
  /** "online" was confirmed by the broker: the server may now count on zone commands reaching us. */
  online(): void;
}

/** One MQTT connection; a new one (same client id, persistent session) replaces it after a drop. */
interface Session {
  client: MqttClient;
  /** The broker node this connection goes to. */
  url: string;
  connected: boolean;
  online: boolean;
  grantedZones: Set<string>;
  /** Settles when this connection closes, so nothing waits forever on a dead client. */
  closed: Promise<never>;
  close: () => void;
  planWait?: NodeJS.Timeout;
  stable?: NodeJS.Timeout;
  /** Asks again for zones the broker refused (retryRefusedZones). */
  zoneRetry?: NodeJS.Timeout;
  /** Zone (un)subscriptions run one at a time on a connection. */
  zoneOps: Promise<void>;
}

/**
 * Sees every message a link's MQTT client receives, before the link looks at it. Unset in the
 * agent; the bench's floor measurement (firmware-sim/src/floor.ts) timestamps arrivals here.
 */
export const messageProbe: { onMessage?: (deviceId: string, topic: string, payload: Buffer) => void } = {};

const QOS1: IClientSubscribeOptions = { qos: 1 };
/** How soon a refused zone subscription is asked for again. */
const ZONE_RETRY_MS = 3_000;
/**
 * A graceful stop waits this long for the "offline" status and for the broker to
 * take the DISCONNECT; mqtt.js would otherwise wait for every unconfirmed QoS 1
 * publish for ever (a broker that stopped answering). What is unconfirmed stays
 * in the outbox and is sent again on the next connection.
 */
const STOP_GRACE_MS = 2_000;

/**
 * The device's MQTT edge: persistent session, last will, plan/command
 * subscriptions that follow the plan's zones, and its own jittered reconnect
 * (mqtt.js's fixed 1 s period would bring a whole fleet back in the same second).
 *
 * With several broker nodes (a cluster sharing sessions, e.g. NATS) it holds one
 * connection at a time and, after a failed or lost one, tries the next node in
 * turn with the same client id and persistent session. The backoff grows once per
 * full round over the nodes, so a dead node costs one short delay, not a long one.
 */
export class MqttLink implements AckTransport {
  private session: Session | undefined;
  private attempt = 0;
  /** The broker nodes in the order they are tried: mqttUrl first, duplicates dropped. */
  private readonly nodes: readonly string[];
  /** Index in `nodes` of the node the next (or current) connection goes to. */
  private node = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private desiredZones = new Set<string>();
  /** Zones subscribed in the broker's persistent session, as far as we know; left zones are unsubscribed on reconnect. */
  private readonly sessionZones = new Set<string>();
  private readonly topics: {
    status: string;
    plan: string;
    cmd: string;
    ack: string;
    telemetry: string;
    ping: string;
    pong: string;
  };
  /** Live topics followed (QoS 0) while a live session plays, with who gets their frames. */
  private readonly live = new Map<string, (payload: Buffer) => void>();
  private pongHandler: ((pong: PongPayload) => void) | undefined;

  constructor(
    private readonly options: LinkOptions,
    private readonly handlers: LinkHandlers,
  ) {
    const id = options.deviceId;
    this.nodes = [...new Set([options.mqttUrl, ...(options.mqttUrls ?? [])])];
    this.topics = {
      status: topics.deviceStatus(id),
      plan: topics.devicePlan(id),
      cmd: topics.deviceCmd(id),
      ack: topics.deviceAck(id),
      telemetry: topics.deviceTelemetry(id),
      ping: topics.devicePing(id),
      pong: topics.devicePong(id),
    };
  }

  /** The live clock exchange: pings go out QoS 0 (a lost one is simply not counted); pongs come to `onPong`. */
  ping(ping: PingPayload): void {
    const session = this.session;
    if (!session?.connected) return;
    session.client.publish(this.topics.ping, JSON.stringify(ping), { qos: 0 });
  }

  onPong(handler: (pong: PongPayload) => void): void {
    this.pongHandler = handler;
  }

  /**
   * Follows a live topic (QoS 0: a late frame is worth nothing) and hands each message to
   * `onFrame` until the returned function is called; followed again after a reconnect.
   */
  listenLive(topic: string, onFrame: (payload: Buffer) => void): () => void {
    this.live.set(topic, onFrame);
    const session = this.session;
    if (session?.connected) {
      void this.subscribe(session, { [topic]: { qos: 0 } }).catch(() => {});
    }
    return () => {
      if (this.live.get(topic) !== onFrame) return;
      this.live.delete(topic);
      const current = this.session;
      if (current?.connected) {
        void Promise.race([current.client.unsubscribeAsync(topic), current.closed]).catch(() => {});
      }
    };
  }

  get isConnected(): boolean {
    return this.session?.connected ?? false;
  }

  get isOnline(): boolean {
    return this.session?.online ?? false;
  }

  /** The broker node of the live connection; undefined while there is none. */
  get brokerUrl(): string | undefined {
    return this.session?.connected ? this.session.url : undefined;
  }

  /** Resolves once the first connection attempt has succeeded or failed; retries continue in the background. */
  start(): Promise<void> {
    this.stopping = false;
    return new Promise((resolve) => this.open(resolve));
  }

  /**
   * Graceful: publish "offline" and disconnect (the broker drops the will).
   * Abrupt: drop the socket without DISCONNECT, as a power cut would, so the broker publishes the will.
   */
  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const session = this.session;
    if (!session) return;
    if (options.abrupt) {
      this.teardown(session);
      return;
    }
    if (session.connected) {
      const offline: StatusPayload = {
        v: PROTOCOL_VERSION,
        state: 'offline',
        at: this.options.clock.now(),
        ...this.version(),
      };
      await withinGrace(this.publish(session, this.topics.status, encode(offline), true).catch(() => {}));
    }
    await withinGrace(new Promise<void>((resolve) => session.client.end(false, {}, () => resolve())));
    this.teardown(session); // forces the end if the broker never answered
  }

  publishAck(ack: AckPayload): Promise<void> {
    const session = this.session;
    if (!session?.connected) return Promise.reject(new Error('not connected'));
    return this.publish(session, this.topics.ack, encode(ack), false);
  }

  publishTelemetry(telemetry: TelemetryPayload): void {
    const session = this.session;
    if (!session?.connected) return;
    this.publish(session, this.topics.telemetry, encode(telemetry), false).catch((err: unknown) =>
      this.options.logger.debug({ err }, 'telemetry not delivered'),
    );
  }

  private open(onFirstSettle?: () => void): void {
    const { deviceId, secret, logger } = this.options;
    const url = this.nodes[this.node]!;
    const willPayload: StatusPayload = { v: PROTOCOL_VERSION, state: 'offline', ...this.version() };
    const client = connect(url, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: this.options.connectTimeoutMs ?? 15_000,
      keepalive: this.options.keepaliveS ?? 30,
      will: { topic: this.topics.status, payload: Buffer.from(encode(willPayload)), qos: 1, retain: true },
      // Added to Node's public roots, so a public certificate keeps working too.
      ...(this.options.ca ? { ca: [...rootCertificates, this.options.ca.toString('utf8')] } : {}),
    });
    let close!: () => void;
    const closed = new Promise<never>((_, reject) => {
      close = () => reject(new Error('connection closed'));
    });
    closed.catch(() => {});
    const session: Session = {
      client,
      url,
      connected: false,
      online: false,
      grantedZones: new Set(),
      closed,
      close,
      zoneOps: Promise.resolve(),
    };
    this.session = session;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      onFirstSettle?.();
    };
    client.on('connect', () => {
      // mqtt.js opens its TCP/TLS socket with Nagle on: a small ack would wait for the previous
      // segment's ACK. A WebSocket stream is no Socket (ws turns Nagle off itself).
      if (client.stream instanceof Socket) client.stream.setNoDelay(true);
      settle();
      this.onConnect(session);
    });
    client.on('message', (topic, payload) => {
      messageProbe.onMessage?.(deviceId, topic, payload);
      if (this.session === session) this.onMessage(session, topic, payload);
    });
    // mqtt.js emits 'error' for refused connections and bad credentials; 'close' follows and drives the retry.
    client.on('error', (err) => logger.warn({ err: err.message }, 'mqtt error'));
    client.on('close', () => {
      settle();
      this.onClose(session);
    });
  }

  private onConnect(session: Session): void {
    const { logger } = this.options;
    session.connected = true;
    logger.info({ attempt: this.attempt, broker: redactUrl(session.url) }, 'mqtt connected');
    session.stable = setTimeout(() => {
      this.attempt = 0;
    }, this.options.stableAfterMs ?? 10_000);
    session.planWait = setTimeout(() => this.announceOnline(session), this.options.planWaitMs ?? 5_000);
    const stale = [...this.sessionZones].filter((zone) => !this.desiredZones.has(zone));
    const subscriptions: Record<string, IClientSubscribeOptions> = {
      [this.topics.plan]: QOS1,
      [this.topics.cmd]: QOS1,
      [this.topics.pong]: { qos: 0 },
      ...Object.fromEntries([...this.live.keys()].map((t) => [t, { qos: 0 as const }])),
    };
    const zones = [...this.desiredZones];
    for (const zone of zones) subscriptions[topics.zoneCmd(zone)] = QOS1;
    this.enqueueZoneOp(session, async () => {
      if (stale.length > 0) await this.unsubscribeZones(session, stale);
      const granted = await this.subscribe(session, subscriptions);
      for (const zone of zones) if (granted.has(topics.zoneCmd(zone))) this.markGranted(session, zone);
      if (!granted.has(this.topics.plan) || !granted.has(this.topics.cmd)) {
        // Without them the device would look online and hear nothing: a clustered broker refuses
        // a subscription it cannot store yet (NATS during an election). Connect again instead.
        logger.error({ granted: [...granted] }, 'broker refused the device plan/cmd subscriptions; reconnecting');
        session.client.end(true);
        return;
      }
      this.retryRefusedZones(session, zones, granted);
    });
    this.handlers.connected();
  }

  private onClose(session: Session): void {
    if (this.session !== session) return;
    const wasConnected = session.connected;
    this.teardown(session);
    if (wasConnected) {
      if (this.stopping) this.options.logger.info('mqtt disconnected');
      else this.options.logger.warn('mqtt connection lost');
      this.handlers.disconnected();
    }
    if (this.stopping) return;
    // One backoff level per full round over the nodes: a dead node costs one short delay.
    const level = Math.floor(this.attempt++ / this.nodes.length);
    const delay = backoffDelay(level, this.options.backoff ?? DEFAULT_BACKOFF);
    if (this.nodes.length > 1) {
      this.node = (this.node + 1) % this.nodes.length;
      this.options.logger.warn(
        { from: redactUrl(session.url), to: redactUrl(this.nodes[this.node]!), delay },
        'mqtt moving to the next broker node',
      );
    }
    this.options.logger.debug({ delay, attempt: this.attempt }, 'mqtt reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.open();
    }, delay);
  }

  private teardown(session: Session): void {
    session.connected = false;
    session.online = false;
    clearTimeout(session.planWait);
    clearTimeout(session.stable);
    clearTimeout(session.zoneRetry);
    session.close();
    if (this.session === session) this.session = undefined;
    // Force: no DISCONNECT packet. With clean:false mqtt.js keeps unacked callbacks pending; the outbox re-sends instead.
    session.client.end(true);
    session.client.removeAllListeners('message');
  }

  private onMessage(session: Session, topic: string, payload: Buffer): void {
    const { logger } = this.options;
    const live = this.live.get(topic);
    if (live) return live(payload);
    const parsed = parseTopic(topic);
    // Frames still in flight after a live play ended (QoS 0, unsubscribed a moment ago): nothing to do.
    if (parsed?.kind === 'live') return;
    if (topic === this.topics.pong) {
      const pong = pongDecoder.decode(payload, MAX_PAYLOAD_BYTES.ping);
      if (pong.ok) this.pongHandler?.(pong.value);
      return;
    }
    if (topic === this.topics.plan) {
      if (payload.byteLength === 0) return; // a cleared retained plan
      const decoded = planDecoder.decode(payload, MAX_PAYLOAD_BYTES.plan);
      if (!decoded.ok) {
        logger.warn({ topic, error: decoded.error }, 'ignored an invalid plan');
        return;
      }
      const zones = this.handlers.plan(decoded.value);
      this.setZones(session, zones);
      return;
    }
    const isOurs = topic === this.topics.cmd || (parsed?.scope === 'zone' && this.desiredZones.has(parsed.zoneId));
    if (!isOurs) {
      logger.debug({ topic }, 'ignored a message on a topic we do not follow');
      return;
    }
    const decoded = commandDecoder.decode(payload, MAX_PAYLOAD_BYTES.cmd);
    if (!decoded.ok) {
      logger.warn({ topic, error: decoded.error }, 'ignored an invalid command');
      return;
    }
    this.handlers.command(decoded.value);
  }

  /** Follows the plan's zones; once they are granted on this connection, the device is ready and says so. */
  private setZones(session: Session, zones: readonly string[]): void {
    const desired = new Set(zones);
    const left = [...this.desiredZones].filter((zone) => !desired.has(zone));
    this.desiredZones = desired;
    this.enqueueZoneOp(session, async () => {
      const added = [...desired].filter((zone) => !session.grantedZones.has(zone));
      if (left.length > 0) await this.unsubscribeZones(session, left);
      if (added.length > 0) {
        const granted = await this.subscribe(session, Object.fromEntries(added.map((z) => [topics.zoneCmd(z), QOS1])));
        for (const zone of added) {
          if (granted.has(topics.zoneCmd(zone))) this.markGranted(session, zone);
          else this.options.logger.error({ zone }, 'broker refused the zone subscription');
        }
        this.retryRefusedZones(session, added, granted);
      }
      this.announceOnline(session);
    });
  }

  /**
   * Asks again, a little later, for zones the broker refused: its access rules may not have been
   * reloaded yet, or a clustered broker could not store the subscription at that moment.
   */
  private retryRefusedZones(session: Session, asked: readonly string[], granted: ReadonlySet<string>): void {
    if (!asked.some((zone) => !granted.has(topics.zoneCmd(zone)))) return;
    clearTimeout(session.zoneRetry);
    session.zoneRetry = setTimeout(() => {
      if (this.session === session && session.connected) this.setZones(session, [...this.desiredZones]);
    }, ZONE_RETRY_MS);
  }

  private markGranted(session: Session, zone: string): void {
    session.grantedZones.add(zone);
    this.sessionZones.add(zone);
  }

  private enqueueZoneOp(session: Session, op: () => Promise<void>): void {
    session.zoneOps = session.zoneOps.then(op).catch((err: unknown) => {
      if (this.session === session)
        this.options.logger.warn({ err: (err as Error).message }, 'subscription change failed');
    });
  }

  private async subscribe(session: Session, map: Record<string, IClientSubscribeOptions>): Promise<Set<string>> {
    let grants: { topic: string; qos: number }[];
    try {
      grants = await Promise.race([session.client.subscribeAsync(map), session.closed]);
    } catch (err) {
      // mqtt.js rejects a SUBACK that refuses any topic; its packet still says which, in order.
      const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
      if (!Array.isArray(codes)) throw err;
      grants = Object.keys(map).map((topic, i) => ({ topic, qos: codes[i] ?? 128 }));
    }
    // QoS 128 in a SUBACK is a refusal (e.g. the broker's authorizeSubscribe said no).
    return new Set(grants.filter((g) => g.qos !== 128).map((g) => g.topic));
  }

  private async unsubscribeZones(session: Session, zones: readonly string[]): Promise<void> {
    await Promise.race([session.client.unsubscribeAsync(zones.map((z) => topics.zoneCmd(z))), session.closed]);
    for (const zone of zones) {
      session.grantedZones.delete(zone);
      this.sessionZones.delete(zone);
    }
  }

  private announceOnline(session: Session): void {
    if (session.online || !session.connected || this.session !== session) return;
    session.online = true;
    clearTimeout(session.planWait);
    const status: StatusPayload = {
      v: PROTOCOL_VERSION,
      state: 'online',
      at: this.options.clock.now(),
      ...this.version(),
      // Only when asked: an older server would refuse a status with a field it does not know.
      ...(this.options.audioFormat && this.options.audioFormat !== 'ogg'
        ? { audioFormat: this.options.audioFormat }
        : {}),
      ...(this.options.simulated ? { simulated: true } : {}),
      // Inline audio then comes as raw bytes (protocol encodeFramed), not base64 in JSON.
      framedCommands: true,
    };
    this.publish(session, this.topics.status, encode(status), true).then(
      () => {
        if (this.session === session) this.handlers.online();
      },
      (err: unknown) => this.options.logger.debug({ err }, 'online status not delivered'),
    );
  }

  private publish(session: Session, topic: string, payload: string, retain: boolean): Promise<void> {
    const sent = session.client.publishAsync(topic, payload, { qos: 1, retain }).then(() => undefined);
    return Promise.race([sent, session.closed]);
  }

  private version(): { agentVersion?: string } {
    return this.options.agentVersion !== undefined ? { agentVersion: this.options.agentVersion } : {};
  }
}

/** A broker URL fit for a log line: without a user name or password, should one be in it. */
function redactUrl(raw: string): string {
  if (!URL.canParse(raw)) return raw;
  const url = new URL(raw);
  if (!url.username && !url.password) return raw;
  url.username = '';
  url.password = '';
  return url.href;
}

function withinGrace(work: Promise<unknown>): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
}
