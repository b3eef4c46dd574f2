/**
 * Fault injection against the real server (embedded Aedes, its database, TTS,
 * ffmpeg): one fleet where each fault hits its own three devices, a scheduled
 * broadcast and then an emergency broadcast to every zone. For each fault:
 * the fault really happened, every device played, and every stage is in the
 * server's acks, was raised once by the device and was published once — or,
 * where the connection dropped, again only on a later connection (the outbox
 * re-sending what was never confirmed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRank, type AckPayload, type AckStage } from '@loaxa/protocol';
import { row, rows, sql, startTestServer, waitFor, type TestServer } from '../../server/test/helpers';
import { clockSkews } from '../src/faults';
import { FAULT_NAMES, startSimFleet, type FaultName, type SimFleet } from '../src/index';

const PER_FAULT = 3;
const CLOCK_SKEW_MAX_MS = 1_500;
const group = (name: string) => Array.from({ length: PER_FAULT }, (_, i) => `${name}-${i + 1}`);
const GROUPS: Record<FaultName | 'control', string[]> = Object.fromEntries(
  [...FAULT_NAMES, 'control'].map((name) => [name, group(name === 'control' ? 'ok' : name.toLowerCase())]),
) as Record<FaultName | 'control', string[]>;
const ALL = Object.values(GROUPS).flat();

let server: TestServer;
let fleet: SimFleet;
/** Acks as each device raised them, with the true (host) time it did. */
const sent: { deviceId: string; ack: AckPayload; hostAt: number }[] = [];
/** Ack messages as the broker received them, with which connection of the device each came on. */
const published: { deviceId: string; connection: number; ack: AckPayload }[] = [];
const connections = new Map<string, number>();
let scheduledId = '';
let scheduledAt = 0;
let emergencyId = '';
/** Devices whose connection the faults drop: they may re-send an unconfirmed ack on their next connection. */
const RECONNECTING = new Set([...GROUPS.offline, ...GROUPS.connectionDrops, ...GROUPS.rebootWhilePlaying]);

const deliveries = async (occurrenceId: string) =>
  new Map(
    (
      await rows<{ device_id: string; stage: string }>(
        server,
        sql`SELECT device_id, stage FROM deliveries WHERE occurrence_id = ${occurrenceId}`,
      )
    ).map((r) => [r.device_id, r.stage]),
  );
/**
 * The stages the server stored, in the device's order: by device time, then by arrival; a tie in
 * both (two stages raised in the same millisecond and stored in the same one) goes in protocol order.
 */
const serverStages = async (occurrenceId: string, deviceId: string) =>
  (
    await rows<{ stage: AckStage; at: number | string; received_at: number | string }>(
      server,
      sql`SELECT stage, at, received_at FROM acks WHERE ref_id = ${occurrenceId} AND device_id = ${deviceId}`,
    )
  )
    .sort(
      (a, b) =>
        Number(a.at) - Number(b.at) ||
        Number(a.received_at) - Number(b.received_at) ||
        stageRank(a.stage) - stageRank(b.stage),
    )
    .map((r) => r.stage);
const sentStages = (occurrenceId: string, deviceId: string) =>
  sent.filter((s) => s.deviceId === deviceId && s.ack.occurrenceId === occurrenceId).map((s) => s.ack.stage);
/** Every stage published, those carried as `earlier` included, with the connection it came on. */
const publishedStages = (ref: { occurrenceId?: string; commandId?: string }, deviceId: string) =>
  published
    .filter(
      (p) =>
        p.deviceId === deviceId &&
        (ref.occurrenceId === undefined || p.ack.occurrenceId === ref.occurrenceId) &&
        (ref.commandId === undefined || p.ack.commandId === ref.commandId),
    )
    .flatMap((p) => [...(p.ack.earlier ?? []), p.ack].map((a) => ({ stage: a.stage, connection: p.connection })));

/** Stages in the order first published; a repeat only on a later connection, and none at all where no connection dropped. */
function expectPublishedOnce(occurrenceId: string, deviceId: string, expected: readonly string[]): void {
  const all = publishedStages({ occurrenceId }, deviceId);
  expect({ deviceId, stages: [...new Set(all.map((p) => p.stage))] }).toEqual({ deviceId, stages: expected });
  for (const stage of expected) {
    const on = all.filter((p) => p.stage === stage).map((p) => p.connection);
    const what = `${deviceId} ${stage} published on connections ${on.join(',')}`;
    if (RECONNECTING.has(deviceId)) expect(new Set(on).size, what).toBe(on.length);
    else expect(on, what).toHaveLength(1);
  }
}

const FINAL = new Set(['finished', 'failed', 'skipped', 'preempted']);
/** A rebooted device reports the item the power cut interrupted as preempted, and never plays it twice. */
const expectedScheduled = (deviceId: string) =>
  GROUPS.rebootWhilePlaying.includes(deviceId)
    ? ['received', 'ready', 'started', 'preempted']
    : ['received', 'ready', 'started', 'finished'];

beforeAll(async () => {
  server = await startTestServer();
  const { registry, bus } = server.services;
  bus.onDeviceConnect((id) => connections.set(id, (connections.get(id) ?? 0) + 1));
  bus.onDeviceMessage((topic, payload, deviceId) => {
    if (!topic.endsWith('/ack')) return;
    published.push({ deviceId, connection: connections.get(deviceId) ?? 0, ack: JSON.parse(payload.toString()) });
  });
  await registry.createZone('Thôn 1', 'default', 'thon-1');
  await registry.createZone('Thôn 2', 'default', 'thon-2');
  const devices = await Promise.all(
    ALL.map(async (id, i) => ({
      deviceId: id,
      secret: (await registry.createDevice({ id, zones: [i % 2 === 0 ? 'thon-1' : 'thon-2'], communeId: 'default' }))
        .secret,
    })),
  );
  fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices,
    backoff: { baseMs: 200, maxMs: 1_000 },
    // Often enough that the skewed devices' measured clock offsets reach the server during the run.
    telemetryIntervalMs: 2_000,
    faults: {
      offline: { devices: GROUPS.offline, forMs: 3_000 },
      connectionDrops: { devices: GROUPS.connectionDrops, everyMs: 1_500 },
      slowDownloads: { devices: GROUPS.slowDownloads, bytesPerSecond: 8_000 },
      failingDownloads: { devices: GROUPS.failingDownloads, failures: 2 },
      corruptDownloads: { devices: GROUPS.corruptDownloads, times: 2 },
      clockSkew: { devices: GROUPS.clockSkew, maxMs: CLOCK_SKEW_MAX_MS },
      diskFull: { devices: GROUPS.diskFull, failures: 2 },
      rebootWhilePlaying: { devices: GROUPS.rebootWhilePlaying, afterMs: 150, downMs: 500 },
    },
  });
  fleet.events.on('ack', (deviceId, ack) => sent.push({ deviceId, ack, hostAt: Date.now() }));
  await fleet.waitOnline(15_000);

  // A scheduled broadcast, sent while the "offline" devices are cut off.
  fleet.faults.goOffline();
  scheduledAt = Date.now() + 10_000;
  const at = new Date(scheduledAt).toISOString();
  const scheduled = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
    text: 'Thông báo lịch tiêm phòng cho gia súc vào sáng thứ bảy.',
    zones: 'all',
    at,
  });
  expect(scheduled.status).toBe(201);
  scheduledId = scheduled.body.occurrenceId;
  await waitFor(
    'the scheduled broadcast to end on every device',
    async () => {
      const stages = await deliveries(scheduledId);
      return ALL.every((id) => FINAL.has(stages.get(id) ?? ''));
    },
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
    async () => {
      const stages = await deliveries(emergencyId);
      return ALL.every((id) => FINAL.has(stages.get(id) ?? ''));
    },
    40_000,
    200,
  );
  // A fence on every device instead of a pause: a device publishes acks in the order it raised
  // them, so once the ack of a command sent now is in, any duplicate of an older ack is too.
  await Promise.all(
    ALL.map(async (id) => {
      const fence = await server.api<{ commandId: string }>('POST', `/api/v1/devices/${id}/volume`, { level: 90 });
      expect(fence.status).toBe(200);
      await waitFor(`${id} acks the fence`, () => publishedStages(fence.body, id).length > 0, 15_000);
    }),
  );
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
  });

  it('clockSkew: each skewed device reports its offset, and plays on time by its own clock', async () => {
    const skews = clockSkews(GROUPS.clockSkew, CLOCK_SKEW_MAX_MS);
    for (const id of GROUPS.clockSkew) {
      const skew = skews.get(id)!;
      expect(Math.abs(skew)).toBeGreaterThanOrEqual(1_000); // so the margins below tell skewed from not
      // Server clock − device clock, measured by the device against GET /api/v1/time and stored by the server.
      const reported = await waitFor(`${id} clock offset stored`, async () => {
        const stored = await row<{ clock_offset_ms: number | null }>(
          server,
          sql`SELECT clock_offset_ms FROM devices WHERE id = ${id}`,
        );
        return stored?.clock_offset_ms ?? null;
      });
      expect(Math.abs(reported - -skew), `${id}: reported ${reported} ms for a skew of ${skew} ms`).toBeLessThan(250);
      // Devices play by their own clock (the server shows the offset; it does not move the schedule):
      // on time by it, so early or late by the true clock by just its skew.
      const started = sent.find(
        (s) => s.deviceId === id && s.ack.occurrenceId === scheduledId && s.ack.stage === 'started',
      )!;
      expect(Math.abs(started.ack.at - scheduledAt), `${id}: device-clock start`).toBeLessThan(250);
      expect(Math.abs(started.hostAt - (scheduledAt - skew)), `${id}: true-clock start`).toBeLessThan(300);
    }
  });

  it.each([...FAULT_NAMES, 'control' as const])(
    '%s: every device played both broadcasts; each ack once',
    async (name) => {
      for (const id of GROUPS[name]) {
        expect({ id, stages: await serverStages(scheduledId, id) }).toEqual({ id, stages: expectedScheduled(id) });
        expect({ id, stages: sentStages(scheduledId, id) }).toEqual({ id, stages: expectedScheduled(id) });
        expectPublishedOnce(scheduledId, id, expectedScheduled(id));
        expect({ id, stages: await serverStages(emergencyId, id) }).toEqual({
          id,
          stages: ['received', 'ready', 'started', 'finished'],
        });
        expect({ id, stages: sentStages(emergencyId, id) }).toEqual({
          id,
          stages: ['received', 'ready', 'started', 'finished'],
        });
        expectPublishedOnce(emergencyId, id, ['received', 'ready', 'started', 'finished']);
        expect((await deliveries(emergencyId)).get(id)).toBe('finished');
      }
    },
  );
});
