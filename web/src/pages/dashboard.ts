/**
 * The dashboard's numbers, as pure functions of what the live store holds.
 *
 * "Playing" comes from delivery acknowledgements (a device whose latest
 * known delivery is `started`): the device list carries no playing flag yet.
 */
import type { Device } from '../lib/api';
import type { TrackedOccurrence } from '../lib/live.svelte';

export interface DeviceCounts {
  total: number;
  online: number;
  offline: number;
  playing: number;
}

export function deviceCounts(devices: readonly Device[], tracked: readonly TrackedOccurrence[]): DeviceCounts {
  const active = devices.filter((device) => !device.revoked);
  const playing = new Set<string>();
  for (const entry of tracked) {
    for (const delivery of entry.occurrence?.deliveries ?? []) {
      if (delivery.stage === 'started') playing.add(delivery.deviceId);
    }
  }
  const online = active.filter((device) => device.online).length;
  return {
    total: active.length,
    online,
    offline: active.length - online,
    playing: active.filter((device) => playing.has(device.id)).length,
  };
}
