/**
 * Fault injection against the real server (embedded Aedes, SQLite, TTS,
 * ffmpeg): one fleet where each fault hits its own three devices, a scheduled
 * broadcast and then an emergency broadcast to every zone. For each fault:
 * the fault really happened, every device played, and every stage is in the
 * server's acks exactly once (and the device sent it once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AckPayload } from '@loaxa/protocol';
import { startTestServer, waitFor, type TestServer } from '../../server/test/helpers';
import { FAULT_NAMES, startSimFleet, type FaultName, type SimFleet } from '../src/index';

const PER_FAULT = 3;
const group = (name: string) => Array.from({ length: PER_FAULT }, (_, i) => `${name}-${i + 1}`);
const GROUPS: Record<FaultName | 'control', string[]> = Object.fromEntries(
  [...FAULT_NAMES, 'control'].map((name) => [name, group(name === 'control' ? 'ok' : name.toLowerCase())]),
) as Record<FaultName | 'control', string[]>;
const ALL = Object.values(GROUPS).flat();

let server: TestServer;
let fleet: SimFleet;
const sent: { deviceId: string; ack: AckPayload }[] = [];
let scheduledId = '';
let emergencyId = '';

const deliveries = (occurrenceId: string) =>
  new Map(
    (
      server.services.db
        .prepare('SELECT device_id, stage FROM deliveries WHERE occurrence_id = ?')
        .all(occurrenceId) as { device_id: string; stage: string }[]
    ).map((r) => [r.device_id, r.stage]),
  );
const serverStages = (occurrenceId: string, deviceId: string) =>
  (
    server.services.db
      .prepare('SELECT stage FROM acks WHERE ref_id = ? AND device_id = ? ORDER BY at, rowid')
      .all(occurrenceId, deviceId) as { stage: string }[]
  ).map((r) => r.stage);
const sentStages = (occurrenceId: string, deviceId: string) =>
  sent.filter((s) => s.deviceId === deviceId && s.ack.occurrenceId === occurrenceId).map((s) => s.ack.stage);

const FINAL = new Set(['finished', 'failed', 'skipped', 'preempted']);
/** A rebooted device reports the item the power cut interrupted as preempted, and never plays it twice. */
const expectedScheduled = (deviceId: string) =>
  GROUPS.rebootWhilePlaying.includes(deviceId)
    ? ['received', 'ready', 'started', 'preempted']
    : ['received', 'ready', 'started', 'finished'];

beforeAll(async () => {
  server = await startTestServer();
  const { registry } = server.services;
  registry.createZone('Thôn 1', 'thon-1');
  registry.createZone('Thôn 2', 'thon-2');
  const devices = ALL.map((id, i) => ({
    deviceId: id,
    secret: registry.createDevice({ id, zones: [i % 2 === 0 ? 'thon-1' : 'thon-2'] }).secret,
  }));
  fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices,
    backoff: { baseMs: 200, maxMs: 1_000 },
    faults: {
      offline: { devices: GROUPS.offline, forMs: 3_000 },
      connectionDrops: { devices: GROUPS.connectionDrops, everyMs: 1_500 },
      slowDownloads: { devices: GROUPS.slowDownloads, bytesPerSecond: 8_000 },
      failingDownloads: { devices: GROUPS.failingDownloads, failures: 2 },
      corruptDownloads: { devices: GROUPS.corruptDownloads, times: 2 },
      clockSkew: { devices: GROUPS.clockSkew, maxMs: 1_500 },
      diskFull: { devices: GROUPS.diskFull, failures: 2 },
      rebootWhilePlaying: { devices: GROUPS.rebootWhilePlaying, afterMs: 150, downMs: 500 },
    },
  });
  fleet.events.on('ack', (deviceId, ack) => sent.push({ deviceId, ack }));
  await fleet.waitOnline(15_000);

  // A scheduled broadcast, sent while the "offline" devices are cut off.
  fleet.faults.goOffline();
  const at = new Date(Date.now() + 10_000).toISOString();
  const scheduled = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
    text: 'Thông báo lịch tiêm phòng cho gia súc vào sáng thứ bảy.',
    zones: 'all',
    at,
  });
  expect(scheduled.status).toBe(201);
  scheduledId = scheduled.body.occurrenceId;
  await waitFor(
    'the scheduled broadcast to end on every device',
    () => ALL.every((id) => FINAL.has(deliveries(scheduledId).get(id) ?? '')),
    40_000,
    200,
  );
  // Rebooted devices are back before the next broadcast.
  await waitFor('rebooted devices online', () => fleet.agents.every((a) => a.online), 15_000);

  // An emergency to every zone, again with the "offline" devices cut off when it is sent.
  fleet.faults.goOffline();
  const emergency = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
    text: 'Khẩn cấp: nước lũ đang lên, bà con vùng trũng di chuyển ngay.',
    zones: ['thon-1', 'thon-2'],
    priority: 'emergency',
  });
  expect(emergency.status).toBe(201);
  emergencyId = emergency.body.occurrenceId;
  await waitFor(
    'the emergency to end on every device',
    () => ALL.every((id) => FINAL.has(deliveries(emergencyId).get(id) ?? '')),
    40_000,
    200,
  );
  // Let late duplicates (re-sent after a dropped connection) arrive, so "once" is tested, not assumed.
  await new Promise((r) => setTimeout(r, 1_000));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

describe('fault injection: nothing is lost', () => {
  it('injected every fault for real', () => {
    const { network, downloads, targets } = fleet.faults;
    for (const id of GROUPS.offline) expect(network!.drops.get(id)).toBeGreaterThanOrEqual(2);
    for (const id of GROUPS.connectionDrops) expect(network!.drops.get(id)).toBeGreaterThanOrEqual(3);
    expect(downloads!.applied.slowed).toBeGreaterThanOrEqual(PER_FAULT);
    expect(downloads!.applied.failed).toBeGreaterThanOrEqual(PER_FAULT);
    expect(downloads!.applied.reset).toBeGreaterThanOrEqual(PER_FAULT);
    expect(downloads!.applied.corrupted).toBeGreaterThanOrEqual(PER_FAULT * 2);
    expect(fleet.faults.diskFullFailures()).toBe(PER_FAULT * 2);
    expect(fleet.faults.reboots).toBe(PER_FAULT);
    expect([...targets.clockSkew!]).toEqual(GROUPS.clockSkew);
    // Skewed devices stamp their acks by their own clock: the scheduled start, not the host's.
    for (const id of GROUPS.clockSkew) {
      const started = sent.find(
        (s) => s.deviceId === id && s.ack.occurrenceId === scheduledId && s.ack.stage === 'started',
      );
      expect(started).toBeDefined();
    }
  });

  it.each([...FAULT_NAMES, 'control' as const])('%s: every device played both broadcasts; each ack once', (name) => {
    for (const id of GROUPS[name]) {
      expect({ id, stages: serverStages(scheduledId, id) }).toEqual({ id, stages: expectedScheduled(id) });
      expect({ id, stages: sentStages(scheduledId, id) }).toEqual({ id, stages: expectedScheduled(id) });
      expect({ id, stages: serverStages(emergencyId, id) }).toEqual({
        id,
        stages: ['received', 'ready', 'started', 'finished'],
      });
      expect({ id, stages: sentStages(emergencyId, id) }).toEqual({
        id,
        stages: ['received', 'ready', 'started', 'finished'],
      });
      expect(deliveries(emergencyId).get(id)).toBe('finished');
    }
  });
});
