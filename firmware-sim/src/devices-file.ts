import { isValidId } from '@loaxa/protocol';
import type { SimDevice } from './fleet';

/**
 * Parses the simulator's devices file: a JSON array of {deviceId, secret, clockSkewMs?, brokers?};
 * errors name the entry and field. `brokers` is the device's own list of MQTT URLs, in its order
 * (a cluster's provisioned `mqttUrl`, then `mqttUrls`): the fleet's --mqtt-url when absent.
 */
export function parseDevicesFile(text: string, source = 'devices file'): SimDevice[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new Error(`${source}: must be a JSON array of {deviceId, secret}`);
  const seen = new Set<string>();
  return raw.map((entry: unknown, i): SimDevice => {
    const where = `${source}: [${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: must be an object`);
    const { deviceId, secret, clockSkewMs, brokers, ...rest } = entry as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new Error(`${where}.${extra}: is not a known field`);
    if (typeof deviceId !== 'string' || !isValidId(deviceId)) {
      throw new Error(`${where}.deviceId: must be 1–64 letters, digits, ".", "_" or "-"`);
    }
    if (seen.has(deviceId)) throw new Error(`${where}.deviceId: ${deviceId} appears twice`);
    seen.add(deviceId);
    if (typeof secret !== 'string' || secret === '') throw new Error(`${where}.secret: must be a non-empty string`);
    if (clockSkewMs !== undefined && !Number.isInteger(clockSkewMs))
      throw new Error(`${where}.clockSkewMs: must be an integer`);
    if (
      brokers !== undefined &&
      (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((url: unknown) => isMqttUrl(url)))
    ) {
      throw new Error(`${where}.brokers: must be a non-empty array of mqtt://, mqtts://, ws:// or wss:// URLs`);
    }
    return {
      deviceId,
      secret,
      ...(clockSkewMs === undefined ? {} : { clockSkewMs: clockSkewMs as number }),
      ...(brokers === undefined ? {} : { brokers: brokers as string[] }),
    };
  });
}

/** An absolute broker URL the agent's MQTT client can dial. */
function isMqttUrl(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    const { protocol, hostname } = new URL(url);
    return ['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(protocol) && hostname !== '';
  } catch {
    return false;
  }
}
