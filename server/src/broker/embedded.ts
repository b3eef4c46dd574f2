/**
 * The embedded Aedes broker: MQTT over TCP on MQTT_PORT and over WebSocket at
 * /mqtt on the HTTP server. Access rules are enforced in Aedes' hooks.
 */
import net from 'node:net';
import tls from 'node:tls';
import type http from 'node:http';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import mqemitter from 'mqemitter';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { InboundHandler, MessageBus, PublishOptions } from './bus';
import { deviceMayPublish, deviceMaySubscribe } from './access';
import { indexedMemoryPersistence } from './retained-index';

export interface DeviceAuthority {
  verifySecret(deviceId: string, secret: string): Promise<boolean>;
  zonesOf(deviceId: string): Promise<string[]>;
}

export interface EmbeddedBroker {
  bus: MessageBus;
  /** The TCP port actually bound (useful when configured as 0). */
  port: number;
  attachWebSocket(server: http.Server, path?: string): void;
  connectedClients(): number;
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: {
  port: number;
  host: string;
  devices: DeviceAuthority;
  logger: Logger;
  /** PEM certificate and key: the TCP listener then speaks MQTT over TLS. */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * Called for every device publish before it is accepted. Refusing happens
   * before the PUBACK, so the device keeps the message and re-sends it later:
   * a throttled ack is delayed, never lost.
   */
  admitPublish?: (deviceId: string) => boolean;
}): Promise<EmbeddedBroker> {
  const { devices, logger } = options;
  const log = logger.child({ module: 'broker' });
  // Aedes' message queue: at most 1,000 messages delivered at once (a burst of plans to thousands
  // of loudspeakers waits in line instead of flooding every socket). A waiting message that nobody
  // subscribes to (devices' statuses and acks: the server takes those before the queue) used to
  // finish at once and start the next waiting one in the same stack: thousands of them behind a
  // stalled loudspeaker's deliveries overflowed it and killed the server at 5,000 loudspeakers
  // (embedded.test.ts, "under a burst"). Every message now also goes to this subscriber, which
  // lets it finish on the next turn of the event loop: the queue never recurses.
  const mq = mqemitter({ concurrency: 1000, matchEmptyLevels: true });
  mq.on('#', (_message, done) => void setImmediate(done));
  const aedes = await Aedes.createBroker({
    mq,
    persistence: indexedMemoryPersistence(),
    // One stalled device must not block delivery to everyone (see DESIGN.md).
    drainTimeout: 15_000,
    concurrency: 1000,
    maxClientsIdLength: 64,
    heartbeatInterval: 60_000,
    connectTimeout: 15_000,
  });

  aedes.authenticate = (client, username, password, done) => {
    if (!username || !password) return done(authError('username and password required', 4), false);
    if (client.id !== username) return done(authError('client id must equal the device id', 2), false);
    devices.verifySecret(username, password.toString('utf8')).then(
      (ok) => {
        if (ok) return done(null, true);
        log.warn({ deviceId: username }, 'MQTT login refused');
        done(authError('bad device id or secret', 4), false);
      },
      (err: unknown) => {
        // The database did not answer: refused as unavailable (3), the device tries again later.
        log.error({ err, deviceId: username }, 'MQTT login not checked');
        done(authError('server unavailable', 3), false);
      },
    );
  };
  aedes.authorizePublish = (client, packet, callback) => {
    if (!client) return callback(null);
    if (deviceMayPublish(client.id, packet.topic)) {
      if (options.admitPublish && !options.admitPublish(client.id)) {
        log.warn({ deviceId: client.id }, 'device flooding: disconnected');
        return callback(new Error('too many messages'));
      }
      // Applied here, not on Aedes' 'publish' event: Aedes writes the PUBACK of a
      // QoS 1 message before it publishes it, so a message handled on 'publish'
      // could be acknowledged to the device and then lost in a shutdown or crash.
      // The callback (then the PUBACK) waits until the handlers have stored it (see InboundHandler);
      // a message they could not store is refused, so the device keeps it and sends it again.
      deliverToServer(packet.topic, packet.payload as Buffer, client.id).then(
        () => callback(null),
        () => callback(new Error('not stored')),
      );
      return;
    }
    log.warn({ deviceId: client.id, topic: packet.topic }, 'publish refused');
    callback(new Error(`publish to ${packet.topic} not allowed`));
  };
  aedes.authorizeSubscribe = (client, sub, callback) => {
    const decide = (allowed: boolean) => {
      if (allowed) return callback(null, sub);
      log.warn({ deviceId: client.id, topic: sub.topic }, 'subscribe refused');
      // A null subscription is refused with SUBACK 128, without dropping the connection.
      callback(null, null);
    };
    // The device's own topics are decided at once; a zone's topic asks the registry for its zones.
    let needsZones = false;
    const own = deviceMaySubscribe(client.id, sub.topic, () => {
      needsZones = true;
      return [];
    });
    if (own || !needsZones) return decide(own);
    devices.zonesOf(client.id).then(
      (zones) => decide(deviceMaySubscribe(client.id, sub.topic, () => zones)),
      (err: unknown) => {
        log.error({ err, deviceId: client.id }, 'zones not read for a subscription');
        decide(false);
      },
    );
  };

  const messageHandlers: InboundHandler[] = [];
  const disconnectHandlers: ((id: string) => void)[] = [];
  const connectHandlers: ((id: string) => void)[] = [];
  const clients = new Map<string, Client>();

  /** Settles when every handler has stored the message; rejects when one could not (it logged why). */
  async function deliverToServer(topic: string, payload: Buffer, deviceId: string): Promise<void> {
    const storing: Promise<void>[] = [];
    for (const h of messageHandlers) {
      try {
        const stored = h(topic, payload, deviceId);
        if (stored) storing.push(stored);
      } catch (err) {
        log.error({ err, deviceId, topic }, 'inbound handler failed');
      }
    }
    if (storing.length === 0) return;
    const outcomes = await Promise.allSettled(storing);
    if (outcomes.some((o) => o.status === 'rejected')) throw new Error('not stored');
  }
  aedes.on('clientReady', (client) => {
    clients.set(client.id, client);
    for (const h of connectHandlers) h(client.id);
  });
  aedes.on('clientDisconnect', (client) => {
    // A reconnecting device takes over its id; the old connection's close must not mark it offline.
    if (clients.get(client.id) !== client) return;
    clients.delete(client.id);
    for (const h of disconnectHandlers) h(client.id);
  });
  aedes.on('clientError', (client, err) => log.debug({ deviceId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client?.id, err: err.message }, 'connection error'),
  );

  // Nagle off (TCP_NODELAY) on every accepted socket: MQTT packets are small, and a PUBACK or a
  // command held back until the previous segment's ACK arrives costs up to a delayed-ACK period.
  const tcp = options.tls
    ? tls.createServer({ ...options.tls, minVersion: 'TLSv1.2', noDelay: true }, (socket) => aedes.handle(socket))
    : net.createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port, options.host, () => resolve());
  });
  const port = (tcp.address() as net.AddressInfo).port;
  log.info({ port, tls: !!options.tls }, options.tls ? 'MQTT broker listening (TLS)' : 'MQTT broker listening (TCP)');

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));

  const bus: MessageBus = {
    publish(topic, payload, opts: PublishOptions = {}) {
      return new Promise((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(payload),
            qos: opts.qos ?? 1,
            retain: opts.retain ?? false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    onDeviceMessage: (h) => void messageHandlers.push(h),
    onDeviceDisconnect: (h) => void disconnectHandlers.push(h),
    onDeviceConnect: (h) => void connectHandlers.push(h),
    disconnect(deviceId) {
      clients.get(deviceId)?.close();
    },
    async close() {
      // Stop taking connections first, so a device reconnecting during shutdown is not half-served.
      const listenerClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await listenerClosed;
    },
  };

  return {
    bus,
    port,
    connectedClients: () => aedes.connectedClients,
    attachWebSocket(server, path = '/mqtt') {
      server.on('upgrade', (req, socket, head) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname !== path) return;
        // The HTTP server's sockets: Node's default is Nagle off there too; ws sets it as well.
        if (socket instanceof net.Socket) socket.setNoDelay(true);
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      });
    },
  };
}
