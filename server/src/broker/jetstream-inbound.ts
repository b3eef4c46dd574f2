/**
 * Inbound device messages from a NATS cluster, shared by several server
 * instances (NATS mode, see nats.ts).
 *
 * A device publishes its status, telemetry and acks over MQTT at QoS 1. A
 * NATS node PUBACKs such a message only once it is stored in the account's
 * MQTT stream `$MQTT_msgs` (subject `$MQTT.msgs.loaxa.v1.dev.<id>.<kind>`,
 * replicated as the nodes' `mqtt { stream_replicas }` says; interest
 * retention). For each kind ONE durable pull consumer on that stream is shared
 * by every instance: each message goes to one instance, is handed to the same
 * handler the MQTT path uses, and is acked only once the handler's promise
 * resolves; then the stream drops it, as a work queue would. An instance that
 * dies mid-handler leaves its messages unacked: after ack_wait the consumer
 * gives them to another (at least once; the handlers are idempotent:
 * AckLedger.record drops a repeated stage, status and telemetry overwrite).
 * A handler that fails is retried after a pause.
 *
 * Why not a WORK-QUEUE stream of our own capturing `loaxa.v1.dev.*.ack`
 * (DESIGN.md's first idea): a stream captures a core publish without telling
 * the publisher, so while that stream elects a new leader (a node killed:
 * 4–9 s) the captured messages are dropped although the device was PUBACKed:
 * measured here, 12 of 40 acks sent in the 6 s after kill -9 of the stream's
 * leader were lost. `$MQTT_msgs` is written before the PUBACK: during its
 * election the node drops the device, which sends the message again.
 * The cost: the consumers sit on nats-server's own MQTT stream (its name and
 * subject prefix are the same from 2.2 to 2.10); 2.9 allows one filter per
 * consumer, hence one durable per kind.
 *
 * Messages of one device are handled in order on an instance (a chain per
 * device id); messages of different devices run concurrently. Two instances
 * may still hold two messages of one device at once: ordering across
 * instances is not promised (MQTT gave none across reconnects either).
 *
 * `ping` (the live clock exchange, QoS 0) is not stored at all: a core NATS
 * queue subscription gives each ping to one instance at once.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { Logger } from 'pino';
import { topics, type DeviceTopicKind } from '@loaxa/protocol';
import { mqttTopic, natsSubject } from './nats';

/** Kinds taken from the MQTT stream, each message by one instance. */
export const DURABLE_KINDS: readonly DeviceTopicKind[] = ['status', 'telemetry', 'ack'];
/** Kinds handed to one instance at once, not stored. */
export const QUEUE_GROUP_KINDS: readonly DeviceTopicKind[] = ['ping'];

/** nats-server's stream of MQTT QoS 1 messages, and the prefix of its subjects. */
export const MQTT_STREAM = '$MQTT_msgs';
export const MQTT_STREAM_PREFIX = '$MQTT.msgs.';
export const inboundConsumer = (kind: DeviceTopicKind) => `loaxa-inbound-${kind}`;
const QUEUE_GROUP = 'loaxa-server';
/** A handler that keeps failing (a bug, not an outage) stops being retried after this many deliveries. */
const MAX_DELIVERIES = 100;
const RETRY_DELAY_MS = 2_000;

/** `loaxa.v1.dev.*.ack` and so on. */
export const inboundSubject = (kind: DeviceTopicKind): string => natsSubject(topics.allDevices(kind));

export type InboundCallback = (topic: string, payload: Buffer, meta?: { seq?: number }) => Promise<void>;

export interface JetStreamInboundOptions {
  /** Client URLs of the cluster's nodes; the client moves between them. */
  servers: readonly string[];
  user?: string;
  pass?: string;
  /** Called once per message (at least once); the message is acked when its promise resolves. */
  handle: InboundCallback;
  logger: Logger;
  /** How long a message may stay unacked before another instance gets it (extended while its handler runs). */
  ackWaitMs?: number;
  /** Messages handled at once by this instance (over all kinds). */
  concurrency?: number;
  /** Messages asked of the server per pull and kind (this instance's prefetch). */
  batch?: number;
  /** Shown in the server's connection list. */
  name?: string;
}

export interface JetStreamInbound {
  /** Stops taking messages, lets the running handlers finish (their messages acked), then disconnects. */
  close(): Promise<void>;
  connection: NatsConnection;
}

export async function startJetStreamInbound(options: JetStreamInboundOptions): Promise<JetStreamInbound> {
  const log = options.logger.child({ module: 'jetstream-inbound' });
  // How soon a message an instance took and never acked (it died) goes to another: a stored
  // message takes milliseconds, and a long handler says it is still working (below).
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const nc = await connect({
    servers: [...options.servers],
    ...(options.user ? { user: options.user, pass: options.pass ?? '' } : {}),
    name: options.name ?? 'loaxa-server inbound',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ event: s.type, server: s.data }, 'NATS');
    }
  })();

  const jsm = await nc.jetstreamManager();
  // The stream exists once any MQTT client has connected to the account (the server's own has).
  for (const kind of DURABLE_KINDS) {
    const config: Partial<ConsumerConfig> = {
      durable_name: inboundConsumer(kind),
      filter_subject: MQTT_STREAM_PREFIX + inboundSubject(kind),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      max_ack_pending: 10_000,
    };
    try {
      await jsm.consumers.add(MQTT_STREAM, config);
    } catch (err) {
      // It exists with another configuration (another ack wait): bring it to ours.
      log.info({ err: (err as Error).message, kind }, 'updating an inbound consumer');
      await jsm.consumers.update(MQTT_STREAM, inboundConsumer(kind), config);
    }
  }

  // Per device, one message at a time, in order; `running` bounds the total.
  const chains = new Map<string, Promise<void>>();
  let running = 0;
  const slotWaiters: (() => void)[] = [];
  let closing = false;

  const handleOne = async (m: JsMsg) => {
    const topic = mqttTopic(m.subject.slice(MQTT_STREAM_PREFIX.length));
    // Tell the server we are still at it, so a slow handler (a busy database) is not redelivered meanwhile.
    const ticker = setInterval(() => m.working(), Math.max(1_000, ackWaitMs / 3));
    try {
      await options.handle(topic, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), { seq: m.seq });
      m.ack();
    } catch (err) {
      const deliveries = m.info.redeliveryCount;
      if (deliveries >= MAX_DELIVERIES) {
        log.error({ err, topic, deliveries }, 'inbound message dropped: its handler failed on every delivery');
        m.term();
      } else {
        log.warn({ err, topic, deliveries }, 'inbound handler failed; the message will be delivered again');
        m.nak(RETRY_DELAY_MS);
      }
    } finally {
      clearInterval(ticker);
    }
  };

  const take = async (m: JsMsg) => {
    while (running >= concurrency) await new Promise<void>((r) => slotWaiters.push(r));
    running++;
    const key = m.subject.slice(MQTT_STREAM_PREFIX.length).split('.')[3] ?? m.subject;
    const run = (chains.get(key) ?? Promise.resolve()).then(() => handleOne(m));
    chains.set(key, run);
    void run.finally(() => {
      running--;
      if (chains.get(key) === run) chains.delete(key);
      slotWaiters.shift()?.();
    });
  };

  const js = nc.jetstream();
  const streams: ConsumerMessages[] = [];
  const pumps = DURABLE_KINDS.map(async (kind) => {
    const consumer = await js.consumers.get(MQTT_STREAM, inboundConsumer(kind));
    // A short pull expiry: after a node dies, the pulls it held are re-issued within seconds.
    const messages = await consumer.consume({
      max_messages: Math.max(1, options.batch ?? concurrency),
      expires: 5_000,
    });
    if (closing) return void (await messages.close());
    streams.push(messages);
    for await (const m of messages) {
      if (closing) break; // not acked: another instance gets it after ack_wait
      await take(m);
    }
  });
  const pumping = Promise.all(pumps).catch((err: unknown) => log.error({ err }, 'an inbound consumer stopped'));

  const queueSubs: Subscription[] = QUEUE_GROUP_KINDS.map((kind) =>
    nc.subscribe(inboundSubject(kind), {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return log.warn({ err }, 'queue subscription error');
        const topic = mqttTopic(msg.subject);
        options
          .handle(topic, Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))
          .catch((e: unknown) => log.warn({ err: e, topic }, 'inbound handler failed'));
      },
    }),
  );
  log.info(
    { stream: MQTT_STREAM, kinds: DURABLE_KINDS, concurrency },
    'consuming inbound device messages from JetStream',
  );

  return {
    connection: nc,
    async close() {
      closing = true;
      for (const s of queueSubs) s.unsubscribe();
      await Promise.all(streams.map((m) => m.close()));
      await pumping;
      await Promise.allSettled([...chains.values()]);
      // close(), not drain(): nothing more to take, and acks already went out with the handlers.
      await nc.flush().catch(() => {});
      await nc.close();
    },
  };
}
