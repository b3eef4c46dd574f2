/**
 * The server's MessageBus over a NATS cluster (NATS mode, see nats.ts):
 * - publishing (plans, commands, live frames) through an MQTT client that
 *   knows every node's MQTT listener and moves to the next one when its node
 *   dies; retained plans need the MQTT path (NATS keeps MQTT retained messages
 *   in its own stream, written only by MQTT publishes);
 * - device messages from durable JetStream consumers shared by the instances
 *   (jetstream-inbound.ts: on the nodes' own MQTT stream, used as a work
 *   queue), not from MQTT subscriptions: each one reaches one instance. Its handlers run and, once every returned promise resolves, the
 *   message is acked; a rejection leaves it to be delivered again;
 * - device events from the protocol, as external.ts does: an "online" status
 *   is a new connection, any other status a drop. They fire on the instance
 *   that took the status, so connectedClients() counts this instance's share
 *   (the registry's online flags, shared by the instances, count them all).
 * - credentials in the nodes' authorization include file (nats.ts), when
 *   NATS_AUTH_FILE is set; a revoked device is dropped by the nodes' reload.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MAX_PAYLOAD_BYTES, parseTopic, statusDecoder } from '@loaxa/protocol';
import type { InboundHandler, InboundMeta, MessageBus, PublishOptions } from './bus';
import { startJetStreamInbound, type JetStreamInbound } from './jetstream-inbound';
import { NatsAuthorization, type NatsRegistryView } from './nats';

export interface NatsBrokerRegistry extends NatsRegistryView {
  observe(observer: {
    deviceCreated?(deviceId: string, secret: string): void;
    deviceRevoked?(deviceId: string): void;
    zonesChanged?(deviceId: string): void;
  }): void;
}

export interface NatsBroker {
  bus: MessageBus;
  /** Devices whose latest status handled by this instance says online. */
  connectedClients(): number;
  /** Resolves once credential changes made so far are loaded by every node (true without NATS_AUTH_FILE). */
  credentialsSettled(): Promise<boolean>;
  /** The MQTT listener the server's own client is on now (undefined while between nodes). */
  mqttNode(): string | undefined;
}

export async function connectNatsBroker(options: {
  /** Each node's MQTT listener; the first is tried first. */
  mqttUrls: readonly string[];
  /** Each node's client URL. */
  natsUrls: readonly string[];
  /** The base of the MQTT client id; each instance adds its own suffix. */
  clientId: string;
  username?: string;
  password?: string;
  /** The authorization include file the nodes load (NATS_AUTH_FILE); unset: the cluster enforces its own. */
  authFile?: string;
  pidFiles?: readonly string[];
  registry: NatsBrokerRegistry;
  logger: Logger;
  connectTimeoutMs?: number;
  /** JetStream consumer tuning (tests). */
  ackWaitMs?: number;
  confirmTimeoutMs?: number;
}): Promise<NatsBroker> {
  const log = options.logger.child({ module: 'broker', nats: true });
  if (options.mqttUrls.length === 0 || options.natsUrls.length === 0)
    throw new Error('NATS mode needs MQTT and NATS URLs');

  // The server's own user must be in the file before it can log in.
  let auth: NatsAuthorization | undefined;
  if (options.authFile) {
    if (!options.username || !options.password) throw new Error('NATS_AUTH_FILE needs MQTT_USERNAME and MQTT_PASSWORD');
    auth = new NatsAuthorization({
      file: options.authFile,
      pidFiles: options.pidFiles ?? [],
      natsUrls: options.natsUrls,
      serverUser: options.username,
      serverPassword: options.password,
      registry: options.registry,
      logger: options.logger,
      ...(options.confirmTimeoutMs ? { confirmTimeoutMs: options.confirmTimeoutMs } : {}),
    });
    if (!(await auth.start())) log.warn('the NATS authorization file is written but not confirmed on every node');
    const a = auth;
    options.registry.observe({
      deviceCreated: (id, secret) => a.deviceCreated(id, secret),
      deviceRevoked: (id) => a.deviceRevoked(id),
      zonesChanged: () => a.zonesChanged(),
    });
  } else {
    log.warn(
      'NATS mode without NATS_AUTH_FILE: device credentials and permissions must be enforced by the cluster itself',
    );
  }

  const messageHandlers: InboundHandler[] = [];
  const connectHandlers: ((id: string) => void)[] = [];
  const disconnectHandlers: ((id: string, meta?: InboundMeta) => void)[] = [];
  const online = new Set<string>();
  const fire = (handlers: ((id: string, meta?: InboundMeta) => void)[], deviceId: string, meta?: InboundMeta) => {
    for (const h of handlers) {
      try {
        h(deviceId, meta);
      } catch (err) {
        log.error({ err, deviceId }, 'device event handler failed');
      }
    }
  };

  /** Rejects when a handler could not handle it: JetStream delivers it again. */
  async function dispatch(topic: string, payload: Buffer, meta?: InboundMeta): Promise<void> {
    const parsed = parseTopic(topic);
    if (parsed?.scope !== 'dev') return;
    const deviceId = parsed.deviceId;
    const storing: Promise<void>[] = [];
    let failed = false;
    for (const h of messageHandlers) {
      try {
        const stored = h(topic, payload, deviceId, meta);
        if (stored) storing.push(stored);
      } catch (err) {
        failed = true;
        log.error({ err, deviceId, topic }, 'inbound handler failed');
      }
    }
    const outcomes = await Promise.allSettled(storing);
    for (const o of outcomes)
      if (o.status === 'rejected') log.error({ err: o.reason, deviceId, topic }, 'inbound handler failed');
    if (failed || outcomes.some((o) => o.status === 'rejected')) throw new Error(`${topic}: not handled`);
    if (parsed.kind !== 'status' || payload.length === 0) return;
    const status = statusDecoder.decode(payload, MAX_PAYLOAD_BYTES.status);
    if (!status.ok) return;
    // Every "online" is a new connection: the device gets a fresh plan.
    if (status.value.state === 'online') {
      online.add(deviceId);
      fire(connectHandlers, deviceId);
    } else {
      // Its "online" may have gone to another instance: every drop is told (the handlers are idempotent).
      online.delete(deviceId);
      fire(disconnectHandlers, deviceId, meta);
    }
  }

  const client = await connectMqtt(options, log);
  let inbound: JetStreamInbound;
  try {
    inbound = await startJetStreamInbound({
      servers: options.natsUrls,
      ...(options.username ? { user: options.username, pass: options.password ?? '' } : {}),
      handle: dispatch,
      logger: options.logger,
      ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    });
  } catch (err) {
    await client.endAsync(true);
    throw err;
  }

  const bus: MessageBus = {
    async publish(topic, payload, opts: PublishOptions = {}) {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
    },
    onDeviceMessage: (h) => void messageHandlers.push(h),
    onDeviceConnect: (h) => void connectHandlers.push(h),
    onDeviceDisconnect: (h) => void disconnectHandlers.push(h),
    disconnect(deviceId) {
      // Revocation already rewrote the file; the nodes drop the device when they reload it.
      if (auth) void auth.settled();
      else log.warn({ deviceId }, 'cannot drop a device from a NATS cluster without NATS_AUTH_FILE');
    },
    async close() {
      auth?.close();
      await inbound.close();
      await client.endAsync();
    },
  };
  return {
    bus,
    connectedClients: () => online.size,
    credentialsSettled: () => auth?.settled() ?? Promise.resolve(true),
    mqttNode: () =>
      client.connected ? `${client.options.protocol}://${client.options.host}:${client.options.port}` : undefined,
  };
}

/** An MQTT client over every node: mqtt.js tries the next listener on each reconnect. */
async function connectMqtt(
  options: {
    mqttUrls: readonly string[];
    clientId: string;
    username?: string;
    password?: string;
    connectTimeoutMs?: number;
  },
  log: Logger,
): Promise<MqttClient> {
  const servers = options.mqttUrls.map((u) => {
    const url = new URL(u);
    const protocol = url.protocol.slice(0, -1) as 'mqtt' | 'mqtts' | 'ws' | 'wss';
    const port = Number(url.port) || { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 }[protocol];
    return { host: url.hostname, port, protocol };
  });
  // Nothing waits in the broker for the server (inbound comes from JetStream), so a clean session; and
  // each instance its own client id, or two instances would take each other's connection.
  const clientId = `${options.clientId}-${crypto.randomBytes(4).toString('hex')}`;
  const clientOptions: IClientOptions = {
    clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 1_000,
    // Above nats-server's 4 s JetStream API timeout (test/nats-cluster.ts): an attempt given up earlier
    // leaves the client id locked on that node.
    connectTimeout: 5_000,
    keepalive: 15,
    servers,
    ...(options.username ? { username: options.username, password: options.password ?? '' } : {}),
  };
  const client = connect(options.mqttUrls[0]!, clientOptions);
  client.on('connect', () => {
    // Nagle off on each new socket: plans and live frames are small packets (DESIGN.md).
    if (client.stream instanceof net.Socket) client.stream.setNoDelay(true);
    log.info({ clientId, node: `${client.options.host}:${client.options.port}` }, 'connected to a NATS node over MQTT');
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'NATS MQTT client error'));
  client.on('offline', () => log.warn('NATS node unreachable; trying the next one'));
  await new Promise<void>((resolve, reject) => {
    const timeoutMs = options.connectTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT_URL: no NATS node accepted the server's MQTT connection after ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}
