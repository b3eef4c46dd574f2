/**
 * The province report over summed days equals counting the history, before
 * and after the history of a summed day changes: a late acknowledgement, a
 * stopped or deleted broadcast, an online change or a loudspeaker's dates
 * written into the past. The reference is the same install's commune report,
 * which always counts the history (every loudspeaker and broadcast here is in
 * the one commune, so both must agree to the millisecond).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { sqliteSql, type SqlDb } from '../db/sql';
import { communeScope, PROVINCE } from '../tenancy/scope';
import { closedDays, DAY_MS, dayStart } from './day-rollup';
import { Reports, type ReportPeriod } from './reports';

const HOUR = 3_600_000;
/** 2026-11-20 09:30 in Vietnam: a period that starts and ends inside a day. */
const NOW = Date.parse('2026-11-20T02:30:00Z');
const PERIOD: ReportPeriod = { from: NOW - 10 * DAY_MS - 5 * HOUR, to: NOW + DAY_MS };

let dir: string;
let db: Db;
let sqlDb: SqlDb;
let reports: Reports;
const COMMUNE = 'default';

/** A small deterministic generator: the same history on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

function seed(): void {
  const rnd = random(7);
  const sha = 'a'.repeat(64);
  db.prepare("INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (?, 'ogg', 1, 1, 0)").run(sha);
  const device = db.prepare(
    "INSERT INTO devices (id, name, secret_hash, created_at, revoked_at, commune_id) VALUES (?, ?, 'x', ?, ?, 'default')",
  );
  const occurrence = db.prepare(
    `INSERT INTO occurrences (id, title, priority, start_at, duration_ms, sha256, created_at, commune_id, stopped_at,
       cancelled_at) VALUES (?, 't', 'normal', ?, ?, ?, ?, 'default', ?, ?)`,
  );
  const delivery = db.prepare('INSERT INTO deliveries (occurrence_id, device_id, stage, at) VALUES (?, ?, ?, ?)');
  const status = db.prepare('INSERT INTO device_status (device_id, online, at) VALUES (?, ?, ?)');
  const start = PERIOD.from - 3 * DAY_MS;
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const id = `loa-${i}`;
    // Most there all along; one installed mid-period, one revoked mid-period.
    const created = i === 10 ? NOW - 4 * DAY_MS - 7 * HOUR : start - DAY_MS;
    const revoked = i === 11 ? NOW - 6 * DAY_MS + 3 * HOUR : null;
    device.run(id, id, created, revoked);
    ids.push(id);
    let online = 0;
    for (let t = start + rnd() * 6 * HOUR; t < NOW; t += rnd() * 20 * HOUR) {
      online = 1 - online;
      status.run(id, online, Math.round(t));
    }
  }
  const stages = ['pending', 'received', 'ready', 'started', 'finished', 'finished', 'finished', 'failed', 'skipped'];
  let n = 0;
  for (let t = start; t < NOW + 2 * HOUR; t += 5 * HOUR + rnd() * 4 * HOUR) {
    const id = `occ-${n++}`;
    const stopped = rnd() < 0.1 ? Math.round(t + 10_000) : null;
    const cancelled = rnd() < 0.05 ? Math.round(t - 1000) : null;
    occurrence.run(id, Math.round(t), 60_000 + Math.round(rnd() * 60_000), sha, Math.round(t), stopped, cancelled);
    for (const d of ids) {
      if (rnd() < 0.2) continue;
      const stage = stages[Math.floor(rnd() * stages.length)]!;
      delivery.run(id, d, stage, stage === 'pending' ? null : Math.round(t + 5000));
    }
  }
}

/** The province's device report (summed days) and the commune's (counted), in the same order. */
async function both() {
  return {
    province: await reports.devices(PROVINCE, PERIOD),
    counted: await reports.devices(communeScope(COMMUNE), PERIOD),
  };
}

const rolledDays = () => (db.prepare('SELECT COUNT(*) AS n FROM rolled_days').get() as { n: number }).n;
/** A summed day's occurrence and a device that got it. */
const pastDelivery = () =>
  db
    .prepare(
      `SELECT d.occurrence_id AS occurrenceId, d.device_id AS deviceId, o.start_at AS startAt FROM deliveries d
       JOIN occurrences o ON o.id = d.occurrence_id
       WHERE o.start_at BETWEEN ? AND ? AND o.cancelled_at IS NULL AND o.stopped_at IS NULL AND d.stage = 'pending'
       ORDER BY o.start_at LIMIT 1`,
    )
    .get(NOW - 8 * DAY_MS, NOW - 2 * DAY_MS) as { occurrenceId: string; deviceId: string; startAt: number };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-rollup-'));
  db = openDatabase(dir);
  sqlDb = sqliteSql(db);
  reports = new Reports(sqlDb, () => NOW);
  seed();
});

afterAll(async () => {
  await sqlDb.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the day roll-up of the province report', () => {
  it('finds the closed days of a period: whole Vietnamese days, settled ones only', () => {
    const days = closedDays(PERIOD.from, PERIOD.to, NOW)!;
    expect(days.first).toBe(dayStart(PERIOD.from) + DAY_MS);
    expect(days.end).toBe(dayStart(NOW));
    // Midnight in Vietnam is 17:00 UTC.
    expect(new Date(days.first).toISOString()).toMatch(/T17:00:00\.000Z$/);
    // From 04:30 on the 10th (Vietnam) to 09:30 on the 20th: the 11th to the 19th.
    expect(days.count).toBe(9);
    // A period inside one day has none.
    expect(closedDays(NOW - 2 * HOUR, NOW, NOW)).toBeNull();
  });

  it('sums the closed days and agrees with counting the history', async () => {
    const { province, counted } = await both();
    expect(rolledDays()).toBe(9);
    expect(counted.reduce((sum, d) => sum + d.broadcasts, 0)).toBeGreaterThan(100);
    expect(province).toEqual(counted);
    // Asked again, from the sums.
    expect(await reports.devices(PROVINCE, PERIOD)).toEqual(counted);
  });

  it('agrees again after a late acknowledgement of a summed day', async () => {
    await both();
    const late = pastDelivery();
    db.prepare("UPDATE deliveries SET stage = 'finished', at = ? WHERE occurrence_id = ? AND device_id = ?").run(
      NOW,
      late.occurrenceId,
      late.deviceId,
    );
    expect(rolledDays()).toBe(8);
    const { province, counted } = await both();
    expect(province).toEqual(counted);
  });

  it('agrees again after a broadcast of a summed day is stopped, then deleted', async () => {
    await both();
    const { occurrenceId } = pastDelivery();
    db.prepare('UPDATE occurrences SET stopped_at = start_at + 1000 WHERE id = ?').run(occurrenceId);
    expect((await both()).province).toEqual((await both()).counted);
    db.prepare('DELETE FROM occurrences WHERE id = ?').run(occurrenceId);
    const { province, counted } = await both();
    expect(province).toEqual(counted);
  });

  it('agrees again after online changes and loudspeaker dates written into the past', async () => {
    await both();
    db.prepare('INSERT INTO device_status (device_id, online, at) VALUES (?, 1, ?)').run('loa-3', NOW - 7 * DAY_MS);
    expect((await both()).province).toEqual((await both()).counted);
    db.prepare(
      "INSERT INTO devices (id, name, secret_hash, created_at, commune_id) VALUES ('loa-new', 'n', 'x', ?, 'default')",
    ).run(NOW - 5 * DAY_MS);
    db.prepare("INSERT INTO device_status (device_id, online, at) VALUES ('loa-new', 1, ?)").run(NOW - 5 * DAY_MS);
    expect((await both()).province).toEqual((await both()).counted);
    db.prepare("UPDATE devices SET revoked_at = ? WHERE id = 'loa-5'").run(NOW - 3 * DAY_MS);
    const { province, counted } = await both();
    expect(province.find((d) => d.deviceId === 'loa-new')!.uptime).toBeGreaterThan(0);
    expect(province).toEqual(counted);
  });

  it('is summed ahead by the nightly clean-up, and forgets days before the retention cutoff', async () => {
    db.prepare('DELETE FROM rolled_days').run();
    // Seven days back from 09:30 on the 20th: the whole days from the 14th to the 19th.
    expect(await reports.rollUp(7, NOW - 30 * DAY_MS)).toBe(6);
    expect(await reports.rollUp(7, NOW - 30 * DAY_MS)).toBe(0);
    expect(await reports.rollUp(7, NOW - 3 * DAY_MS)).toBe(0);
    const oldest = db.prepare('SELECT MIN(day) AS day FROM device_days').get() as { day: number };
    expect(oldest.day).toBeGreaterThanOrEqual(NOW - 3 * DAY_MS);
    expect((await both()).province).toEqual((await both()).counted);
  });
});
