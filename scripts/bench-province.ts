/**
 * The province mode of the benchmark (issue 17):
 * `npm run bench -- --communes 100 --devices 10000`. One server (temporary
 * database, embedded broker, loopback) holding a province: `communes` communes
 * of 5 villages, the devices spread evenly, simulated in fleet processes. It
 * measures, against the targets on this machine:
 *   1. an emergency bulletin from the province to every commune, written as
 *      text (the TTS runs, as it would): API call → each loudspeaker's
 *      "started", p50/p99, and its reach (target: 100 % of those online);
 *   2. the province report (GET /reports/communes) over `days` days of history
 *      written into the database for every commune (three broadcasts a day to
 *      every loudspeaker, a few online/offline changes each): target ≤ 1 s;
 *   3. the Devices page with `page-devices` loudspeakers (the rest registered,
 *      offline), timed in chromium from navigation to the table on screen and
 *      usable, by the same probe as the province devices test: target ≤ 2 s.
 * Writes reports/bench-province-latest.json and .md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig, startServer } from '../server/src/index';
import { createLogger } from '../server/src/logger';
import { dayStart } from '../server/src/reports/day-rollup';
import type { SqlDb } from '../server/src/db/sql';
import { CHROMIUM, CHROMIUM_ARGS, timeDevicesPage, type DevicesPageTiming } from '../web/test/e2e/devices-page-timing';
import { row, rows, sql } from '../server/test/helpers';
import { pct, sleep, spawnFleetProcess, splitFleet, type FleetDevice } from './bench-fleet';

const ROOT = path.resolve(import.meta.dirname, '..');
const VILLAGES = 5;
const BROADCASTS_PER_DAY = [6, 12, 18]; // hours, Asia/Ho_Chi_Minh: morning, noon, evening
const DAY_MS = 86_400_000;
const PROVINCE_PASSWORD = 'bench-province-password';
const TARGETS = { reportMs: 1_000, devicesPageMs: 2_000, reach: 1 };
/** Rows per multi-row INSERT (or ids per UPDATE … IN) when writing the history. */
const CHUNK = 500;

export interface ProvinceBenchOptions {
  communes: number;
  devices: number;
  pageDevices: number;
  days: number;
  processes: number;
}

export async function benchProvince(options: ProvinceBenchOptions): Promise<void> {
  const { communes: COMMUNES, devices: DEVICES, pageDevices: PAGE_DEVICES, days: DAYS, processes } = options;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-province-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    LOAXA_ADMIN_PASSWORD: 'bench-password',
    LOAXA_PROVINCE_PASSWORD: PROVINCE_PASSWORD,
    LOG_LEVEL: 'warn',
  });
  const server = await startServer(config, { logger: createLogger('warn') });
  const { registry, communes } = server.services;
  const fleet: ReturnType<typeof spawnFleetProcess>[] = [];
  try {
    // --- the province ----------------------------------------------------------
    const seedStart = performance.now();
    const communeIds: string[] = [];
    for (let c = 0; c < COMMUNES; c++) {
      communeIds.push(c === 0 ? communes.defaultId() : (await communes.create(`Xã Số ${c + 1}`)).id);
    }
    const devices: (FleetDevice & { communeId: string })[] = [];
    for (let c = 0; c < COMMUNES; c++) {
      const cc = String(c + 1).padStart(3, '0');
      const communeId = communeIds[c]!;
      const zones: string[] = [];
      for (let v = 0; v < VILLAGES; v++) {
        zones.push((await registry.createZone(`Thôn ${v + 1}`, communeId, `x${cc}-thon-${v + 1}`)).id);
      }
      // An even share, the first communes taking the remainder.
      const share = Math.floor(DEVICES / COMMUNES) + (c < DEVICES % COMMUNES ? 1 : 0);
      for (let i = 0; i < share; i++) {
        const id = `p${cc}-${String(i + 1).padStart(4, '0')}`;
        const { secret } = await registry.createDevice({ id, communeId, zones: [zones[i % VILLAGES]!] });
        devices.push({ deviceId: id, secret, communeId });
      }
    }
    console.log(
      `province: ${COMMUNES} communes, ${DEVICES} loudspeakers in ${Math.round(performance.now() - seedStart)} ms`,
    );

    const { files } = splitFleet(
      dataDir,
      devices.map(({ deviceId, secret }) => ({ deviceId, secret })),
      processes,
    );
    // COUNT(*) is a bigint on PostgreSQL: Number() whatever the driver gives back.
    const online = async () =>
      Number((await row(server, sql<{ n: number }>`SELECT COUNT(*) AS n FROM devices WHERE online = 1`))?.n ?? 0);
    const connectStart = performance.now();
    for (const file of files) fleet.push(spawnFleetProcess(server, file));
    const connectDeadline = Date.now() + 300_000;
    const exited = () => fleet.some((child) => child.exitCode !== null);
    while ((await online()) < DEVICES && Date.now() < connectDeadline && !exited()) await sleep(200);
    if (exited()) throw new Error('a fleet process exited while the loudspeakers connected (its error is above)');
    const connectMs = Math.round(performance.now() - connectStart);
    console.log(`connect: ${await online()}/${DEVICES} online in ${connectMs} ms`);
    await sleep(5_000); // the connect burst's plans and telemetry settle

    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tinh', password: PROVINCE_PASSWORD }),
    });
    if (login.status !== 200) throw new Error(`province sign-in: ${login.status} ${await login.text()}`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const api = async (method: string, url: string, body?: unknown): Promise<Response> => {
      const res = await fetch(`${server.url}${url}`, {
        method,
        headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res;
    };

    // --- 1. an emergency bulletin to every commune ------------------------------
    const onlineAtSend = await online();
    const emergencyStart = Date.now();
    const bulletin = (await (
      await api('POST', '/api/v1/bulletins', {
        title: 'Báo động lũ khẩn cấp',
        text: 'Khẩn cấp: nước lũ đang lên nhanh, bà con vùng trũng di chuyển ngay đến nơi an toàn.',
        priority: 'emergency',
        communes: 'all',
      })
    ).json()) as { id: string; status: string };
    const apiMs = Date.now() - emergencyStart;
    if (bulletin.status !== 'sent') throw new Error(`the province's bulletin was not sent at once: ${bulletin.status}`);
    const started = () =>
      rows<{ device_id: string; at: number }>(
        server,
        sql`SELECT a.device_id, a.at FROM acks a JOIN occurrences o ON o.id = a.ref_id
            WHERE o.bulletin_id = ${bulletin.id} AND a.stage = 'started'`,
      );
    const emergencyDeadline = Date.now() + 120_000;
    while ((await started()).length < onlineAtSend && Date.now() < emergencyDeadline) await sleep(200);
    const startedRows = await started();
    const latencies = startedRows.map((a) => a.at - emergencyStart).sort((a, b) => a - b);
    const communesReached = new Set(startedRows.map((a) => devices.find((d) => d.deviceId === a.device_id)?.communeId))
      .size;
    const emergency = {
      apiMs,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      reached: latencies.length,
      online: onlineAtSend,
      reach: latencies.length / Math.max(1, onlineAtSend),
      communesReached,
    };
    console.log('emergency bulletin:', emergency);

    // --- 2. the province report over the history --------------------------------
    const historyStart = performance.now();
    const history = await writeHistory(server.services.sql, devices, DAYS, Date.now());
    const historyMs = Math.round(performance.now() - historyStart);
    console.log(
      `history: ${history.occurrences} broadcasts, ${history.deliveries} deliveries, ` +
        `${history.statusChanges} online changes over ${DAYS} days in ${historyMs} ms`,
    );
    // As the console asks for "the last 30 days": from midnight (Vietnam) 29 days ago to the end of today.
    const today = dayStart(Date.now());
    const from = new Date(today - (DAYS - 1) * DAY_MS).toISOString();
    const to = new Date(today + DAY_MS).toISOString();
    const askReport = async (): Promise<{ ms: number; communes: number }> => {
      const t0 = performance.now();
      const res = await api('GET', `/api/v1/reports/communes?from=${from}&to=${to}`);
      const body = (await res.json()) as { communes: { broadcasts: number }[] };
      const ms = Math.round(performance.now() - t0);
      if (body.communes.some((c) => c.broadcasts === 0)) throw new Error('a commune of the report has no history');
      return { ms, communes: body.communes.length };
    };
    // The first report sums every closed day of the history just written (in service, the nightly
    // clean-up sums each day once it closes); the next ones are what an officer waits for.
    const first = await askReport();
    const reportRuns: number[] = [];
    for (let run = 0; run < 5; run++) reportRuns.push((await askReport()).ms);
    const report = {
      communes: first.communes,
      days: DAYS,
      ...history,
      firstMs: first.ms,
      runsMs: reportRuns,
      medianMs: [...reportRuns].sort((a, b) => a - b)[2]!,
      maxMs: Math.max(...reportRuns),
    };
    console.log('province report:', report);

    // --- 3. the Devices page in chromium ----------------------------------------
    let devicesPage: { total: number; runs: DevicesPageTiming[]; medianMs: number } | { skipped: string };
    if (!fs.existsSync(CHROMIUM)) {
      devicesPage = { skipped: `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` };
    } else {
      // The rest of the province's loudspeakers: registered, not yet installed (offline).
      for (let i = DEVICES; i < PAGE_DEVICES; i++) {
        const c = i % COMMUNES;
        await registry.createDevice({
          id: `q${String(c + 1).padStart(3, '0')}-${String(i).padStart(5, '0')}`,
          communeId: communeIds[c]!,
          zones: [`x${String(c + 1).padStart(3, '0')}-thon-${(i % VILLAGES) + 1}`],
        });
      }
      const total = Math.max(PAGE_DEVICES, DEVICES);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const context = await browser.newContext({
          viewport: { width: 1280, height: 900 },
          locale: 'vi-VN',
          timezoneId: 'Asia/Ho_Chi_Minh',
        });
        const signIn = await context.request.post(`${server.url}/api/v1/session`, {
          data: { username: 'tinh', password: PROVINCE_PASSWORD },
        });
        if (signIn.status() !== 200) throw new Error(`chromium sign-in: ${signIn.status()}`);
        const runs: DevicesPageTiming[] = [];
        for (let run = 0; run < 3; run++) {
          const page = await context.newPage();
          runs.push(await timeDevicesPage(page, `${server.url}/#/devices`, total));
          await page.close();
        }
        devicesPage = { total, runs, medianMs: runs.map((r) => r.interactiveMs).sort((a, b) => a - b)[1]! };
      } finally {
        await browser.close();
      }
    }
    console.log('devices page:', devicesPage);

    // --- the report ---------------------------------------------------------------
    const verdicts = {
      emergencyReach: emergency.reach >= TARGETS.reach,
      report: report.maxMs <= TARGETS.reportMs,
      devicesPage: 'medianMs' in devicesPage ? devicesPage.medianMs <= TARGETS.devicesPageMs : null,
    };
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version },
      options,
      connectMs,
      emergency,
      report,
      devicesPage,
      targets: TARGETS,
      verdicts,
    };
    const reports = path.join(ROOT, 'reports');
    fs.mkdirSync(reports, { recursive: true });
    fs.writeFileSync(path.join(reports, 'bench-province-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(path.join(reports, 'bench-province-latest.md'), markdown(result));
    console.log('verdicts:', verdicts);
    console.log('report: reports/bench-province-latest.json, reports/bench-province-latest.md');
    // Timings depend on the machine; a loudspeaker the emergency did not reach is a fault anywhere.
    if (!verdicts.emergencyReach) {
      throw new Error(`the emergency bulletin reached ${emergency.reached} of ${emergency.online} online loudspeakers`);
    }
  } finally {
    for (const child of fleet) child.kill('SIGTERM');
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Writes `days` days of a province's past into the database, as the server
 * would have: every loudspeaker installed before the period, three broadcasts
 * a day in every commune to every loudspeaker of it (most finished, some
 * failed or missed), and each loudspeaker going offline and back twice a day.
 * One transaction, multi-row INSERTs of CHUNK rows (SQLite or PostgreSQL).
 */
export async function writeHistory(
  target: SqlDb,
  devices: readonly { deviceId: string; communeId: string }[],
  days: number,
  now: number,
): Promise<{ occurrences: number; deliveries: number; statusChanges: number }> {
  const sha256 = 'b'.repeat(64);
  const byCommune = new Map<string, string[]>();
  for (const d of devices) byCommune.set(d.communeId, [...(byCommune.get(d.communeId) ?? []), d.deviceId]);
  let occurrences = 0;
  let deliveries = 0;
  let statusChanges = 0;
  // The last `days` days, today (up to an hour ago) the last of them.
  const dayOf = (d: number) => dayStart(now) - (days - 1 - d) * DAY_MS;
  await target.db.transaction().execute(async (tx) => {
    /** Rows of one table, inserted CHUNK at a time; `before` is flushed first (the rows it references). */
    const batch = <R extends Record<string, unknown>>(table: string, before?: { flush(): Promise<void> }) => {
      const pending: R[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        await before?.flush();
        await tx.insertInto(table).values(pending.splice(0)).execute();
      };
      return {
        flush,
        async add(values: R) {
          pending.push(values);
          if (pending.length >= CHUNK) await flush();
        },
      };
    };
    await tx
      .insertInto('media')
      .values({ sha256, format: 'ogg', bytes: 48_000, duration_ms: 60_000, created_at: now - days * DAY_MS })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
    // The loudspeakers were there all along: the report observes them over the whole period
    // (created_at becomes the earlier of the two, as MIN(created_at, installedAt) would).
    const installedAt = dayOf(0) - DAY_MS;
    for (let i = 0; i < devices.length; i += CHUNK) {
      const ids = devices.slice(i, i + CHUNK).map((d) => d.deviceId);
      await tx
        .updateTable('devices')
        .set({ created_at: installedAt })
        .where('id', 'in', ids)
        .where('created_at', '>', installedAt)
        .execute();
    }
    const occurrenceRows = batch('occurrences');
    // Each row with every column: in a multi-row INSERT a missing one would be written as NULL.
    const deliveryRows = batch<{ occurrence_id: string; device_id: string; stage: string; at: number | null }>(
      'deliveries',
      occurrenceRows,
    );
    const statusRows = batch<{ device_id: string; online: number; at: number }>('device_status');
    for (const [communeId, ids] of byCommune) {
      for (let d = 0; d < days; d++) {
        for (const hour of BROADCASTS_PER_DAY) {
          const startAt = dayOf(d) + hour * 3_600_000;
          if (startAt > now - 3_600_000) continue;
          const id = `hist-${communeId}-${d}-${hour}`;
          await occurrenceRows.add({
            id,
            title: `Bản tin ${hour} giờ`,
            text: 'Bản tin thường ngày của xã.',
            priority: 'normal',
            start_at: startAt,
            duration_ms: 60_000,
            sha256,
            created_by: 'bench',
            created_at: startAt,
            commune_id: communeId,
          });
          occurrences++;
          for (const [i, deviceId] of ids.entries()) {
            const n = (i + d + hour) % 50;
            const stage = n === 0 ? 'failed' : n === 1 ? 'pending' : 'finished';
            await deliveryRows.add({
              occurrence_id: id,
              device_id: deviceId,
              stage,
              at: stage === 'pending' ? null : startAt + 60_000,
            });
            deliveries++;
          }
        }
      }
      for (const [i, deviceId] of ids.entries()) {
        for (let d = 0; d < days; d++) {
          for (const [offsetH, lengthMin] of [
            [2 + (i % 5), 20],
            [14 + (i % 7), 45],
          ] as const) {
            const down = dayOf(d) + offsetH * 3_600_000;
            await statusRows.add({ device_id: deviceId, online: 0, at: down });
            await statusRows.add({ device_id: deviceId, online: 1, at: down + lengthMin * 60_000 });
            statusChanges += 2;
          }
        }
      }
    }
    await occurrenceRows.flush();
    await deliveryRows.flush();
    await statusRows.flush();
  });
  return { occurrences, deliveries, statusChanges };
}

function markdown(r: {
  at: string;
  machine: { cpus: number; model: string; node: string };
  options: ProvinceBenchOptions;
  connectMs: number;
  emergency: Record<string, number>;
  report: {
    medianMs: number;
    maxMs: number;
    firstMs: number;
    runsMs: number[];
    occurrences: number;
    deliveries: number;
    statusChanges: number;
    communes: number;
    days: number;
  };
  devicesPage: { total: number; runs: DevicesPageTiming[]; medianMs: number } | { skipped: string };
  verdicts: Record<string, boolean | null>;
}): string {
  const ok = (v: boolean | null) => (v === null ? 'not measured' : v ? 'met' : '**missed**');
  const e = r.emergency;
  const lines = [
    `# Province benchmark (${r.at})`,
    '',
    `${r.options.communes} communes, ${r.options.devices} simulated loudspeakers in ${r.options.processes} fleet processes; ` +
      `${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}. All connected in ${r.connectMs} ms.`,
    '',
    '| measurement | figure | target | verdict |',
    '| --- | --- | --- | --- |',
    `| emergency bulletin to every commune: reach | ${e.reached!}/${e.online!} online (${e.communesReached!} communes) | 100 % | ${ok(r.verdicts.emergencyReach!)} |`,
    `| emergency bulletin: API call → "started" p50 / p99 / max | ${e.p50Ms} / ${e.p99Ms} / ${e.maxMs} ms (API answered in ${e.apiMs} ms, TTS included) | — | — |`,
    `| province report, ${r.report.communes} communes × ${r.report.days} days, as the console asks (median / max of 5) | ${r.report.medianMs} / ${r.report.maxMs} ms (${r.report.runsMs.join(', ')}) | ≤ 1,000 ms | ${ok(r.verdicts.report!)} |`,
    `| … the first one after the history was written, summing its closed days | ${r.report.firstMs} ms | (once; nightly in service) | — |`,
  ];
  if ('medianMs' in r.devicesPage) {
    const runs = r.devicesPage.runs;
    lines.push(
      `| Devices page with ${r.devicesPage.total} loudspeakers in chromium: on screen and usable (median of 3) | ${r.devicesPage.medianMs} ms (${runs.map((x) => x.interactiveMs).join(', ')}); list fetched at ${runs.map((x) => x.devicesMs).join(', ')} ms; longest task ${Math.max(...runs.map((x) => x.longestTaskMs))} ms | ≤ 2,000 ms | ${ok(r.verdicts.devicesPage!)} |`,
    );
  } else {
    lines.push(`| Devices page in chromium | skipped: ${r.devicesPage.skipped} | ≤ 2,000 ms | not measured |`);
  }
  lines.push(
    '',
    `History written for the report: ${r.report.occurrences} broadcasts, ${r.report.deliveries} deliveries, ` +
      `${r.report.statusChanges} online/offline changes.`,
    '',
  );
  return lines.join('\n');
}
