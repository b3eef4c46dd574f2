/**
 * Everything devices publish arrives here, is size-checked and validated with
 * the protocol schemas, and is then applied. Garbage is logged and ignored.
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
import type { AckLedger } from './acks';
import { CLOCK_OFFSET_WARN_MS, type DeviceRegistry } from './registry';
import type { ServerMetrics } from '../metrics/metrics';

export interface InboundDeps {
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

export function wireDeviceInbound({ bus, registry, acks, logger, onOnline, onAudioFormat, metrics }: InboundDeps): {
  telemetry: Map<string, TelemetryPayload>;
} {
  const log = logger.child({ module: 'inbound' });
  const telemetry = new Map<string, TelemetryPayload>();

  const recordClockOffset = (deviceId: string, offsetMs: number) => {
    const stored = registry.setClockOffset(deviceId, offsetMs);
    if (!stored) return;
    const wasOff = stored.previous !== null && Math.abs(stored.previous) > CLOCK_OFFSET_WARN_MS;
    const isOff = Math.abs(offsetMs) > CLOCK_OFFSET_WARN_MS;
    if (isOff && !wasOff) {
      log.warn(
        { deviceId, clockOffsetMs: Math.round(offsetMs), thresholdMs: CLOCK_OFFSET_WARN_MS },
        'device clock is off: its scheduled plays will be early or late by this much (check NTP on the node)',
      );
    } else if (!isOff && wasOff) {
      log.info({ deviceId, clockOffsetMs: Math.round(offsetMs) }, 'device clock back within the threshold');
    }
  };

  bus.onDeviceMessage((topic, payload, deviceId) => {
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
        registry.setOnline(deviceId, r.value.state === 'online', r.value.agentVersion);
        if (r.value.state !== 'online') return;
        const format = r.value.audioFormat ?? 'ogg';
        const previous = registry.setAudioFormat(deviceId, format);
        registry.setSimulated(deviceId, r.value.simulated === true);
        if (previous !== null) onAudioFormat?.(deviceId, format, previous);
        onOnline?.(deviceId);
        return;
      }
      case 'telemetry': {
        const r = telemetryDecoder.decode(payload, MAX_PAYLOAD_BYTES.telemetry);
        if (!r.ok) return reject(r.error);
        telemetry.set(deviceId, r.value);
        registry.touch(deviceId);
        if (r.value.clockOffsetMs !== undefined) recordClockOffset(deviceId, r.value.clockOffsetMs);
        return;
      }
      case 'ack': {
        const r = ackDecoder.decode(payload, MAX_PAYLOAD_BYTES.ack);
        if (!r.ok) return reject(r.error);
        acks.record(deviceId, r.value);
        return;
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

  bus.onDeviceDisconnect((deviceId) => registry.setOnline(deviceId, false));
  return { telemetry };
}
