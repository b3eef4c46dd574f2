/**
 * Upgrade in place: a commune's database made by release 0.1.0 (one commune,
 * no communes table) becomes a province with one commune, 'default', on the
 * first start of this version; its users, loudspeakers (no re-provisioning),
 * schedules and history keep working.
 *
 * The database is server/test/fixtures/release-0.1.0 (made by
 * scripts/fixtures/make-release-fixture.ts with the release's own server; its
 * README says how). The server runs on a copy of it. Its schedule and plan
 * clock (startServer's `now`) is put after the last occurrence the release
 * materialised, so what the plans and calendar show must have been
 * materialised by this version from the release's approved schedule, however
 * soon after the fixture was made this runs; play-now and HTTP use the real clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '@loaxa/firmware-sim';
import { deviceAuthorizationHeader, fileAssets, topics, type PlanPayload } from '@loaxa/protocol';
import { loadConfig, startServer, type RunningServer } from '../../src/index';
import { createLogger } from '../../src/logger';
import { row, rows, signIn, sql, waitFor } from '../helpers';
import { testEngine } from '../test-database';
import { removeAtExit } from '../remove-at-exit';

const FIXTURE_DIR = path.resolve(import.meta.dirname, '../fixtures/release-0.1.0');
const PROVINCE_PASSWORD = 'upgrade-province-pass';
const DAY_MS = 24 * 3600_000;

interface Fixture {
  commit: string | null;
  madeAt: string;
  schemaVersion: number;
  timeZone: string;
  users: { username: string; role: string; password: string }[];
  zones: { id: string; name: string }[];
  devices: {
    id: string;
    name: string;
    zones: string[];
    secret: string;
    location?: { latitude: number; longitude: number };
  }[];
  content: { id: string; title: string; sha256: string };
  programme: { id: string; title: string };
  schedule: {
    id: string;
    title: string;
    rule: { kind: string; startDate: string; times: string[] };
    zones: string[];
    createdBy: string;
    approvedBy: string;
    occurrences: { id: string; startAt: string }[];
  };
  broadcasts: { id: string; by: string; text: string; devices: string[]; startAt: string }[];
  deliveries: { occurrenceId: string; deviceId: string; stage: string }[];
  dictionary: { abbreviation: string; expansion: string }[];
  settings: { changed: { loudness: { integratedLufs: number } }; by: string };
  audit: { entries: number };
}

const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'fixture.json'), 'utf8')) as Fixture;
const user = (username: string) => fixture.users.find((u) => u.username === username)!;

/** The plan clock: a day after the last occurrence the release materialised (or now, if later). */
const lastOldOccurrence = Math.max(...fixture.schedule.occurrences.map((o) => Date.parse(o.startAt)));
const clockOffset = Math.max(0, lastOldOccurrence + DAY_MS - Date.now());
const serverNow = () => Date.now() + clockOffset;

let dataDir: string;
let server: RunningServer | null = null;
const clients: mqtt.MqttClient[] = [];

/** The fixture's database (and media) copied into a fresh data directory. */
function copyFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-upgrade-'));
  removeAtExit(dir);
  fs.writeFileSync(
    path.join(dir, 'loaxa.sqlite'),
    zlib.gunzipSync(fs.readFileSync(path.join(FIXTURE_DIR, 'loaxa.sqlite.gz'))),
  );
  const media = path.join(FIXTURE_DIR, 'media');
  if (fs.existsSync(media)) fs.cpSync(media, path.join(dir, 'media'), { recursive: true });
  return dir;
}

function start(): Promise<RunningServer> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dataDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    // No LOAXA_ADMIN_PASSWORD: the release's admin exists and keeps its own.
    LOAXA_PROVINCE_PASSWORD: PROVINCE_PASSWORD,
    LOAXA_TIMEZONE: fixture.timeZone,
    // The fixture's history must not age out however late this runs.
    LOAXA_RETENTION_DAYS: '3650',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  return startServer(config, { logger: createLogger(config.logLevel), now: serverNow });
}

let first: RunningServer;

// The release's database is a SQLite file, upgraded by SQLite's migrations: nothing of it exists on
// PostgreSQL (an install there starts from the baseline schema), so this file runs on SQLite only.
const onPostgres = testEngine() === 'postgres';
if (onPostgres) {
  console.log('upgrade.test.ts skipped on PostgreSQL: it upgrades release 0.1.0’s SQLite database file in place');
}

beforeAll(async () => {
  if (onPostgres) return;
  dataDir = copyFixture();
  first = server = await start();
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const as = (username: string) =>
  signIn(server!, username, username === 'tinh' ? PROVINCE_PASSWORD : user(username).password);

describe.skipIf(onPostgres)('upgrade in place from release 0.1.0', () => {
  it('migrates the database past the release’s schema into one commune, creating the province admin', async () => {
    const versions = (
      await rows<{ version: number }>(first, sql`SELECT version FROM schema_migrations ORDER BY version`)
    ).map((r) => Number(r.version));
    expect(Math.max(...versions)).toBeGreaterThan(fixture.schemaVersion);
    expect(versions).toContain(15);
    expect(await rows(first, sql`SELECT id FROM communes ORDER BY id`)).toEqual([{ id: 'default' }]);

    expect(first.createdProvinceAdmin).toEqual({ username: 'tinh', generated: null });
    // The release's admin was kept, not re-created with a generated password.
    expect(first.generatedAdminPassword).toBeNull();
  });

  it('signs the release’s users in with their passwords, in their roles, as users of the default commune', async () => {
    for (const u of fixture.users) {
      const api = await as(u.username);
      const me = await api<{ user: { username: string; role: string; communeId: string | null } }>(
        'GET',
        '/api/v1/session',
      );
      expect(me.status, u.username).toBe(200);
      expect(me.body.user).toMatchObject({
        username: u.username,
        role: u.role,
        communeId: 'default',
        mustChangePassword: false,
      });
    }
    const admin = await as('admin');
    const users = await admin<{ username: string; role: string; communeId: string | null }[]>('GET', '/api/v1/users');
    expect(users.status).toBe(200);
    for (const u of fixture.users) {
      expect(users.body).toContainEqual(
        expect.objectContaining({ username: u.username, role: u.role, communeId: 'default' }),
      );
    }
  });

  it('lets the province admin tinh sign in and see exactly one commune', async () => {
    const tinh = await as('tinh');
    const me = await tinh<{ user: { username: string; role: string; communeId: string | null } }>(
      'GET',
      '/api/v1/session',
    );
    expect(me.body.user).toMatchObject({ username: 'tinh', role: 'admin', communeId: null });
    const communes = await tinh<{ id: string; name: string }[]>('GET', '/api/v1/communes');
    expect(communes.status).toBe(200);
    expect(communes.body).toHaveLength(1);
    expect(communes.body[0]).toMatchObject({ id: 'default' });

    // A commune user sees the same one commune, their own.
    const admin = await as('admin');
    const own = await admin<{ id: string }[]>('GET', '/api/v1/communes');
    expect(own.body.map((c) => c.id)).toEqual(['default']);
  });

  it('lists the release’s zones and loudspeakers, each in its zones', async () => {
    const technician = await as('ky-thuat');
    const devices = await technician<
      { id: string; name: string; zones: string[]; revoked: boolean; location: unknown }[]
    >('GET', '/api/v1/devices');
    expect(devices.status).toBe(200);
    expect(devices.body.map((d) => d.id).sort()).toEqual(fixture.devices.map((d) => d.id).sort());
    for (const d of fixture.devices) {
      const listed = devices.body.find((x) => x.id === d.id)!;
      expect(listed).toMatchObject({ name: d.name, zones: d.zones, revoked: false });
      if (d.location) expect(listed.location).toEqual(d.location);
    }
    const zones = await technician<{ id: string; name: string; deviceIds: string[] }[]>('GET', '/api/v1/zones');
    expect(zones.status).toBe(200);
    expect(zones.body.map((z) => z.id).sort()).toEqual(fixture.zones.map((z) => z.id).sort());
    for (const z of fixture.zones) {
      const listed = zones.body.find((x) => x.id === z.id)!;
      expect(listed.name).toBe(z.name);
      expect([...listed.deviceIds].sort()).toEqual(
        fixture.devices
          .filter((d) => d.zones.includes(z.id))
          .map((d) => d.id)
          .sort(),
      );
    }
  });

  it('keeps the schedule approved, and materialises its occurrences past what the release did', async () => {
    const editor = await as('can-bo');
    const s = await editor<{
      status: string;
      programmeId: string;
      zones: string[];
      createdBy: string | null;
      reviewedBy: string | null;
      rule: { kind: string; times: string[] };
    }>('GET', `/api/v1/schedules/${fixture.schedule.id}`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      status: 'approved',
      programmeId: fixture.programme.id,
      createdBy: fixture.schedule.createdBy,
      reviewedBy: fixture.schedule.approvedBy,
      rule: { kind: 'daily', times: fixture.schedule.rule.times },
    });
    expect([...s.body.zones].sort()).toEqual([...fixture.schedule.zones].sort());

    const from = new Date(serverNow());
    const to = new Date(serverNow() + 7 * DAY_MS);
    const cal = await editor<{ occurrenceId: string; scheduleId: string | null; start: string; cancelled: boolean }[]>(
      'GET',
      `/api/v1/calendar?from=${from.toISOString()}&to=${to.toISOString()}`,
    );
    expect(cal.status).toBe(200);
    const ours = cal.body.filter((o) => o.scheduleId === fixture.schedule.id && !o.cancelled);
    // Two times a day for a week (the first or last may fall just outside the window).
    expect(ours.length).toBeGreaterThanOrEqual(12);
    const oldIds = new Set(fixture.schedule.occurrences.map((o) => o.id));
    for (const o of ours) {
      expect(oldIds.has(o.occurrenceId)).toBe(false);
      expect(Date.parse(o.start)).toBeGreaterThan(serverNow() - DAY_MS);
    }
  });

  it('lets an old loudspeaker connect with its old id and secret and get its plan', async () => {
    const device = fixture.devices[0]!;
    const client = await mqtt.connectAsync(server!.mqttUrl, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(client);
    const plans: PlanPayload[] = [];
    client.on('message', (topic, payload) => {
      if (topic === topics.devicePlan(device.id) && payload.length > 0)
        plans.push(JSON.parse(payload.toString()) as PlanPayload);
    });
    await client.subscribeAsync(topics.devicePlan(device.id), { qos: 1 });
    await client.publishAsync(
      topics.deviceStatus(device.id),
      JSON.stringify({ v: 1, state: 'online', at: Date.now() }),
      {
        qos: 1,
        retain: true,
      },
    );
    const plan = await waitFor('a plan with the schedule’s occurrences', () =>
      plans.find((p) => p.items.some((i) => i.occurrenceId.startsWith(`occ-${fixture.schedule.id}-`))),
    );
    expect([...plan.zones].sort()).toEqual([...device.zones].sort());
    const scheduled = plan.items.filter((i) => i.occurrenceId.startsWith(`occ-${fixture.schedule.id}-`));
    for (const item of scheduled) expect(item.startAt).toBeGreaterThanOrEqual(serverNow() - 60_000);
    const stored = await rows<{ id: string }>(
      server!,
      sql`SELECT id FROM occurrences WHERE schedule_id = ${fixture.schedule.id}
          AND id IN (${sql.join(scheduled.map((i) => i.occurrenceId))})`,
    );
    expect(stored).toHaveLength(scheduled.length);

    // Its audio downloads with the same credentials.
    const asset = fileAssets(scheduled[0]!.assets)[0];
    expect(asset).toBeDefined();
    const res = await fetch(new URL(asset!.url, server!.url), {
      headers: { authorization: deviceAuthorizationHeader(device.id, device.secret) },
    });
    expect(res.status).toBe(200);
    await client.endAsync(true);
  });

  it('shows the release’s broadcasts and their deliveries in the history', async () => {
    const viewer = await as('xem');
    const from = new Date(Math.min(...fixture.broadcasts.map((b) => Date.parse(b.startAt))) - DAY_MS);
    const to = new Date(Date.now() + DAY_MS);
    const list = await viewer<
      {
        id: string;
        communeId: string;
        scheduleId: string | null;
        devices: number;
        stages: Record<string, number>;
      }[]
    >('GET', `/api/v1/occurrences?from=${from.toISOString()}&to=${to.toISOString()}&limit=200`);
    expect(list.status).toBe(200);
    for (const b of fixture.broadcasts) {
      const o = list.body.find((x) => x.id === b.id);
      expect(o, b.id).toBeDefined();
      expect(o).toMatchObject({ communeId: 'default', scheduleId: null, devices: b.devices.length });
      expect(o!.stages.finished).toBe(b.devices.length);

      const one = await viewer<{ deliveries: { deviceId: string; stage: string }[] }>(
        'GET',
        `/api/v1/occurrences/${b.id}`,
      );
      expect(one.status).toBe(200);
      expect(one.body.deliveries.map((d) => ({ deviceId: d.deviceId, stage: d.stage })).sort(byDevice)).toEqual(
        fixture.deliveries
          .filter((d) => d.occurrenceId === b.id)
          .map((d) => ({ deviceId: d.deviceId, stage: d.stage }))
          .sort(byDevice),
      );
    }
    // The release's own materialised occurrences of the schedule are history too.
    for (const old of fixture.schedule.occurrences.filter((o) => Date.parse(o.startAt) < to.getTime())) {
      expect(list.body.map((o) => o.id)).toContain(old.id);
    }
  });

  it('keeps the commune’s dictionary entry and settings', async () => {
    const editor = await as('can-bo');
    const dict = await editor<{ entries: { abbreviation: string; expansion: string; source: string }[] }>(
      'GET',
      '/api/v1/dictionary',
    );
    expect(dict.status).toBe(200);
    for (const e of fixture.dictionary) {
      expect(dict.body.entries).toContainEqual(expect.objectContaining({ ...e, source: 'commune' }));
    }
    const leader = await as(fixture.settings.by);
    const settings = await leader<{ loudness: { integratedLufs: number; source: string } }>('GET', '/api/v1/settings');
    expect(settings.status).toBe(200);
    expect(settings.body.loudness).toMatchObject({
      integratedLufs: fixture.settings.changed.loudness.integratedLufs,
      source: 'saved',
    });
  });

  it('shows the release’s audit entries to the commune admin', async () => {
    const admin = await as('admin');
    const audit = await admin<
      { id: number; at: string; actor: string; action: string; target: string | null; communeId: string | null }[]
    >('GET', '/api/v1/audit?limit=10000');
    expect(audit.status).toBe(200);
    const old = audit.body.filter((e) => Date.parse(e.at) <= Date.parse(fixture.madeAt));
    expect(old).toHaveLength(fixture.audit.entries);
    for (const e of old) expect(e.communeId).toBe('default');
    const has = (actor: string, action: string, target?: string) =>
      expect(old).toContainEqual(
        expect.objectContaining({ actor, action, ...(target === undefined ? {} : { target }) }),
      );
    has(fixture.schedule.approvedBy, 'schedule.approve', fixture.schedule.id);
    for (const d of fixture.devices) has('ky-thuat', 'device.add', d.id);
    has('can-bo', 'dictionary.put', fixture.dictionary[0]!.abbreviation);
    has(fixture.settings.by, 'settings.update');
  });

  it('has the old loudspeakers play a new broadcast with their old credentials', async () => {
    const fleet = await startSimFleet({
      serverUrl: server!.url,
      mqttUrl: server!.mqttUrl,
      devices: fixture.devices.map((d) => ({ deviceId: d.id, secret: d.secret })),
    });
    try {
      const admin = await as('admin');
      await waitFor('the old loudspeakers online', async () => {
        const { body } = await admin<{ id: string; online: boolean }[]>('GET', '/api/v1/devices');
        return body.length === fixture.devices.length && body.every((d) => d.online);
      });
      const leader = await as('lanh-dao');
      const post = await leader<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
        text: 'Thông báo sau khi nâng cấp: loa vẫn hoạt động.',
        zones: 'all',
      });
      expect(post.status).toBe(201);
      const done = await waitFor(
        'every old loudspeaker finished the broadcast',
        async () => {
          const o = await leader<{ deliveries: { deviceId: string; stage: string }[] }>(
            'GET',
            `/api/v1/occurrences/${post.body.occurrenceId}`,
          );
          return o.body.deliveries.length > 0 && o.body.deliveries.every((d) => d.stage === 'finished') ? o.body : null;
        },
        60_000,
      );
      expect(done.deliveries.map((d) => d.deviceId).sort()).toEqual(fixture.devices.map((d) => d.id).sort());
    } finally {
      await fleet.stop();
    }
  }, 90_000);

  it('creates no province admin on a second start of the same data directory', async () => {
    await server!.close();
    server = null;
    server = await start();
    expect(server.createdProvinceAdmin).toBeNull();
    expect(server.generatedAdminPassword).toBeNull();
    const tinh = await as('tinh');
    expect((await tinh<{ id: string }[]>('GET', '/api/v1/communes')).body.map((c) => c.id)).toEqual(['default']);
    const admin = await as('admin');
    expect((await admin<{ user: { communeId: string | null } }>('GET', '/api/v1/session')).body.user.communeId).toBe(
      'default',
    );
    const provinceAdmins = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM users WHERE username LIKE 'tinh%'`,
    );
    expect(Number(provinceAdmins?.n)).toBe(1);
  }, 60_000);
});

function byDevice(a: { deviceId: string }, b: { deviceId: string }): number {
  return a.deviceId.localeCompare(b.deviceId);
}
