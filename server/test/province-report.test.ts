/**
 * The province roll-up (GET /api/v1/reports/communes): each commune's
 * loudspeakers online/offline now, broadcasts, success rate, minutes on air,
 * last seen and bulletins played, summed from its loudspeakers' deliveries;
 * CSV; a commune user gets their own row only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { communeWithUser, run, sql, startTestServer, type TestServer } from './helpers';

interface CommuneRow {
  communeId: string;
  name: string;
  devices: number;
  online: number;
  offline: number;
  lastSeen: string | null;
  bulletinsPlayed: number;
  broadcasts: number;
  finished: number;
  failed: number;
  successRate: number | null;
  minutesOnAir: number;
}

const HOUR = 3600_000;
const MINUTE = 60_000;
const FROM = Math.floor((Date.now() - 5 * 24 * HOUR) / HOUR) * HOUR;
const TO = FROM + 24 * HOUR;
const range = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;

let server: TestServer;
let a: Awaited<ReturnType<typeof communeWithUser>>;
let b: Awaited<ReturnType<typeof communeWithUser>>;

beforeAll(async () => {
  server = await startTestServer();
  a = await communeWithUser(server, 'Xã Báo Cáo A', 'viewer');
  b = await communeWithUser(server, 'Xã Báo Cáo B', 'viewer');
  const { registry } = server.services;
  await registry.createDevice({ id: 'loa-a1', communeId: a.id });
  await registry.createDevice({ id: 'loa-a2', communeId: a.id });
  await registry.createDevice({ id: 'loa-b1', communeId: b.id });
  await run(server, sql`UPDATE devices SET created_at = ${FROM - 30 * 24 * HOUR}`);
  await registry.setOnline('loa-a1', true);
  const sha = 'e'.repeat(64);
  await run(
    server,
    sql`INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (${sha}, 'ogg', 1, 1, 0)`,
  );
  await run(
    server,
    sql`INSERT INTO bulletins (id, title, priority, sha256, duration_ms, all_communes, status, created_by, created_at, updated_at)
        VALUES ('bt-1', 'Bản tin', 'emergency', ${sha}, 60000, 0, 'sent', 'tinh', 0, 0)`,
  );
  const occurrence = (
    id: string,
    communeId: string,
    title: string,
    startAt: number,
    durationMs: number,
    bulletinId: string | null,
  ) =>
    run(
      server,
      sql`INSERT INTO occurrences (id, commune_id, title, priority, start_at, duration_ms, sha256, created_at, bulletin_id)
          VALUES (${id}, ${communeId}, ${title}, 'normal', ${startAt}, ${durationMs}, ${sha}, 0, ${bulletinId})`,
    );
  const delivery = (occurrenceId: string, deviceId: string, stage: string, at: number) =>
    run(
      server,
      sql`INSERT INTO deliveries (occurrence_id, device_id, stage, at) VALUES (${occurrenceId}, ${deviceId}, ${stage}, ${at})`,
    );
  // A: one notice, played to the end on a1 (10 min), failed on a2.
  await occurrence('oa', a.id, 'A', FROM + HOUR, 10 * MINUTE, null);
  await delivery('oa', 'loa-a1', 'finished', FROM + HOUR);
  await delivery('oa', 'loa-a2', 'failed', FROM + HOUR);
  // B: a notice (5 min) and the province's bulletin (1 min), both played on b1.
  await occurrence('ob', b.id, 'B', FROM + 2 * HOUR, 5 * MINUTE, null);
  await delivery('ob', 'loa-b1', 'finished', FROM + 2 * HOUR);
  await occurrence('obt', b.id, 'Bản tin', FROM + 3 * HOUR, MINUTE, 'bt-1');
  await delivery('obt', 'loa-b1', 'finished', FROM + 3 * HOUR);
  // Outside the period: counts for nothing.
  await occurrence('old', a.id, 'cũ', FROM - HOUR, 10 * MINUTE, null);
  await delivery('old', 'loa-a1', 'finished', FROM - HOUR);
});
afterAll(async () => {
  await server?.close();
});

describe('province report', () => {
  it('rolls each commune up from its loudspeakers', async () => {
    const res = await server.api<{ communes: CommuneRow[] }>('GET', `/api/v1/reports/communes?${range}`);
    expect(res.status).toBe(200);
    const province = await a.province<{ communes: CommuneRow[] }>('GET', `/api/v1/reports/communes?${range}`);
    const byId = Object.fromEntries(province.body.communes.map((c) => [c.communeId, c]));
    expect(byId[a.id]).toMatchObject({
      name: 'Xã Báo Cáo A',
      devices: 2,
      online: 1,
      offline: 1,
      broadcasts: 2,
      finished: 1,
      failed: 1,
      successRate: 0.5,
      minutesOnAir: 10,
      bulletinsPlayed: 0,
    });
    expect(byId[a.id]!.lastSeen).not.toBeNull();
    expect(byId[b.id]).toMatchObject({
      devices: 1,
      online: 0,
      offline: 1,
      broadcasts: 2,
      finished: 2,
      failed: 0,
      successRate: 1,
      minutesOnAir: 6,
      bulletinsPlayed: 1,
      lastSeen: null,
    });
    // Every commune has a row, the one without loudspeakers too.
    expect(byId.default).toMatchObject({ devices: 0, broadcasts: 0, successRate: null });
  });

  it('gives a commune user their own row only, and B by name is "no such commune"', async () => {
    const own = await a.api<{ communes: CommuneRow[] }>('GET', `/api/v1/reports/communes?${range}`);
    expect(own.body.communes.map((c) => c.communeId)).toEqual([a.id]);
    expect((await a.api('GET', `/api/v1/reports/communes?${range}&commune=${b.id}`)).status).toBe(404);
  });

  it('downloads as CSV, one row per commune', async () => {
    const res = await fetch(`${server.url}/api/v1/reports/communes?${range}&format=csv&commune=${b.id}`, {
      headers: { cookie: await cookieOfProvince() },
    });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'commune_id,name,devices,online,offline,last_seen,bulletins_played,broadcasts,finished,failed,missed,stopped,success_rate_percent,minutes_on_air,uptime_percent',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${b.id},Xã Báo Cáo B,1,0,1,,1,2,2,0,0,0,100.0,6.0,`));
  });
});

async function cookieOfProvince(): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'tinh', password: 'test-province-password' }),
  });
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}
