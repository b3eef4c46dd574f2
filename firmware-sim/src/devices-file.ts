import { isValidId } from '@loaxa/protocol';
import type { SimDevice } from './fleet';

/** Parses the simulator's devices file: a JSON array of {deviceId, secret, clockSkewMs?}; errors name the entry and field. */
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
    const { deviceId, secret, clockSkewMs, ...rest } = entry as Record<string, unknown>;
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
    return clockSkewMs === undefined ? { deviceId, secret } : { deviceId, secret, clockSkewMs: clockSkewMs as number };
  });
}
