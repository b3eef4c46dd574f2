import { PROTOCOL_VERSION, type TelemetryPayload } from '@loaxa/protocol';

export interface TelemetrySnapshot {
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
  return payload;
}
