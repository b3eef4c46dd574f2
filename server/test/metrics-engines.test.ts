/**
 * The Prometheus metrics that read the database, on each engine the server
 * can use: devices by state, and the play-now start latency read from each
 * "started" ack (one lookup per occurrence, however many loudspeakers ack).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDb } from '../src/db/sql';
import { EventHub } from '../src/events/hub';
import { createMetrics, type ServerMetrics } from '../src/metrics/metrics';
import { engineCases } from './engine-cases';
import { waitFor } from './helpers';

const START = Date.UTC(2026, 11, 6, 2, 0, 0);

/** A sample's value in Prometheus' text format, or undefined. */
async function sample(metrics: ServerMetrics, name: string): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe.each(engineCases('the metrics on PostgreSQL'))('metrics on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  const hub = new EventHub();
  let metrics: ServerMetrics;

  beforeAll(async () => {
    ({ target, close } = await open());
    const device = (id: string, online: number, revokedAt: number | null) => ({
      id,
      name: id,
      secret_hash: 'x',
      created_at: 0,
      online,
      revoked_at: revokedAt,
    });
    await target.db
      .insertInto('devices')
      .values([device('loa-1', 1, null), device('loa-2', 1, null), device('loa-3', 0, null), device('loa-4', 0, 5)])
      .execute();
    await target.db
      .insertInto('media')
      .values({ sha256: 'a'.repeat(64), format: 'ogg', bytes: 1, duration_ms: 1000, created_at: 0 })
      .execute();
    const occurrence = (id: string, priority: string, commandId: string | null) => ({
      id,
      title: id,
      priority,
      start_at: START,
      duration_ms: 1000,
      sha256: 'a'.repeat(64),
      created_at: 0,
      command_id: commandId,
    });
    await target.db
      .insertInto('occurrences')
      .values([occurrence('khan', 'emergency', 'cmd-1'), occurrence('lich', 'normal', null)])
      .execute();
    metrics = createMetrics(target, hub, () => 7);
  }, 60_000);

  afterAll(async () => {
    await close?.();
  });

  it('counts devices by state', async () => {
    expect(await sample(metrics, 'loaxa_devices{state="online"}')).toBe(2);
    expect(await sample(metrics, 'loaxa_devices{state="offline"}')).toBe(1);
    expect(await sample(metrics, 'loaxa_devices{state="revoked"}')).toBe(1);
    expect(await sample(metrics, 'loaxa_mqtt_connections')).toBe(7);
  });

  it('times each play-now start from its command, and leaves scheduled ones out', async () => {
    const started = (occurrenceId: string, deviceId: string, afterMs: number) =>
      hub.emit('delivery', {
        occurrenceId,
        deviceId,
        stage: 'started',
        at: new Date(START + afterMs).toISOString(),
        detail: null,
      });
    started('khan', 'loa-1', 200);
    started('khan', 'loa-2', 400);
    started('lich', 'loa-1', 0);
    started('khan', 'loa-3', 600);
    const count = 'loaxa_broadcast_start_latency_seconds_count{priority="emergency"}';
    await waitFor('three starts timed', async () => (await sample(metrics, count)) === 3, 10_000);
    expect(await sample(metrics, 'loaxa_broadcast_start_latency_seconds_sum{priority="emergency"}')).toBeCloseTo(
      1.2,
      6,
    );
    expect(await sample(metrics, 'loaxa_broadcast_start_latency_seconds_count{priority="normal"}')).toBeUndefined();
  });
});
