import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, telemetryDecoder } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { buildTelemetry } from './telemetry';
import { parseMilliCelsius, parseSignalDbm, readSystemReadings } from './system-readings';

describe('system readings', () => {
  it.each([
    ['48312\n', 48.3],
    ['-1000', -1],
    ['', undefined],
    ['n/a', undefined],
  ])('thermal %j → %s °C', (text, celsius) => {
    expect(parseMilliCelsius(text)).toBe(celsius);
  });

  it.each([
    ['-67\n', -67],
    ['signal: rssi: -71.5 dBm', -71.5],
    ['no modem', undefined],
  ])('signal %j → %s dBm', (text, dbm) => {
    expect(parseSignalDbm(text)).toBe(dbm);
  });

  it('reads temperature, free disk and signal where present', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loaxa-sys-'));
    const thermal = join(dir, 'temp');
    await writeFile(thermal, '51234\n');
    const readings = await readSystemReadings({
      dataDir: dir,
      thermalPath: thermal,
      signalCommand: ['sh', '-c', 'echo "rssi -73 dBm"'],
    });
    expect(readings.cpuTempC).toBe(51.2);
    expect(readings.signalDbm).toBe(-73);
    expect(readings.freeDiskBytes).toBeGreaterThan(0);
  });

  it('leaves out what the node lacks instead of failing', async () => {
    const readings = await readSystemReadings({
      dataDir: '/nonexistent/loaxa',
      thermalPath: '/nonexistent/temp',
      signalCommand: ['/nonexistent/mmcli'],
    });
    expect(readings).toEqual({});
  });

  it('the extras pass the protocol schema', () => {
    const payload = buildTelemetry({
      at: 1,
      volume: 80,
      playing: null,
      cacheBytes: 10,
      uptimeS: 5.7,
      freeDiskBytes: 1234.5,
      cpuTempC: 48.3,
      signalDbm: -67,
    });
    expect(payload).toMatchObject({
      v: PROTOCOL_VERSION,
      uptimeS: 5,
      freeDiskBytes: 1234,
      cpuTempC: 48.3,
      signalDbm: -67,
    });
    expect(telemetryDecoder.decode(JSON.stringify(payload)).ok).toBe(true);
  });
});
