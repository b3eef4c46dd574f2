/**
 * Who may publish and subscribe where. A device touches only its own topics
 * and its zones' command and live topics; nothing else. Its zones are all of its own
 * commune (the registry refuses others), so no device hears another
 * commune's broadcasts. Pure, so it is tested by table.
 */
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, parseTopic } from '@loaxa/protocol';

export function deviceMayPublish(deviceId: string, topic: string): boolean {
  const parsed = parseTopic(topic);
  return parsed?.scope === 'dev' && parsed.deviceId === deviceId && DEVICE_PUBLISHES.includes(parsed.kind);
}

/** `filter` is a subscription filter; wildcards are refused (a device names each topic it needs). */
export function deviceMaySubscribe(deviceId: string, filter: string, zonesOfDevice: () => string[]): boolean {
  if (filter.includes('+') || filter.includes('#')) return false;
  const parsed = parseTopic(filter);
  if (!parsed) return false;
  if (parsed.scope === 'dev') return parsed.deviceId === deviceId && DEVICE_SUBSCRIBES.includes(parsed.kind);
  return zonesOfDevice().includes(parsed.zoneId);
}
