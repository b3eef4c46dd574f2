/**
 * Reports over the real server and its database: counts, success rate, minutes on
 * air and uptime per device and per zone; the status log written by the
 * registry; query validation; CSV; who may read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneDeviceStatus } from '../src/reports/reports';
import { rows, run, sql, startTestServer, type TestServer } from './helpers';

interface Numbers {
  broadcasts: number;
  finished: number;
  failed: number;
  missed: number;
  stopped: number;
  successRate: number | null;
  minutesOnAir: number;
  uptime: number | null;
}
type DeviceRow = Numbers & { deviceId: string; communeId: string; name: string; zones: string[]; revoked: boolean };
type ZoneRow = Numbers & { zoneId: string; communeId: string; name: string; devices: number };

const HOUR = 3600_000;
const MINUTE = 60_000;
let server: TestServer;
// A one-day period ten days ago, on a whole hour (recent enough that no retention clean-up touches it).
const FROM = Math.floor((Date.now() - 10 * 24 * HOUR) / HOUR) * HOUR;
const TO = FROM + 24 * HOUR;
const range = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;

async function seed(): Promise<void> {
  const { registry } = server.services;
  await registry.createZone('Thôn Đông', 'default', 'thon-dong');
  await registry.createZone('Thôn Tây', 'default', 'thon-tay');
  await registry.createZone('Thôn Trống', 'default', 'thon-trong');
  await registry.createDevice({ communeId: 'default', id: 'loa-a', name: 'Loa Chợ, cổng "A"', zones: ['thon-dong'] });
  await registry.createDevice({ communeId: 'default', id: 'loa-b', name: 'Loa Trường', zones: ['thon-dong'] });
  await registry.createDevice({ communeId: 'default', id: 'loa-c', name: 'Loa Đình', zones: ['thon-tay'] });
  // They existed long before the period.
  await run(
    server,
    sql`UPDATE devices SET created_at = ${FROM - 30 * 24 * HOUR} WHERE id IN ('loa-a', 'loa-b', 'loa-c')`,
  );

  await run(
    server,
    sql`INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (${'f'.repeat(64)}, 'ogg', 1, 1, 0)`,
  );
  const add = async (
    id: string,
    startAt: number,
    durationMs: number,
    stages: Record<string, string>,
    cancelled = false,
  ) => {
    await run(
      server,
      sql`INSERT INTO occurrences (id, commune_id, title, priority, start_at, duration_ms, sha256, created_at, cancelled_at)
          VALUES (${id}, 'default', ${id}, 'normal', ${startAt}, ${durationMs}, ${'f'.repeat(64)}, 0, ${cancelled ? startAt : null})`,
    );
    for (const [device, stage] of Object.entries(stages)) {
      await run(
        server,
        sql`INSERT INTO deliveries (occurrence_id, device_id, stage, at) VALUES (${id}, ${device}, ${stage}, ${startAt})`,
      );
    }
  };
  await add('o1', FROM + HOUR, 10 * MINUTE, { 'loa-a': 'finished', 'loa-b': 'failed', 'loa-c': 'finished' });
  await add('o2', FROM + 2 * HOUR, 5 * MINUTE, { 'loa-a': 'finished', 'loa-b': 'skipped', 'loa-c': 'preempted' });
  // Never started (loa-a was offline then): missed, a failure to show, not "waiting".
  await add('o3', FROM + 3 * HOUR, 2 * MINUTE, { 'loa-a': 'pending' });
  // Stopped by an officer while loa-b played it and before loa-c started: neither success nor failure.
  await add('o4', FROM + 5 * HOUR, 3 * MINUTE, { 'loa-b': 'preempted', 'loa-c': 'pending' });
  await run(
    server,
    sql`UPDATE occurrences SET stopped_at = ${FROM + 5 * HOUR + MINUTE}, stopped_by = 'admin' WHERE id = 'o4'`,
  );
  // Not counted: cancelled, started before the period, starts at its (exclusive) end.
  await add('cancelled', FROM + 4 * HOUR, 60 * MINUTE, { 'loa-a': 'finished', 'loa-b': 'finished' }, true);
  await add('before', FROM - HOUR, 60 * MINUTE, { 'loa-a': 'finished' });
  await add('after', TO, 60 * MINUTE, { 'loa-a': 'finished' });

  const status = (device: string, online: 0 | 1, at: number) =>
    run(server, sql`INSERT INTO device_status (device_id, online, at) VALUES (${device}, ${online}, ${at})`);
  // loa-a: online since before the period (the row straddles `from`), off 6 h – 18 h: 12 h of 24.
  await status('loa-a', 0, FROM - 48 * HOUR);
  await status('loa-a', 1, FROM - 2 * HOUR);
  await status('loa-a', 0, FROM + 6 * HOUR);
  await status('loa-a', 1, FROM + 18 * HOUR);
  await status('loa-a', 0, TO + HOUR); // after the period: ignored
  // loa-b: never online. loa-c: went offline before the period, back for its last 6 h.
  await status('loa-c', 1, FROM - 5 * HOUR);
  await status('loa-c', 0, FROM - HOUR);
  await status('loa-c', 1, FROM + 18 * HOUR);
}

beforeAll(async () => {
  server = await startTestServer();
  await seed();
});
afterAll(async () => {
  await server?.close();
});

async function get(path: string, cookie: string | null = server.cookie): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: cookie ? { cookie } : {} });
}

describe('device report', () => {
  it('counts broadcasts, success, minutes on air and uptime per device', async () => {
    const res = await server.api<{ from: string; to: string; devices: DeviceRow[] }>(
      'GET',
      `/api/v1/reports/devices?${range}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(new Date(FROM).toISOString());
    expect(res.body.to).toBe(new Date(TO).toISOString());
    const byId = Object.fromEntries(res.body.devices.map((d) => [d.deviceId, d]));
    expect(byId['loa-a']).toEqual({
      deviceId: 'loa-a',
      communeId: 'default',
      name: 'Loa Chợ, cổng "A"',
      zones: ['thon-dong'],
      revoked: false,
      broadcasts: 3,
      finished: 2,
      failed: 0,
      missed: 1,
      stopped: 0,
      successRate: 0.6667,
      minutesOnAir: 15,
      uptime: 0.5,
    });
    expect(byId['loa-b']).toMatchObject({
      broadcasts: 3,
      finished: 0,
      failed: 2,
      missed: 0,
      stopped: 1,
      successRate: 0,
      minutesOnAir: 0,
      uptime: 0,
    });
    expect(byId['loa-c']).toMatchObject({
      broadcasts: 3,
      finished: 1,
      failed: 0,
      missed: 0,
      stopped: 1,
      successRate: 0.5, // 1 of the 2 that were not stopped
      minutesOnAir: 10,
      uptime: 0.25,
    });
  });

  it('aggregates each zone over its current devices', async () => {
    const res = await server.api<{ zones: ZoneRow[] }>('GET', `/api/v1/reports/zones?${range}`);
    expect(res.status).toBe(200);
    expect(res.body.zones).toEqual([
      {
        zoneId: 'thon-dong',
        communeId: 'default',
        name: 'Thôn Đông',
        devices: 2,
        broadcasts: 6,
        finished: 2,
        failed: 2,
        missed: 1,
        stopped: 1,
        successRate: 0.4,
        minutesOnAir: 15,
        uptime: 0.25, // (12 h + 0 h) / 48 h
      },
      {
        zoneId: 'thon-tay',
        communeId: 'default',
        name: 'Thôn Tây',
        devices: 1,
        broadcasts: 3,
        finished: 1,
        failed: 0,
        missed: 0,
        stopped: 1,
        successRate: 0.5,
        minutesOnAir: 10,
        uptime: 0.25,
      },
      {
        zoneId: 'thon-trong',
        communeId: 'default',
        name: 'Thôn Trống',
        devices: 0,
        broadcasts: 0,
        finished: 0,
        failed: 0,
        missed: 0,
        stopped: 0,
        successRate: null,
        minutesOnAir: 0,
        uptime: null,
      },
    ]);
  });

  it('measures uptime only up to now and from when the device was added (default: the last 30 days)', async () => {
    const { registry } = server.services;
    await registry.createDevice({ communeId: 'default', id: 'loa-new', name: 'Loa mới' });
    const now = Date.now();
    await run(server, sql`UPDATE devices SET created_at = ${now - 2 * HOUR} WHERE id = 'loa-new'`);
    await run(server, sql`INSERT INTO device_status (device_id, online, at) VALUES ('loa-new', 1, ${now - HOUR})`);
    // One that played half an hour ago counts; tonight's is not a broadcast (nor a failure) yet.
    for (const [id, startAt, stage] of [
      ['played', now - 30 * MINUTE, 'finished'],
      ['tonight', now + HOUR, 'pending'],
    ] as const) {
      await run(
        server,
        sql`INSERT INTO occurrences (id, commune_id, title, priority, start_at, duration_ms, sha256, created_at)
            VALUES (${id}, 'default', ${id}, 'normal', ${startAt}, 60000, ${'f'.repeat(64)}, 0)`,
      );
      await run(
        server,
        sql`INSERT INTO deliveries (occurrence_id, device_id, stage) VALUES (${id}, 'loa-new', ${stage})`,
      );
    }
    const res = await server.api<{ from: string; to: string; devices: DeviceRow[] }>('GET', '/api/v1/reports/devices');
    expect(res.status).toBe(200);
    const to = Date.parse(res.body.to);
    expect(Math.abs(to - Date.now())).toBeLessThan(10_000);
    expect(to - Date.parse(res.body.from)).toBe(30 * 24 * HOUR);
    expect(res.body.devices.find((d) => d.deviceId === 'loa-new')).toMatchObject({
      broadcasts: 1,
      finished: 1,
      successRate: 1,
      minutesOnAir: 1,
      uptime: expect.closeTo(0.5, 2),
    });
    // A period reaching into tomorrow is the same: it ends now.
    const ahead = await server.api<{ devices: DeviceRow[] }>(
      'GET',
      `/api/v1/reports/devices?from=${res.body.from}&to=${new Date(now + 24 * HOUR).toISOString()}`,
    );
    expect(ahead.body.devices.find((d) => d.deviceId === 'loa-new')).toMatchObject({
      broadcasts: 1,
      uptime: expect.closeTo(0.5, 2),
    });
    // A device added after the period is not in its report.
    const past = await server.api<{ devices: DeviceRow[] }>('GET', `/api/v1/reports/devices?${range}`);
    expect(past.body.devices.map((d) => d.deviceId)).toEqual(['loa-a', 'loa-b', 'loa-c']);
  });
});

describe('status log', () => {
  it('records real online/offline changes only, and the offline of a revoked device', async () => {
    const { registry } = server.services;
    await registry.createDevice({ communeId: 'default', id: 'loa-log' });
    const onlines = async () =>
      (
        await rows<{ online: number }>(
          server,
          sql`SELECT online FROM device_status WHERE device_id = 'loa-log' ORDER BY at, seq`,
        )
      ).map((r) => Number(r.online));
    await registry.setOnline('loa-log', true, '1.0.0');
    await registry.setOnline('loa-log', true); // a repeated status message: no change
    await registry.setOnline('loa-log', false);
    await registry.setOnline('loa-log', false);
    await registry.setOnline('loa-log', true);
    expect(await onlines()).toEqual([1, 0, 1]);
    await registry.revokeDevice('loa-log');
    await registry.setOnline('loa-log', false); // the broker's disconnect after the revocation
    expect(await onlines()).toEqual([1, 0, 1, 0]);
  });

  it('marks devices still online offline at a restart, from when they were last heard', async () => {
    const { registry } = server.services;
    await registry.createDevice({ communeId: 'default', id: 'loa-crash' });
    await registry.setOnline('loa-crash', true);
    await run(server, sql`UPDATE devices SET last_seen = 12345 WHERE id = 'loa-crash'`);
    await registry.markAllOffline();
    expect(
      await rows(server, sql`SELECT online, at FROM device_status WHERE device_id = 'loa-crash' ORDER BY seq`),
    ).toEqual([
      { online: 1, at: expect.any(Number) },
      { online: 0, at: 12345 },
    ]);
  });
});

describe('query validation', () => {
  const cases: [string, string][] = [
    ['from=yesterday', 'from'],
    ['to=2025-13-01T00:00:00Z', 'to'],
    [`from=${new Date(TO).toISOString()}&to=${new Date(FROM).toISOString()}`, 'to'],
    [`from=${new Date(FROM).toISOString()}&to=${new Date(FROM).toISOString()}`, 'to'],
    [`from=${new Date(Date.now() + 24 * HOUR).toISOString()}`, 'from'],
    ['from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z', 'to'],
    ['format=xlsx', 'format'],
    ['zone=thon-dong', 'zone'],
  ];
  it.each(cases)('?%s → 400 naming %s', async (query, field) => {
    for (const kind of ['devices', 'zones']) {
      const res = await server.api<{ field: string; message: string }>('GET', `/api/v1/reports/${kind}?${query}`);
      expect(res.status, `${kind}?${query}`).toBe(400);
      expect(res.body.field).toBe(field);
      expect(res.body.message).toMatch(new RegExp(`^${field}:`));
    }
  });
});

describe('CSV export', () => {
  it('downloads the device report as UTF-8 CSV with a BOM, a header row and a line per device', async () => {
    const res = await get(`/api/v1/reports/devices?${range}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const day = (ms: number) => new Date(ms + 7 * HOUR).toISOString().slice(0, 10); // Asia/Ho_Chi_Minh
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="loaxa-report-devices-${day(FROM)}_${day(TO - 1)}.csv"`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.slice(3)).split('\r\n');
    expect(lines[0]).toBe(
      'device_id,name,zones,revoked,broadcasts,finished,failed,missed,stopped,success_rate_percent,minutes_on_air,uptime_percent',
    );
    expect(lines.slice(1)).toEqual([
      'loa-a,"Loa Chợ, cổng ""A""",Thôn Đông,,3,2,0,1,0,66.7,15.0,50.0',
      'loa-b,Loa Trường,Thôn Đông,,3,0,2,0,1,0.0,0.0,0.0',
      'loa-c,Loa Đình,Thôn Tây,,3,1,0,0,1,50.0,10.0,25.0',
      '',
    ]);
  });

  it('downloads the zone report as CSV', async () => {
    const res = await get(`/api/v1/reports/zones?${range}&format=csv`);
    expect(res.status).toBe(200);
    const text = (await res.text()).replace(/^\uFEFF/, '');
    expect(text.split('\r\n')).toEqual([
      'zone_id,name,devices,broadcasts,finished,failed,missed,stopped,success_rate_percent,minutes_on_air,uptime_percent',
      'thon-dong,Thôn Đông,2,6,2,2,1,1,40.0,15.0,25.0',
      'thon-tay,Thôn Tây,1,3,1,0,0,1,50.0,10.0,25.0',
      'thon-trong,Thôn Trống,0,0,0,0,0,0,,0.0,',
      '',
    ]);
  });
});

describe('access', () => {
  it('needs a session; a viewer may read reports', async () => {
    for (const path of ['/api/v1/reports/devices', '/api/v1/reports/zones?format=csv']) {
      expect((await get(path, null)).status, path).toBe(401);
    }
    expect(
      (await server.api('POST', '/api/v1/users', { username: 'xem', password: 'password-123', role: 'viewer' })).status,
    ).toBe(201);
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'xem', password: 'password-123' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await get(`/api/v1/reports/devices?${range}`, cookie)).status).toBe(200);
    expect((await get(`/api/v1/reports/zones?${range}&format=csv`, cookie)).status).toBe(200);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await (await get('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/reports/devices', '/api/v1/reports/zones']),
    );
  });
});

describe('retention', () => {
  it("prunes old status changes but keeps each device's state at the cutoff: the report does not change", async () => {
    const report = () => server.api<{ devices: DeviceRow[] }>('GET', `/api/v1/reports/devices?${range}`);
    const before = (await report()).body;
    expect(await pruneDeviceStatus(server.services.sql, FROM)).toBe(2); // loa-a's first row, loa-c's first row
    const kept = await rows(
      server,
      sql`SELECT device_id, online, at FROM device_status
          WHERE device_id IN ('loa-a', 'loa-c') AND at < ${FROM} ORDER BY device_id`,
    );
    expect(kept).toEqual([
      { device_id: 'loa-a', online: 1, at: FROM - 2 * HOUR },
      { device_id: 'loa-c', online: 0, at: FROM - HOUR },
    ]);
    expect((await report()).body).toEqual(before);
  });
});
