/**
 * The reports (reports/reports.ts, reports/day-rollup.ts) count the same on
 * PostgreSQL as on SQLite: the same history, written into both by the same
 * Kysely code, gives the same device, zone and commune reports for the province
 * (over summed days) and for one commune (counted), the same nightly roll-up
 * and the same status-log pruning; a few numbers are checked by hand as well,
 * so that both engines cannot be wrong the same way. The history straddles
 * midnight in Vietnam (17:00 UTC), where a day's sums begin and end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/db/database';
import { migratePostgres, postgresSql, sqliteSql, type SqlDb } from '../src/db/sql';
import { DAY_MS } from '../src/reports/day-rollup';
import { pruneDeviceStatus, Reports, type ReportPeriod } from '../src/reports/reports';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the reports on PostgreSQL');

const HOUR = 3_600_000;
const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
/** 2026-03-10 10:00 in Vietnam. */
const NOW = at('2026-03-10T03:00:00Z');
/** From 19:00 on the 5th (Vietnam): whole days from the 6th to the 9th, partial ones at both ends. */
const PERIOD: ReportPeriod = { from: at('2026-03-05T12:00:00Z'), to: NOW + DAY_MS };
/** Midnight of the 9th in Vietnam: two status changes of loa-1 and of loa-5 share this millisecond. */
const TIE = at('2026-03-08T17:00:00Z');
const PRUNE_CUTOFF = TIE + 1;
const SHA = 'c'.repeat(64);
const LONG_AGO = at('2026-01-01T00:00:00Z');

/** The same history for both engines, written by the same code. */
async function writeHistory(target: SqlDb): Promise<void> {
  const { db } = target;
  await db.insertInto('communes').values({ id: 'tan-lap', name: 'Xã Tân Lập', created_at: 0 }).execute();
  await db
    .insertInto('zones')
    .values([
      { id: 'thon-dong', commune_id: 'default', name: 'Thôn Đông', created_at: 0 },
      { id: 'thon-tay', commune_id: 'default', name: 'Thôn Tây', created_at: 0 },
      { id: 'thon-lap', commune_id: 'tan-lap', name: 'Thôn Lập', created_at: 0 },
    ])
    .execute();
  const device = (
    id: string,
    communeId: string,
    createdAt: number,
    extra: { revoked_at?: number; online?: number; last_seen?: number } = {},
  ) => ({
    // Every column in every row: in a multi-row INSERT Kysely writes a missing one as NULL on SQLite.
    id,
    name: `Loa ${id}`,
    secret_hash: 'x',
    created_at: createdAt,
    commune_id: communeId,
    revoked_at: extra.revoked_at ?? null,
    online: extra.online ?? 0,
    last_seen: extra.last_seen ?? null,
  });
  await db
    .insertInto('devices')
    .values([
      device('loa-1', 'default', LONG_AGO),
      device('loa-2', 'default', LONG_AGO, { last_seen: at('2026-03-09T22:00:00Z') }),
      // Installed on the 7th; revoked at midnight of the 9th: partial days of uptime.
      device('loa-3', 'default', at('2026-03-07T05:00:00Z')),
      device('loa-4', 'default', LONG_AGO, { revoked_at: TIE }),
      device('loa-5', 'tan-lap', LONG_AGO, { online: 1, last_seen: NOW - 5 * MINUTE }),
      // Revoked before the period: in no report, nor in its commune's fleet.
      device('loa-6', 'tan-lap', LONG_AGO, { revoked_at: at('2026-02-01T00:00:00Z'), last_seen: LONG_AGO }),
    ])
    .execute();
  await db
    .insertInto('device_zones')
    .values([
      { device_id: 'loa-1', zone_id: 'thon-dong' },
      { device_id: 'loa-2', zone_id: 'thon-tay' },
      { device_id: 'loa-2', zone_id: 'thon-dong' },
      { device_id: 'loa-3', zone_id: 'thon-tay' },
      { device_id: 'loa-5', zone_id: 'thon-lap' },
    ])
    .execute();
  await db
    .insertInto('media')
    .values({ sha256: SHA, format: 'ogg', bytes: 1, duration_ms: 1, created_at: 0 })
    .execute();
  await db
    .insertInto('bulletins')
    .values({
      id: 'bt-1',
      title: 'Bản tin',
      priority: 'emergency',
      sha256: SHA,
      duration_ms: MINUTE,
      all_communes: 1,
      status: 'sent',
      created_by: 'tinh',
      created_at: 0,
      updated_at: 0,
    })
    .execute();

  const occurrences: [
    id: string,
    communeId: string,
    startAt: number,
    durationMs: number,
    deliveries: Record<string, string>,
    extra?: { stopped_at?: number; cancelled_at?: number; bulletin_id?: string },
  ][] = [
    // The last millisecond of the 6th and the first of the 7th (Vietnam): two different days.
    [
      'o1',
      'default',
      at('2026-03-06T16:59:59.999Z'),
      10 * MINUTE,
      { 'loa-1': 'finished', 'loa-2': 'failed', 'loa-4': 'finished' },
    ],
    [
      'o2',
      'default',
      at('2026-03-06T17:00:00Z'),
      5 * MINUTE,
      { 'loa-1': 'finished', 'loa-2': 'skipped', 'loa-4': 'preempted' },
    ],
    [
      'o3',
      'default',
      at('2026-03-08T02:00:00Z'),
      2 * MINUTE,
      { 'loa-1': 'pending', 'loa-2': 'started', 'loa-3': 'finished' },
    ],
    [
      'o4',
      'default',
      at('2026-03-09T16:30:00Z'),
      3 * MINUTE,
      { 'loa-1': 'preempted', 'loa-2': 'pending', 'loa-3': 'finished' },
      { stopped_at: at('2026-03-09T16:31:00Z') },
    ],
    [
      'o5',
      'default',
      at('2026-03-05T16:00:00Z'),
      4 * MINUTE,
      { 'loa-1': 'finished' },
      { cancelled_at: at('2026-03-05T15:00:00Z') },
    ],
    // In the partial first day; before the period; after now; not yet a minute late.
    ['o6', 'default', at('2026-03-05T13:00:00Z'), 6 * MINUTE, { 'loa-1': 'finished', 'loa-2': 'received' }],
    ['o7', 'default', at('2026-03-05T11:00:00Z'), 9 * MINUTE, { 'loa-1': 'finished' }],
    ['o8', 'default', NOW + 2 * HOUR, MINUTE, { 'loa-1': 'pending' }],
    ['o9', 'default', NOW - 30_000, MINUTE, { 'loa-1': 'pending' }],
    // The province's bulletin, played in both communes (only started in the default one).
    [
      'ob-default',
      'default',
      at('2026-03-07T17:00:00Z'),
      MINUTE,
      { 'loa-1': 'started', 'loa-2': 'pending' },
      { bulletin_id: 'bt-1' },
    ],
    ['ob-lap', 'tan-lap', at('2026-03-07T17:00:00Z'), MINUTE, { 'loa-5': 'finished' }, { bulletin_id: 'bt-1' }],
    ['o10', 'tan-lap', at('2026-03-09T17:00:00Z'), 7 * MINUTE, { 'loa-5': 'finished' }],
    ['o11', 'tan-lap', at('2026-03-08T16:59:59.999Z'), 8 * MINUTE, { 'loa-5': 'failed' }],
    // Tân Lập's broadcast on a default loudspeaker: the province's report counts it, the commune's not.
    ['o12', 'tan-lap', at('2026-03-07T10:00:00Z'), 2 * MINUTE, { 'loa-2': 'finished' }],
  ];
  for (const [id, communeId, startAt, durationMs, deliveries, extra] of occurrences) {
    await db
      .insertInto('occurrences')
      .values({
        id,
        commune_id: communeId,
        title: id,
        priority: 'normal',
        start_at: startAt,
        duration_ms: durationMs,
        sha256: SHA,
        created_at: 0,
        ...extra,
      })
      .execute();
    await db
      .insertInto('deliveries')
      .values(
        Object.entries(deliveries).map(([deviceId, stage]) => ({
          occurrence_id: id,
          device_id: deviceId,
          stage,
          at: stage === 'pending' ? null : startAt,
        })),
      )
      .execute();
  }

  // One row at a time, in this order: changes at the same instant count in the order logged.
  const status: [string, number, number][] = [
    ['loa-1', 1, at('2026-02-01T00:00:00Z')],
    ['loa-1', 0, at('2026-03-06T05:00:00Z')],
    ['loa-1', 1, at('2026-03-06T17:00:00Z')],
    ['loa-1', 0, TIE],
    ['loa-1', 1, TIE],
    ['loa-2', 1, at('2026-03-09T20:00:00Z')],
    ['loa-2', 0, at('2026-03-09T22:00:00Z')],
    ['loa-3', 1, at('2026-03-07T05:00:00Z')],
    ['loa-4', 1, at('2026-02-01T00:00:00Z')],
    ['loa-4', 0, at('2026-03-07T17:00:00Z')],
    ['loa-5', 0, at('2026-01-15T00:00:00Z')],
    ['loa-5', 1, at('2026-02-10T00:00:00Z')],
    ['loa-5', 1, TIE],
    ['loa-5', 0, TIE],
    ['loa-5', 1, at('2026-03-09T09:00:00Z')],
    ['loa-6', 1, at('2026-01-10T00:00:00Z')],
  ];
  for (const [deviceId, online, when] of status) {
    await db.insertInto('device_status').values({ device_id: deviceId, online, at: when }).execute();
  }
}

const sorted = <V>(map: Map<string, V>) => [...map].sort(([a], [b]) => (a < b ? -1 : 1));

/** Every public method of Reports, in the order a day of service would call them. */
async function answers(target: SqlDb) {
  const reports = new Reports(target, () => NOW);
  const lap = communeScope('tan-lap');
  const defaultCommune = communeScope('default');
  const table = async (name: string, order: string[]) =>
    (await order.reduce((q, column) => q.orderBy(column), target.db.selectFrom(name).selectAll()).execute()).map(
      (r: object) => ({ ...r }),
    );
  const result = {
    zoneNames: { province: sorted(await reports.zoneNames(PROVINCE)), lap: sorted(await reports.zoneNames(lap)) },
    communeNames: sorted(await reports.communeNames()),
    // A commune's report counts the history; the province's sums the closed days first.
    commune: {
      devices: await reports.devices(defaultCommune, PERIOD),
      zones: await reports.zones(defaultCommune, PERIOD),
      communes: await reports.communes(defaultCommune, PERIOD),
      lapDevices: await reports.devices(lap, PERIOD),
    },
    province: {
      devices: await reports.devices(PROVINCE, PERIOD),
      zones: await reports.zones(PROVINCE, PERIOD),
      communes: await reports.communes(PROVINCE, PERIOD),
    },
    rolledDaysAfterReport: (await table('rolled_days', ['day'])).map((r) => (r as { day: number }).day),
    // The nightly clean-up: the last week's closed days the report did not need, then none.
    rollUp: [await reports.rollUp(7, NOW - 30 * DAY_MS), await reports.rollUp(7, NOW - 30 * DAY_MS)],
    provinceFromSums: await reports.devices(PROVINCE, PERIOD),
    deviceDays: await table('device_days', ['device_id', 'day']),
  };
  // Retention: the report from the cutoff on reads the same from what is left.
  const sincePrune: ReportPeriod = { from: PRUNE_CUTOFF, to: NOW };
  const reportBefore = await reports.devices(defaultCommune, sincePrune);
  const prune = {
    deleted: await pruneDeviceStatus(target, PRUNE_CUTOFF),
    again: await pruneDeviceStatus(target, PRUNE_CUTOFF),
    // By name: seq (migration 29) is a column of its own on both engines, in another place.
    status: (
      await target.db
        .selectFrom('device_status')
        .select(['device_id', 'online', 'at'])
        .orderBy('device_id')
        .orderBy('at')
        .orderBy('seq')
        .execute()
    ).map((r: object) => ({ ...r })) as { device_id: string; online: number; at: number }[],
    reportBefore,
    reportAfter: await reports.devices(defaultCommune, sincePrune),
  };
  return { ...result, prune };
}

describe.skipIf(!hasPostgres)('the reports on PostgreSQL and SQLite', () => {
  let server: TestPostgres;
  let postgres: SqlDb;
  let handle: Db;
  let sqlite: SqlDb;
  let dir: string;

  beforeAll(async () => {
    server = await startPostgres();
    postgres = postgresSql(server.url, { poolSize: 3 });
    await migratePostgres(postgres);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-reports-'));
    handle = openDatabase(dir);
    sqlite = sqliteSql(handle);
    await writeHistory(sqlite);
    await writeHistory(postgres);
  }, 60_000);

  afterAll(async () => {
    await postgres?.close();
    await sqlite?.close();
    handle?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same reports, roll-up and pruning on both, as the history says', async () => {
    const fromSqlite = await answers(sqlite);
    const fromPostgres = await answers(postgres);
    expect(fromPostgres).toEqual(fromSqlite);

    // By hand, from the history above.
    expect(fromSqlite.zoneNames.lap).toEqual([['thon-lap', 'Thôn Lập']]);
    expect(fromSqlite.communeNames).toEqual([
      ['default', 'Xã'],
      ['tan-lap', 'Xã Tân Lập'],
    ]);
    const byId = <T extends { deviceId: string }>(rows: T[]) => Object.fromEntries(rows.map((d) => [d.deviceId, d]));
    const counted = byId(fromSqlite.commune.devices);
    expect(fromSqlite.commune.devices.map((d) => d.deviceId)).toEqual(['loa-1', 'loa-2', 'loa-3', 'loa-4']);
    // loa-1: o1, o2, o6 finished (21 min), o3 missed, o4 stopped, o9 and the bulletin not over yet;
    // online 17 h to 05:00 on the 6th, then from 17:00 on the 6th to now: the online logged last at
    // the tie wins. 99 h of the 111 h of the period up to now.
    expect(counted['loa-1']).toEqual({
      deviceId: 'loa-1',
      communeId: 'default',
      name: 'Loa loa-1',
      zones: ['thon-dong'],
      revoked: false,
      broadcasts: 7,
      finished: 3,
      failed: 0,
      missed: 1,
      stopped: 1,
      successRate: 0.5,
      minutesOnAir: 21,
      uptime: 0.8919,
    });
    expect(counted['loa-2']).toMatchObject({ zones: ['thon-dong', 'thon-tay'], broadcasts: 6, finished: 0, failed: 2 });
    expect(counted['loa-2']).toMatchObject({ missed: 2, stopped: 1, minutesOnAir: 0, uptime: 0.018 }); // 2 h of 111
    // loa-3 from its installation (05:00 on the 7th) to now, online throughout.
    expect(counted['loa-3']).toMatchObject({ broadcasts: 2, finished: 2, minutesOnAir: 5, uptime: 1 });
    // loa-4 until its revocation: online to 17:00 on the 7th, 53 h of 77.
    expect(counted['loa-4']).toMatchObject({ revoked: true, broadcasts: 2, finished: 1, uptime: 0.6883 });
    // Tân Lập: ob-lap and o10 finished (8 min), o11 failed; the offline logged last at the tie
    // wins: online 77 h, then from 09:00 on the 9th, 18 h more: 95 h of 111.
    expect(fromSqlite.commune.lapDevices).toEqual([
      expect.objectContaining({ deviceId: 'loa-5', broadcasts: 3, finished: 2, failed: 1, successRate: 0.6667 }),
    ]);
    expect(fromSqlite.commune.lapDevices[0]).toMatchObject({ minutesOnAir: 8, uptime: 0.8559 });

    // The province over summed days: the same as counting, plus o12 of Tân Lập on loa-2.
    const province = byId(fromSqlite.province.devices);
    expect(Object.keys(province)).toEqual(['loa-1', 'loa-2', 'loa-3', 'loa-4', 'loa-5']);
    expect(province['loa-1']).toEqual(counted['loa-1']);
    expect(province['loa-2']).toEqual({
      ...counted['loa-2'],
      broadcasts: 7,
      finished: 1,
      successRate: 0.1667,
      minutesOnAir: 2,
    });
    expect(fromSqlite.rolledDaysAfterReport).toEqual([0, 1, 2, 3].map((d) => at('2026-03-05T17:00:00Z') + d * DAY_MS));
    expect(fromSqlite.provinceFromSums).toEqual(fromSqlite.province.devices);
    // The week before now has six closed days; the report had summed four of them.
    expect(fromSqlite.rollUp).toEqual([2, 0]);
    // The summed day of o1 (the 6th) and of o2 (the 7th): one broadcast each for loa-1.
    const day = (deviceId: string, dayStart: string) =>
      fromSqlite.deviceDays.find(
        (r) => (r as { device_id: string }).device_id === deviceId && (r as { day: number }).day === at(dayStart),
      );
    expect(day('loa-1', '2026-03-05T17:00:00Z')).toMatchObject({ broadcasts: 1, finished: 1, on_air_ms: 10 * MINUTE });
    expect(day('loa-1', '2026-03-06T17:00:00Z')).toMatchObject({ broadcasts: 1, finished: 1, on_air_ms: 5 * MINUTE });

    const zones = Object.fromEntries(fromSqlite.province.zones.map((z) => [z.zoneId, z]));
    expect(fromSqlite.province.zones.map((z) => z.name)).toEqual(['Thôn Đông', 'Thôn Lập', 'Thôn Tây']);
    expect(zones['thon-dong']).toMatchObject({ devices: 2, broadcasts: 14, finished: 4, minutesOnAir: 23 });
    expect(zones['thon-tay']).toMatchObject({ devices: 2, broadcasts: 9, finished: 3, minutesOnAir: 7 });

    const communes = Object.fromEntries(fromSqlite.province.communes.map((c) => [c.communeId, c]));
    expect(communes.default).toMatchObject({
      devices: 3,
      online: 0,
      offline: 3,
      lastSeen: '2026-03-09T22:00:00.000Z',
      bulletinsPlayed: 1,
      broadcasts: 18,
    });
    expect(communes['tan-lap']).toMatchObject({
      devices: 1,
      online: 1,
      offline: 0,
      lastSeen: new Date(NOW - 5 * MINUTE).toISOString(),
      bulletinsPlayed: 1,
      broadcasts: 3,
    });
    expect(fromSqlite.commune.communes.map((c) => c.communeId)).toEqual(['default']);

    // Before the cutoff only each device's last change stays: loa-1's online and loa-5's offline
    // logged last at the tie, loa-3's and loa-6's only rows; loa-4's offline.
    expect([fromSqlite.prune.deleted, fromSqlite.prune.again]).toEqual([8, 0]);
    expect(fromSqlite.prune.reportAfter).toEqual(fromSqlite.prune.reportBefore);
    expect(fromSqlite.prune.reportBefore.map((d) => d.deviceId)).toEqual(['loa-1', 'loa-2', 'loa-3']);
    expect(fromSqlite.prune.status.filter((s) => s.at < PRUNE_CUTOFF)).toEqual([
      { device_id: 'loa-1', online: 1, at: TIE },
      { device_id: 'loa-3', online: 1, at: at('2026-03-07T05:00:00Z') },
      { device_id: 'loa-4', online: 0, at: at('2026-03-07T17:00:00Z') },
      { device_id: 'loa-5', online: 0, at: TIE },
      { device_id: 'loa-6', online: 1, at: at('2026-01-10T00:00:00Z') },
    ]);
  });
});
