/**
 * Everything devices publish arrives here, is size-checked and validated with
 * the protocol schemas, and is then applied. Garbage is logged and ignored.
 *
 * Applying is batched: the messages of one turn of the event loop (and the
 * disconnects among them) are stored in one transaction, each device's in arrival order,
 * and what they tell others (console events, plan and rendition work, clock
 * warnings) happens after its commit. Messages that arrive while a batch is
 * being stored wait for the next. Each message's handler returns a promise
 * that settles with its batch, so the broker acknowledges it (PUBACK) only
 * once it is stored. When a batch fails, its messages are stored one by one,
 * so one bad message costs only itself: it is logged and left unacknowledged
 * (the device sends it again), and the others are kept.
 */
import {
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  ackDecoder,
  parseTopic,
  pingDecoder,
  statusDecoder,
  topics,
  telemetryDecoder,
  type AudioFormat,
  type TelemetryPayload,
} from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { MessageBus } from '../broker/bus';
import type { SqlDb } from '../db/sql';
import type { AckLedger } from './acks';
import { CLOCK_OFFSET_WARN_MS, type BatchTx, type DeviceRegistry } from './registry';
import type { ServerMetrics } from '../metrics/metrics';

export interface InboundDeps {
  sql: SqlDb;
  bus: MessageBus;
  registry: DeviceRegistry;
  acks: AckLedger;
  logger: Logger;
  /** Called when a device announces it is online (and subscribed to its zones). */
  onOnline?: (deviceId: string) => void;
  /** Called with the format each "online" status asks for ("ogg" when it names none) and the one stored before. */
  onAudioFormat?: (deviceId: string, format: AudioFormat, previous: AudioFormat) => void;
  metrics?: Pick<ServerMetrics, 'mqttMessages' | 'mqttRejected'>;
}

/** One message's (or disconnect's) work in a batch. */
interface Step {
  deviceId: string;
  what: string;
  apply(batch: BatchTx): Promise<void>;
  stored(): void;
  failed(err: unknown): void;
}

export function wireDeviceInbound({
  sql: sqlDb,
  bus,
  registry,
  acks,
  logger,
  onOnline,
  onAudioFormat,
  metrics,
}: InboundDeps): {
  telemetry: Map<string, TelemetryPayload>;
  /** Resolves once every message taken so far is stored (or has failed). */
  settled(): Promise<void>;
} {
  const log = logger.child({ module: 'inbound' });
  const telemetry = new Map<string, TelemetryPayload>();

  const waiting: Step[] = [];
  let scheduled = false;
  let running: Promise<void> | null = null;

  const schedule = () => {
    if (scheduled || running) return;
    scheduled = true;
    // setImmediate, not a microtask: every message of this turn of the event loop joins the batch.
    setImmediate(() => {
      scheduled = false;
      running = storeBatch(waiting.splice(0))
        .catch((err: unknown) => log.error({ err }, 'inbound batch failed'))
        .finally(() => {
          running = null;
          if (waiting.length > 0) schedule();
        });
    });
  };

  const enqueue = (deviceId: string, what: string, apply: (batch: BatchTx) => Promise<void>): Promise<void> =>
    new Promise((resolve, reject) => {
      waiting.push({ deviceId, what, apply, stored: resolve, failed: reject });
      schedule();
    });

  /** Runs `effect` after a commit; a failing listener is logged, it does not undo the stored message. */
  const tell = (effect: () => void) => {
    try {
      effect();
    } catch (err) {
      log.error({ err }, 'inbound follow-up failed');
    }
  };

  /** Stores `steps` in one transaction: null when committed (their effects told, their promises resolved), else the error. */
  const commit = async (steps: Step[]): Promise<unknown> => {
    const effects: (() => void)[] = [];
    try {
      await sqlDb.db.transaction().execute(async (tx) => {
        const batch: BatchTx = { tx, afterCommit: (effect) => effects.push(effect) };
        for (const step of steps) await step.apply(batch);
      });
    } catch (err) {
      return err ?? new Error('inbound batch failed');
    }
    for (const effect of effects) tell(effect);
    for (const step of steps) step.stored();
    return null;
  };

  const storeBatch = async (arrived: Step[]): Promise<void> => {
    if (arrived.length === 0) return;
    // By device (a stable sort: each device's messages stay in the order it sent them), so that
    // instances storing batches side by side on PostgreSQL lock device rows in the same order
    // instead of deadlocking.
    const steps = [...arrived].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    const err = await commit(steps);
    if (err === null) return;
    const failures: { step: Step; err: unknown }[] = [];
    if (steps.length === 1) {
      failures.push({ step: steps[0]!, err });
    } else {
      log.warn({ err, messages: steps.length }, 'inbound batch not stored; storing its messages one by one');
      // Still in each device's order, so its messages apply in the order it sent them.
      for (const step of steps) {
        const stepError = await commit([step]);
        if (stepError !== null) failures.push({ step, err: stepError });
      }
    }
    if (failures.length === 0) return;
    log.error(
      {
        err: failures[0]!.err,
        failed: failures.length,
        of: steps.length,
        first: failures.slice(0, 10).map(({ step }) => ({ deviceId: step.deviceId, what: step.what })),
      },
      'inbound messages not stored (not acknowledged: the devices send them again)',
    );
    for (const { step, err: stepError } of failures) step.failed(stepError);
  };

  const recordClockOffset = async (batch: BatchTx, deviceId: string, offsetMs: number) => {
    const stored = await registry.setClockOffset(deviceId, offsetMs, batch.tx);
    if (!stored) return;
    const wasOff = stored.previous !== null && Math.abs(stored.previous) > CLOCK_OFFSET_WARN_MS;
    const isOff = Math.abs(offsetMs) > CLOCK_OFFSET_WARN_MS;
    if (isOff && !wasOff) {
      batch.afterCommit(() =>
        log.warn(
          { deviceId, clockOffsetMs: Math.round(offsetMs), thresholdMs: CLOCK_OFFSET_WARN_MS },
          'device clock is off: its scheduled plays will be early or late by this much (check NTP on the node)',
        ),
      );
    } else if (!isOff && wasOff) {
      batch.afterCommit(() =>
        log.info({ deviceId, clockOffsetMs: Math.round(offsetMs) }, 'device clock back within the threshold'),
      );
    }
  };

  bus.onDeviceMessage((topic, payload, deviceId, meta) => {
    const parsed = parseTopic(topic);
    if (parsed?.scope !== 'dev' || parsed.deviceId !== deviceId) return;
    metrics?.mqttMessages.inc({ kind: parsed.kind });
    const reject = (error: string) => {
      metrics?.mqttRejected.inc({ kind: parsed.kind });
      log.warn({ deviceId, kind: parsed.kind, error }, 'invalid device message ignored');
    };
    switch (parsed.kind) {
      case 'status': {
        // An empty retained payload clears the retained message; nothing to apply.
        if (payload.length === 0) return;
        const r = statusDecoder.decode(payload, MAX_PAYLOAD_BYTES.status);
        if (!r.ok) return reject(r.error);
        const status = r.value;
        return enqueue(deviceId, 'status', async (batch) => {
          await registry.setOnline(deviceId, status.state === 'online', status.agentVersion, batch, meta?.seq);
          if (status.state !== 'online') return;
          const format = status.audioFormat ?? 'ogg';
          const previous = await registry.setAudioFormat(deviceId, format, batch.tx);
          await registry.setSimulated(deviceId, status.simulated === true, batch.tx);
          await registry.setFramedCommands(deviceId, status.framedCommands === true, batch.tx);
          batch.afterCommit(() => {
            if (previous !== null) onAudioFormat?.(deviceId, format, previous);
            onOnline?.(deviceId);
          });
        });
      }
      case 'telemetry': {
        const r = telemetryDecoder.decode(payload, MAX_PAYLOAD_BYTES.telemetry);
        if (!r.ok) return reject(r.error);
        telemetry.set(deviceId, r.value);
        const { clockOffsetMs } = r.value;
        return enqueue(deviceId, 'telemetry', async (batch) => {
          await registry.touch(deviceId, batch.tx);
          if (clockOffsetMs !== undefined) await recordClockOffset(batch, deviceId, clockOffsetMs);
        });
      }
      case 'ack': {
        const r = ackDecoder.decode(payload, MAX_PAYLOAD_BYTES.ack);
        if (!r.ok) return reject(r.error);
        const ack = r.value;
        return enqueue(deviceId, 'ack', async (batch) => {
          await acks.record(deviceId, ack, batch);
        });
      }
      case 'ping': {
        // The live clock exchange (device-agent/src/live/clock-sync.ts): answered at once, QoS 0.
        const r = pingDecoder.decode(payload, MAX_PAYLOAD_BYTES.ping);
        if (!r.ok) return reject(r.error);
        const pong = { v: PROTOCOL_VERSION, t0: r.value.t0, serverTime: performance.timeOrigin + performance.now() };
        void bus.publish(topics.devicePong(deviceId), JSON.stringify(pong), { qos: 0 }).catch(() => {});
        return;
      }
      default:
        return;
    }
  });

  // In the same queue as the messages: a device's last status and its disconnect apply in that order.
  bus.onDeviceDisconnect((deviceId, meta) => {
    enqueue(deviceId, 'disconnect', (batch) => registry.setOnline(deviceId, false, undefined, batch, meta?.seq)).catch(
      () => {
        // Logged with its batch.
      },
    );
  });

  return {
    telemetry,
    async settled() {
      while (running || scheduled || waiting.length > 0) {
        await (running ?? new Promise((resolve) => setImmediate(resolve)));
      }
    },
  };
}
