/**
 * The deliveries page's queries (broadcasts/recent.ts) on each engine the server can use: the
 * recent occurrences with their deliveries counted by stage and outcome, their total, and the
 * deliveries someone should look at, for the province and for one commune, from one small history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryOutcome, DeliveryStage } from '@loaxa/protocol';
import {
  countOccurrences,
  DELIVERY_OUTCOMES,
  DELIVERY_STAGES,
  deliveryProblems,
  recentOccurrences,
} from '../src/broadcasts/recent';
import type { SqlDb } from '../src/db/sql';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SHA = 'a'.repeat(64);
const iso = (ms: number) => new Date(ms).toISOString();
const WINDOW = { from: NOW - DAY, to: NOW + DAY };
const A = communeScope('xa-a');

function stages(counts: Partial<Record<DeliveryStage, number>>): Record<DeliveryStage, number> {
  return { ...(Object.fromEntries(DELIVERY_STAGES.map((s) => [s, 0])) as Record<DeliveryStage, number>), ...counts };
}

function outcomes(counts: Partial<Record<DeliveryOutcome, number>>): Record<DeliveryOutcome, number> {
  return {
    ...(Object.fromEntries(DELIVERY_OUTCOMES.map((o) => [o, 0])) as Record<DeliveryOutcome, number>),
    ...counts,
  };
}

describe.each(engineCases('recent broadcasts on PostgreSQL'))('recent broadcasts on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ target, close } = await open());
    const { db } = target;
    await db
      .insertInto('communes')
      .values([
        { id: 'xa-a', name: 'Xã A', created_at: 0 },
        { id: 'xa-b', name: 'Xã B', created_at: 0 },
      ])
      .execute();
    const device = (id: string, communeId: string, online: number) => ({
      id,
      name: `Loa ${id}`,
      secret_hash: 'x',
      created_at: 0,
      online,
      commune_id: communeId,
    });
    // 'A-2' sorts before 'a-1' by bytes (SQLite's order), after it in most locales.
    await db
      .insertInto('devices')
      .values([device('a-1', 'xa-a', 1), device('A-2', 'xa-a', 0), device('b-1', 'xa-b', 1)])
      .execute();
    await db
      .insertInto('media')
      .values({ sha256: SHA, format: 'ogg', bytes: 1, duration_ms: 60_000, created_at: 0 })
      .execute();
    const occurrence = (
      id: string,
      communeId: string,
      startAt: number,
      extra: { priority?: string; cancelled_at?: number; stopped_at?: number; stopped_by?: string } = {},
    ) => ({
      id,
      title: `Tin ${id}`,
      priority: 'normal',
      start_at: startAt,
      duration_ms: 60_000,
      sha256: SHA,
      created_at: 0,
      commune_id: communeId,
      ...extra,
    });
    await db
      .insertInto('occurrences')
      .values([
        occurrence('occ-a-old', 'xa-a', NOW - 2 * HOUR),
        occurrence('occ-a-cancel', 'xa-a', NOW - HOUR, { cancelled_at: NOW - 90 * MIN }),
        occurrence('occ-a-stop', 'xa-a', NOW - 30 * MIN, { stopped_at: NOW - 25 * MIN, stopped_by: 'user-1' }),
        // The same start as occ-a-stop: 'occ-a-stop' > 'occ-B-missed' by bytes, not in most locales.
        occurrence('occ-B-missed', 'xa-b', NOW - 30 * MIN),
        occurrence('occ-b-future', 'xa-b', NOW + HOUR, { priority: 'emergency' }),
        occurrence('occ-b-empty', 'xa-b', NOW - 10 * MIN, { priority: 'priority' }),
        occurrence('occ-a-out', 'xa-a', NOW - 3 * DAY),
      ])
      .execute();
    const delivery = (
      occurrenceId: string,
      deviceId: string,
      stage: DeliveryStage,
      at: number | null,
      detail?: string,
    ) => ({
      occurrence_id: occurrenceId,
      device_id: deviceId,
      stage,
      at,
      detail: detail ?? null,
    });
    await db
      .insertInto('deliveries')
      .values([
        delivery('occ-a-old', 'a-1', 'failed', NOW - 2 * HOUR + 5_000, 'no audio'),
        delivery('occ-a-old', 'A-2', 'pending', null),
        delivery('occ-a-cancel', 'a-1', 'pending', null),
        delivery('occ-a-cancel', 'A-2', 'received', NOW - 61 * MIN),
        delivery('occ-a-stop', 'a-1', 'started', NOW - 30 * MIN),
        delivery('occ-a-stop', 'A-2', 'finished', NOW - 29 * MIN),
        delivery('occ-B-missed', 'b-1', 'ready', NOW - 31 * MIN),
        delivery('occ-b-future', 'b-1', 'received', NOW - 5 * MIN),
        delivery('occ-a-out', 'a-1', 'failed', NOW - 3 * DAY),
      ])
      .execute();
  }, 60_000);

  afterAll(async () => {
    await close?.();
  });

  it('lists the province’s occurrences in the window newest first, ties by id in byte order', async () => {
    const page = await recentOccurrences(target, PROVINCE, { ...WINDOW, limit: 50 }, NOW);
    expect(page.map((o) => o.id)).toEqual([
      'occ-b-future',
      'occ-b-empty',
      'occ-a-stop',
      'occ-B-missed',
      'occ-a-cancel',
      'occ-a-old',
    ]);
    expect(page.map((o) => [o.devices, o.communeId, o.priority])).toEqual([
      [1, 'xa-b', 'emergency'],
      [0, 'xa-b', 'priority'],
      [2, 'xa-a', 'normal'],
      [1, 'xa-b', 'normal'],
      [2, 'xa-a', 'normal'],
      [2, 'xa-a', 'normal'],
    ]);
    expect(page.map((o) => o.stages)).toEqual([
      stages({ received: 1 }),
      stages({}),
      stages({ started: 1, finished: 1 }),
      stages({ ready: 1 }),
      stages({ pending: 1, received: 1 }),
      stages({ pending: 1, failed: 1 }),
    ]);
    expect(page.map((o) => o.outcomes)).toEqual([
      outcomes({ waiting: 1 }),
      outcomes({}),
      outcomes({ stopped: 1, finished: 1 }),
      outcomes({ missed: 1 }),
      outcomes({ stopped: 2 }),
      outcomes({ missed: 1, failed: 1 }),
    ]);
    expect(page[2]).toEqual({
      id: 'occ-a-stop',
      communeId: 'xa-a',
      title: 'Tin occ-a-stop',
      priority: 'normal',
      startAt: iso(NOW - 30 * MIN),
      durationMs: 60_000,
      scheduleId: null,
      cancelled: false,
      stoppedAt: iso(NOW - 25 * MIN),
      stoppedBy: 'user-1',
      devices: 2,
      stages: stages({ started: 1, finished: 1 }),
      outcomes: outcomes({ stopped: 1, finished: 1 }),
    });
    expect(page[4]).toMatchObject({ cancelled: true, stoppedAt: null, stoppedBy: null });
    for (const o of page) {
      expect(typeof o.devices).toBe('number');
      expect(typeof o.durationMs).toBe('number');
      for (const n of Object.values(o.stages)) expect(typeof n).toBe('number');
    }
  });

  it('pages the same order and counts the window', async () => {
    const ids = async (limit: number, offset: number) =>
      (await recentOccurrences(target, PROVINCE, { ...WINDOW, limit, offset }, NOW)).map((o) => o.id);
    expect(await ids(2, 0)).toEqual(['occ-b-future', 'occ-b-empty']);
    expect(await ids(2, 2)).toEqual(['occ-a-stop', 'occ-B-missed']);
    expect(await ids(2, 3)).toEqual(['occ-B-missed', 'occ-a-cancel']);
    expect(await ids(5, 5)).toEqual(['occ-a-old']);
    expect(await ids(5, 6)).toEqual([]);
    const total = await countOccurrences(target, PROVINCE, WINDOW);
    expect(total).toBe(6);
    expect(typeof total).toBe('number');
    expect(await countOccurrences(target, PROVINCE, { from: NOW - 4 * DAY, to: NOW })).toBe(6);
    expect(await countOccurrences(target, PROVINCE, { from: NOW, to: NOW + DAY })).toBe(1);
  });

  it('keeps to one commune when given', async () => {
    const page = await recentOccurrences(target, A, { ...WINDOW, limit: 50 }, NOW);
    expect(page.map((o) => [o.id, o.devices])).toEqual([
      ['occ-a-stop', 2],
      ['occ-a-cancel', 2],
      ['occ-a-old', 2],
    ]);
    expect((await recentOccurrences(target, A, { ...WINDOW, limit: 1, offset: 1 }, NOW)).map((o) => o.id)).toEqual([
      'occ-a-cancel',
    ]);
    expect(await countOccurrences(target, A, WINDOW)).toBe(3);
    expect(await countOccurrences(target, communeScope('xa-b'), WINDOW)).toBe(3);
    expect(await countOccurrences(target, communeScope('nowhere'), WINDOW)).toBe(0);
  });

  it('finds the failed and missed deliveries of broadcasts neither stopped nor cancelled', async () => {
    const problems = await deliveryProblems(target, PROVINCE, { since: NOW - DAY, limit: 20 }, NOW);
    expect(problems).toEqual([
      {
        occurrenceId: 'occ-B-missed',
        communeId: 'xa-b',
        title: 'Tin occ-B-missed',
        priority: 'normal',
        startAt: iso(NOW - 30 * MIN),
        deviceId: 'b-1',
        deviceName: 'Loa b-1',
        online: true,
        outcome: 'missed',
        stage: 'ready',
        at: iso(NOW - 31 * MIN),
        detail: null,
      },
      {
        occurrenceId: 'occ-a-old',
        communeId: 'xa-a',
        title: 'Tin occ-a-old',
        priority: 'normal',
        startAt: iso(NOW - 2 * HOUR),
        deviceId: 'A-2',
        deviceName: 'Loa A-2',
        online: false,
        outcome: 'missed',
        stage: 'pending',
        at: null,
        detail: null,
      },
      {
        occurrenceId: 'occ-a-old',
        communeId: 'xa-a',
        title: 'Tin occ-a-old',
        priority: 'normal',
        startAt: iso(NOW - 2 * HOUR),
        deviceId: 'a-1',
        deviceName: 'Loa a-1',
        online: true,
        outcome: 'failed',
        stage: 'failed',
        at: iso(NOW - 2 * HOUR + 5_000),
        detail: 'no audio',
      },
    ]);
    const brief = async (scope: typeof A, since: number, limit: number, now = NOW) =>
      (await deliveryProblems(target, scope, { since, limit }, now)).map((p) => `${p.occurrenceId}/${p.deviceId}`);
    expect(await brief(PROVINCE, NOW - DAY, 2)).toEqual(['occ-B-missed/b-1', 'occ-a-old/A-2']);
    expect(await brief(PROVINCE, NOW - 90 * MIN, 20)).toEqual(['occ-B-missed/b-1']);
    expect(await brief(A, NOW - DAY, 20)).toEqual(['occ-a-old/A-2', 'occ-a-old/a-1']);
    expect(await brief(communeScope('xa-b'), NOW - DAY, 20)).toEqual(['occ-B-missed/b-1']);
    // Within a minute of its start a delivery not yet started is only waiting.
    expect(await brief(PROVINCE, NOW - DAY, 20, NOW - 30 * MIN + 30_000)).toEqual(['occ-a-old/A-2', 'occ-a-old/a-1']);
  });
});
