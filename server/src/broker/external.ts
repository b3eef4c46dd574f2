/**
 * The server as a client of an external broker (MQTT_URL): Mosquitto, EMQX or
 * any MQTT 3.1.1 broker. It offers the same MessageBus as the embedded Aedes.
 *
 * There are no broker hooks here, so device events come from the protocol:
 * a device's retained status topic says "online" once it has its plan and
 * zone subscriptions, and its last will says "offline" when it drops. The
 * device id is read from the topic; the broker's ACL is what guarantees that
 * only that device may write there (see mosquitto.ts).
 */
import net from 'node:net';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { DEVICE_PUBLISHES, MAX_PAYLOAD_BYTES, parseTopic, statusDecoder, topics } from '@loaxa/protocol';
import type { InboundHandler, MessageBus, PublishOptions } from './bus';
import { ACL_SYNC_FILTER, aclSyncTopic } from './mosquitto';

export interface ExternalBroker {
  bus: MessageBus;
  /** Devices whose latest status says online. */
  connectedClients(): number;
  /** Resolves when the broker delivers our own message on aclSyncTopic(generation): the ACL that allows it is loaded. */
  confirmAcl(generation: string, timeoutMs?: number): Promise<boolean>;
  /** Drops of a device's connection are the broker's job; this hook performs them (e.g. Mosquitto files + reload). */
  onDisconnectRequest(handler: (deviceId: string) => void): void;
}

export async function connectExternalBroker(options: {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  logger: Logger;
  connectTimeoutMs?: number;
}): Promise<ExternalBroker> {
  const log = options.logger.child({ module: 'broker', external: true });
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    // A persistent session: acks published while the server restarts wait in the broker for it.
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 2_000,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: false,
    ...(options.username ? { username: options.username, password: options.password ?? '' } : {}),
  };
  const client: MqttClient = connect(options.url, clientOptions);
  // mqtt.js opens its TCP/TLS socket with Nagle on; small QoS 1 packets would wait for the previous
  // segment's ACK. Each reconnect has a new socket: set it on every CONNACK.
  client.on('connect', () => setNoDelay(client.stream));
  const messageHandlers: InboundHandler[] = [];
  const connectHandlers: ((id: string) => void)[] = [];
  const disconnectHandlers: ((id: string) => void)[] = [];
  const disconnectRequests: ((id: string) => void)[] = [];
  const syncWaiters = new Map<string, () => void>();
  const online = new Set<string>();
  const subscriptions = [...DEVICE_PUBLISHES.map((kind) => topics.allDevices(kind)), ACL_SYNC_FILTER];

  const fire = (handlers: ((id: string) => void)[], deviceId: string) => {
    for (const h of handlers) {
      try {
        h(deviceId);
      } catch (err) {
        log.error({ err, deviceId }, 'device event handler failed');
      }
    }
  };

  // mqtt.js emits 'message', then calls handleMessage, and sends the PUBACK of a QoS 1 message
  // when handleMessage calls back: it waits there until the handlers have stored the message
  // (see InboundHandler), so an ack is stored before the broker may forget it, as with the
  // embedded broker. One message at a time: mqtt.js reads the next when this one is done.
  const storing = new WeakMap<object, Promise<PromiseSettledResult<void>[]>>();
  client.handleMessage = (packet, callback) => {
    const stored = storing.get(packet);
    if (!stored) return callback();
    storing.delete(packet);
    void stored.then((outcomes) => {
      if (!outcomes.some((o) => o.status === 'rejected')) return callback();
      // Not acknowledged: dropping the connection makes the broker send it again on the next one
      // (our session persists), instead of leaving it in flight for good.
      callback(new Error('not stored'));
      client.stream.destroy();
    });
  };
  client.on('message', (topic, payload, packet) => {
    const waiter = syncWaiters.get(topic);
    if (waiter) return waiter();
    const parsed = parseTopic(topic);
    if (parsed?.scope !== 'dev' || !DEVICE_PUBLISHES.includes(parsed.kind)) return;
    const deviceId = parsed.deviceId;
    const pending: Promise<void>[] = [];
    for (const h of messageHandlers) {
      try {
        const stored = h(topic, payload, deviceId);
        if (stored) pending.push(stored);
      } catch (err) {
        log.error({ err, deviceId, topic }, 'inbound handler failed');
      }
    }
    const stored = pending.length > 0 ? Promise.allSettled(pending) : null;
    if (stored) storing.set(packet, stored);
    if (parsed.kind !== 'status' || payload.length === 0) return;
    const status = statusDecoder.decode(payload, MAX_PAYLOAD_BYTES.status);
    if (!status.ok) return;
    // Told once the status is stored (the plan then follows the format it asked for).
    const tell = (handlers: ((id: string) => void)[]) =>
      stored ? void stored.then(() => fire(handlers, deviceId)) : fire(handlers, deviceId);
    // Every "online" is a new connection (or our own re-subscription after a restart): the device gets a fresh plan.
    if (status.value.state === 'online') {
      online.add(deviceId);
      tell(connectHandlers);
    } else if (online.delete(deviceId)) {
      tell(disconnectHandlers);
    }
  });
  client.on('connect', (connack) => {
    log.info({ url: redact(options.url), sessionPresent: connack.sessionPresent }, 'connected to the external broker');
    client.subscribe(Object.fromEntries(subscriptions.map((t) => [t, { qos: 1 as const }])), (err, granted) => {
      if (err) return log.error({ err }, 'subscribing to device topics failed');
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length)
        log.error({ refused }, 'the broker refused our subscriptions: check the server user in its ACL');
    });
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'external broker error'));
  client.on('offline', () => log.warn('external broker unreachable; retrying'));

  await new Promise<void>((resolve, reject) => {
    const timeoutMs = options.connectTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT_URL=${redact(options.url)}: no connection to the external broker after ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  const bus: MessageBus = {
    async publish(topic, payload, opts: PublishOptions = {}) {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
    },
    onDeviceMessage: (h) => void messageHandlers.push(h),
    onDeviceConnect: (h) => void connectHandlers.push(h),
    onDeviceDisconnect: (h) => void disconnectHandlers.push(h),
    disconnect(deviceId) {
      if (disconnectRequests.length === 0) {
        log.warn({ deviceId }, 'cannot drop a device on an external broker without managed credentials');
      }
      fire(disconnectRequests, deviceId);
    },
    async close() {
      for (const resolve of syncWaiters.values()) resolve();
      await client.endAsync();
    },
  };

  return {
    bus,
    connectedClients: () => online.size,
    onDisconnectRequest: (h) => void disconnectRequests.push(h),
    confirmAcl(generation, timeoutMs = 5_000) {
      const topic = aclSyncTopic(generation);
      return new Promise((resolve) => {
        // Until the reload, the old ACL lets us write here but not read it back; QoS 0 so nothing queues up.
        const ping = () => client.publish(topic, '', { qos: 0 });
        const ticker = setInterval(ping, 50);
        const timer = setTimeout(() => done(false), timeoutMs);
        function done(ok: boolean) {
          clearInterval(ticker);
          clearTimeout(timer);
          syncWaiters.delete(topic);
          resolve(ok);
        }
        syncWaiters.set(topic, () => done(true));
        ping();
      });
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** TCP_NODELAY on an mqtt.js stream when it is a socket (a WebSocket stream is not; ws sets it itself). */
function setNoDelay(stream: unknown): void {
  if (stream instanceof net.Socket) stream.setNoDelay(true);
}
