/**
 * What a Pi can tell about itself: SoC temperature, free disk and,
 * with a modem, signal strength. Every reading is optional: a missing file or
 * a failing command leaves the field out instead of failing the telemetry.
 */
import { readFile, statfs } from 'node:fs/promises';
import { captureOutput } from '../player/child-process';

export interface SystemReadings {
  freeDiskBytes?: number;
  cpuTempC?: number;
  signalDbm?: number;
}

export interface SystemReadingOptions {
  /** Directory whose file system's free space is reported (the agent's dataDir). */
  dataDir: string;
  /** Linux thermal zone file, in millidegrees Celsius. */
  thermalPath?: string;
  /** argv printing the signal strength; the first number in its output is taken as dBm. */
  signalCommand?: readonly string[];
  signalTimeoutMs?: number;
}

export const DEFAULT_THERMAL_PATH = '/sys/class/thermal/thermal_zone0/temp';

/** `48312` (m°C) → 48.3. */
export function parseMilliCelsius(text: string): number | undefined {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || text.trim() === '') return undefined;
  return Math.round(value / 100) / 10;
}

/** First number in a command's output, e.g. `-67`, `rssi: -71.0 dBm`. */
export function parseSignalDbm(text: string): number | undefined {
  const match = /-?\d+(?:\.\d+)?/.exec(text);
  return match ? Number(match[0]) : undefined;
}

async function optional<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

export async function readSystemReadings(options: SystemReadingOptions): Promise<SystemReadings> {
  const signalCommand = options.signalCommand;
  const [freeDiskBytes, cpuTempC, signalDbm] = await Promise.all([
    optional(async () => {
      const fs = await statfs(options.dataDir);
      return fs.bavail * fs.bsize;
    }),
    optional(async () => parseMilliCelsius(await readFile(options.thermalPath ?? DEFAULT_THERMAL_PATH, 'utf8'))),
    signalCommand && signalCommand.length > 0
      ? optional(async () => parseSignalDbm(await captureOutput(signalCommand, options.signalTimeoutMs ?? 5_000)))
      : Promise.resolve(undefined),
  ]);
  const readings: SystemReadings = {};
  if (freeDiskBytes !== undefined) readings.freeDiskBytes = freeDiskBytes;
  if (cpuTempC !== undefined) readings.cpuTempC = cpuTempC;
  if (signalDbm !== undefined) readings.signalDbm = signalDbm;
  return readings;
}
