import { PROTOCOL_VERSION, type TelemetryPayload } from '@loaxa/protocol';
import type { SystemReadings } from './system-readings';

export interface TelemetrySnapshot extends SystemReadings {
  at: number;
  volume: number;
  playing: string | null;
  cacheBytes: number;
  uptimeS: number;
  clockOffsetMs?: number;
}

export function buildTelemetry(snapshot: TelemetrySnapshot): TelemetryPayload {
  const payload: TelemetryPayload = {
    v: PROTOCOL_VERSION,
    at: snapshot.at,
    volume: snapshot.volume,
    playing: snapshot.playing,
    cacheBytes: snapshot.cacheBytes,
    uptimeS: Math.max(0, Math.floor(snapshot.uptimeS)),
  };
  if (snapshot.clockOffsetMs !== undefined) payload.clockOffsetMs = snapshot.clockOffsetMs;
  if (snapshot.freeDiskBytes !== undefined) payload.freeDiskBytes = Math.max(0, Math.floor(snapshot.freeDiskBytes));
  if (snapshot.cpuTempC !== undefined) payload.cpuTempC = snapshot.cpuTempC;
  if (snapshot.signalDbm !== undefined) payload.signalDbm = snapshot.signalDbm;
  return payload;
}
