/**
 * `npm run bench:schedule`: the scheduling engine at commune-to-district scale,
 * on the real server (embedded Aedes, SQLite in a temp dir) in-process.
 * - conflict detection for a new year-long daily schedule against a calendar of
 *   year-long daily schedules, against 365 one-off schedules, and against 365
 *   year-long daily schedules (a year of daily schedules) on 1,000 devices;
 * - re-plan after zone changes: materialise + publish a fresh plan to 1,000 devices;
 * - one device moved through the HTTP API (its plan follows).
 * Writes reports/bench-schedule-latest.{json,md}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { loadConfig, startServer } from '../server/src/index';
import { createLogger } from '../server/src/logger';
import type { Actor, ScheduleInput } from '../server/src/schedule/schedules';
import { PROVINCE } from '../server/src/tenancy/scope';
import { row, run, sql } from '../server/test/helpers';

const ROOT = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const DEVICES = arg('devices', 1000);
const ZONES = arg('zones', 10);
const DAILY = arg('daily', 20);
const VN = 'Asia/Ho_Chi_Minh';
const admin: Actor = { username: 'bench', canApprove: true, canPublish: true };

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: +(performance.now() - t0).toFixed(1), value };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-schedule-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    LOAXA_ADMIN_PASSWORD: 'bench-password-123',
    LOG_LEVEL: 'silent',
  });
  const server = await startServer(config, { logger: createLogger('silent') });
  const { registry, scheduling } = server.services;
  try {
    const zones: string[] = [];
    for (let z = 0; z < ZONES; z++)
      zones.push((await registry.createZone(`Thôn ${z + 1}`, 'default', `thon-${z + 1}`)).id);
    for (let i = 0; i < DEVICES; i++) {
      await registry.createDevice({ id: `loa-${i}`, zones: [zones[i % ZONES]!], communeId: 'default' });
    }
    const silence = await scheduling.content.create(
      'default',
      { kind: 'silence', title: 'Bản tin 10 phút', durationMs: 600_000 },
      'bench',
    );
    const programme = await scheduling.programmes.create(
      'default',
      { title: 'Bản tin', items: [{ contentId: silence.id }] },
      'bench',
    );
    const today = DateTime.now().setZone(VN);
    const yearEnd = today.plus({ days: 364 }).toISODate()!;

    // A calendar of year-long daily schedules on every device, 30 minutes apart.
    const timesOf = (k: number) =>
      today
        .startOf('day')
        .plus({ minutes: 6 * 60 + 30 * k })
        .toFormat('HH:mm');
    for (let k = 0; k < DAILY; k++) {
      const s = await scheduling.schedules.create(
        'default',
        {
          title: `Hằng ngày ${k}`,
          programmeId: programme.id,
          rule: { kind: 'daily', startDate: today.toISODate()!, endDate: yearEnd, times: [timesOf(k)] },
          zones,
          onConflict: 'priority',
        },
        admin,
      );
      await scheduling.schedules.submit(PROVINCE, s.id, admin);
    }
    const candidate = {
      title: 'Mới',
      programmeId: programme.id,
      rule: { kind: 'daily' as const, startDate: today.toISODate()!, endDate: yearEnd, times: [timesOf(0)] },
      zones,
    };
    await scheduling.schedules.checkConflicts(PROVINCE, candidate, { communeId: 'default' }); // warm up
    const daily = await timed(() => scheduling.schedules.checkConflicts(PROVINCE, candidate, { communeId: 'default' }));

    /** Puts schedules on the calendar as waiting for approval (no plans published). */
    const waiting = async (title: string, rules: ScheduleInput['rule'][]) => {
      for (const [k, rule] of rules.entries()) {
        const s = await scheduling.schedules.create(
          'default',
          { title: `${title} ${k}`, programmeId: programme.id, rule, zones, onConflict: 'priority' },
          admin,
        );
        await run(server, sql`UPDATE schedules SET status = 'submitted' WHERE id = ${s.id}`);
      }
    };

    // 365 one-off schedules, one a day for a year, on every device.
    await run(server, sql`UPDATE schedules SET status = 'cancelled'`);
    await waiting(
      'Một lần',
      Array.from({ length: 365 }, (_, d) => ({
        kind: 'once' as const,
        startDate: today.plus({ days: d }).toISODate()!,
        times: [timesOf(0)],
      })),
    );
    const once = await timed(() => scheduling.schedules.checkConflicts(PROVINCE, candidate, { communeId: 'default' }));

    // 365 year-long daily schedules (a year of daily schedules, 133,225 airtimes), waiting for approval.
    await run(server, sql`UPDATE schedules SET status = 'cancelled' WHERE title LIKE 'Một lần%'`);
    await waiting(
      'Cả năm',
      Array.from({ length: 365 }, (_, k) => ({
        kind: 'daily' as const,
        startDate: today.toISODate()!,
        endDate: yearEnd,
        times: [timesOf(k % 48)],
      })),
    );
    const year = await timed(() => scheduling.schedules.checkConflicts(PROVINCE, candidate, { communeId: 'default' }));

    // Re-plan: bring back the daily calendar on air, then a zone change touching every device.
    await run(server, sql`UPDATE schedules SET status = 'cancelled' WHERE title LIKE 'Cả năm%'`);
    await run(server, sql`UPDATE schedules SET status = 'approved' WHERE title LIKE 'Hằng ngày%'`);
    const all = await registry.devicesIn('all');
    const t0 = performance.now();
    const affected = await scheduling.materialiser.materialiseAll();
    const materialiseMs = +(performance.now() - t0).toFixed(1);
    await scheduling.replan(new Set(all));
    const replanMs = +(performance.now() - t0).toFixed(1);
    // COUNT(*) is a bigint on PostgreSQL: Number() whatever the driver gives back.
    const occurrences = Number((await row<{ n: number }>(server, sql`SELECT COUNT(*) AS n FROM occurrences`))!.n);
    const deliveries = Number((await row<{ n: number }>(server, sql`SELECT COUNT(*) AS n FROM deliveries`))!.n);

    // One device moved through the API: zone change → materialise → its plan published.
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'bench-password-123' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const m0 = performance.now();
    const moved = await fetch(`${server.url}/api/v1/devices/loa-0/zones`, {
      method: 'PUT',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ zones: [zones[1]] }),
    });
    const moveMs = +(performance.now() - m0).toFixed(1);
    if (moved.status !== 200) throw new Error(`move failed: ${moved.status}`);

    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      parameters: { devices: DEVICES, zones: ZONES, dailySchedules: DAILY, horizonDays: config.horizonDays },
      conflicts: {
        againstDailyYear: { ms: daily.ms, overlaps: daily.value.total, schedules: DAILY },
        against365OneOff: { ms: once.ms, overlaps: once.value.total, schedules: 365 },
        against365DailyYear: { ms: year.ms, overlaps: year.value.total, schedules: 365 },
      },
      replan: {
        devices: all.length,
        occurrences,
        deliveries,
        changedPlans: affected.size,
        materialiseMs,
        materialiseAndPublishMs: replanMs,
      },
      moveOneDeviceViaApiMs: moveMs,
    };
    const md = [
      '# Scheduling benchmark',
      '',
      `${report.at} · ${report.machine.cpus} × ${report.machine.model} · Node ${report.machine.node}`,
      '',
      `| measure | result |`,
      `|---|---|`,
      `| conflicts: new daily year-long schedule vs ${DAILY} daily year-long schedules on ${DEVICES} devices | ${daily.ms} ms (${daily.value.total} overlaps) |`,
      `| conflicts: same vs 365 one-off schedules on ${DEVICES} devices | ${once.ms} ms (${once.value.total} overlaps) |`,
      `| conflicts: same vs 365 daily year-long schedules on ${DEVICES} devices (133,225 airtimes) | ${year.ms} ms (${year.value.total} overlaps) |`,
      `| re-plan ${all.length} devices: materialise ${DAILY} schedules × ${config.horizonDays} days | ${materialiseMs} ms (${occurrences} occurrences, ${deliveries} deliveries) |`,
      `| re-plan ${all.length} devices: materialise + publish every plan | ${replanMs} ms |`,
      `| move one device between zones via the API (plan re-sent) | ${moveMs} ms |`,
      '',
    ].join('\n');
    fs.mkdirSync(path.join(ROOT, 'reports'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'reports/bench-schedule-latest.json'), JSON.stringify(report, null, 2));
    fs.writeFileSync(path.join(ROOT, 'reports/bench-schedule-latest.md'), md);
    console.log(md);
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
