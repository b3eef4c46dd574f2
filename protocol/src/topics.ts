/**
 * MQTT topic builders and parsers. This is the only place in the code base
 * that spells a Loa Xã topic string.
 */
export const PROTOCOL_VERSION = 1 as const;
export const TOPIC_PREFIX = `loaxa/v${PROTOCOL_VERSION}` as const;

/** Device and zone ids appear inside topics, so they may not contain MQTT wildcards or separators. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const idRegex = new RegExp(ID_PATTERN);

export function isValidId(id: string): boolean {
  return idRegex.test(id);
}

function assertId(kind: string, id: string): string {
  if (!isValidId(id)) throw new Error(`invalid ${kind} id for a topic: ${JSON.stringify(id)}`);
  return id;
}

export type DeviceTopicKind = 'status' | 'telemetry' | 'plan' | 'cmd' | 'ack';
export const DEVICE_TOPIC_KINDS: readonly DeviceTopicKind[] = ['status', 'telemetry', 'plan', 'cmd', 'ack'];

/** Topics a device publishes on (its own only). */
export const DEVICE_PUBLISHES: readonly DeviceTopicKind[] = ['status', 'telemetry', 'ack'];
/** Topics a device subscribes to (its own only, plus its zones' command topics). */
export const DEVICE_SUBSCRIBES: readonly DeviceTopicKind[] = ['plan', 'cmd'];

export const topics = {
  deviceStatus: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/status`,
  deviceTelemetry: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/telemetry`,
  devicePlan: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/plan`,
  deviceCmd: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/cmd`,
  deviceAck: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/ack`,
  zoneCmd: (zoneId: string) => `${TOPIC_PREFIX}/zone/${assertId('zone', zoneId)}/cmd`,
  /** Subscription filter the server uses to hear every device. */
  allDevices: (kind: DeviceTopicKind) => `${TOPIC_PREFIX}/dev/+/${kind}`,
} as const;

export type ParsedTopic =
  { scope: 'dev'; deviceId: string; kind: DeviceTopicKind } | { scope: 'zone'; zoneId: string; kind: 'cmd' };

/** Parses a concrete topic (no wildcards); returns null for anything that is not ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  const [, , scope, id, kind] = parts as [string, string, string, string, string];
  if (!isValidId(id)) return null;
  if (scope === 'dev' && (DEVICE_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { scope: 'dev', deviceId: id, kind: kind as DeviceTopicKind };
  }
  if (scope === 'zone' && kind === 'cmd') return { scope: 'zone', zoneId: id, kind: 'cmd' };
  return null;
}
