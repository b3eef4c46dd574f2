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

/**
 * `ping`/`pong`: the live clock exchange (device asks, server answers, QoS 0); `live`: a
 * live session's Opus frames for one device (a zone's come on the zone's live topic).
 */
export type DeviceTopicKind = 'status' | 'telemetry' | 'plan' | 'cmd' | 'ack' | 'ping' | 'pong' | 'live';
export const DEVICE_TOPIC_KINDS: readonly DeviceTopicKind[] = [
  'status',
  'telemetry',
  'plan',
  'cmd',
  'ack',
  'ping',
  'pong',
  'live',
];

/** Topics a device publishes on (its own only). */
export const DEVICE_PUBLISHES: readonly DeviceTopicKind[] = ['status', 'telemetry', 'ack', 'ping'];
/** Topics a device subscribes to (its own only, plus its zones' command and live topics). */
export const DEVICE_SUBSCRIBES: readonly DeviceTopicKind[] = ['plan', 'cmd', 'pong', 'live'];
export type ZoneTopicKind = 'cmd' | 'live';
export const ZONE_TOPIC_KINDS: readonly ZoneTopicKind[] = ['cmd', 'live'];

export const topics = {
  deviceStatus: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/status`,
  deviceTelemetry: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/telemetry`,
  devicePlan: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/plan`,
  deviceCmd: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/cmd`,
  deviceAck: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/ack`,
  devicePing: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/ping`,
  devicePong: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/pong`,
  deviceLive: (deviceId: string) => `${TOPIC_PREFIX}/dev/${assertId('device', deviceId)}/live`,
  zoneCmd: (zoneId: string) => `${TOPIC_PREFIX}/zone/${assertId('zone', zoneId)}/cmd`,
  /** A live session's Opus frames for a whole zone (QoS 0, one frame per message). */
  zoneLive: (zoneId: string) => `${TOPIC_PREFIX}/zone/${assertId('zone', zoneId)}/live`,
  /** Subscription filter the server uses to hear every device. */
  allDevices: (kind: DeviceTopicKind) => `${TOPIC_PREFIX}/dev/+/${kind}`,
} as const;

export type ParsedTopic =
  { scope: 'dev'; deviceId: string; kind: DeviceTopicKind } | { scope: 'zone'; zoneId: string; kind: ZoneTopicKind };

/** Parses a concrete topic (no wildcards); returns null for anything that is not ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  const [, , scope, id, kind] = parts as [string, string, string, string, string];
  if (!isValidId(id)) return null;
  if (scope === 'dev' && (DEVICE_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { scope: 'dev', deviceId: id, kind: kind as DeviceTopicKind };
  }
  if (scope === 'zone' && (ZONE_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { scope: 'zone', zoneId: id, kind: kind as ZoneTopicKind };
  }
  return null;
}
