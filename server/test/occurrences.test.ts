/**
 * The recent-broadcasts list (GET /api/v1/occurrences) over the real server and
 * its database (SQLite or PostgreSQL): window, order, limit, per-stage counts, query validation, who may read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, sql, startTestServer, type TestServer } from './helpers';

interface Summary {
  id: string;
  title: string;
  priority: string;
  startAt: string;
  durationMs: number;
  scheduleId: string | null;
  cancelled: boolean;
  devices: number;
  stages: Record<string, number>;
}

const HOUR = 3600_000;
const NOW = Date.now();
let server: TestServer;

async function seed(): Promise<void> {
  const { registry } = server.services;
  await registry.createZone('Thôn Đông', 'default', 'thon-dong');
  for (const id of ['loa-a', 'loa-b', 'loa-c'])
    await registry.createDevice({ communeId: 'default', id, name: id, zones: ['thon-dong'] });
  await run(
    server,
    sql`INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (${'e'.repeat(64)}, 'ogg', 1, 1, 0)`,
  );
  const add = async (
    id: string,
    startAt: number,
    stages: Record<string, string>,
    options: { priority?: string; cancelled?: boolean } = {},
  ) => {
    await run(
      server,
      sql`INSERT INTO occurrences (id, commune_id, title, priority, start_at, duration_ms, sha256, created_at, cancelled_at)
          VALUES (${id}, 'default', ${`Bản tin ${id}`}, ${options.priority ?? 'normal'}, ${startAt}, 60000,
                  ${'e'.repeat(64)}, 0, ${options.cancelled ? NOW : null})`,
    );
    for (const [device, stage] of Object.entries(stages))
      await run(
        server,
        sql`INSERT INTO deliveries (occurrence_id, device_id, stage) VALUES (${id}, ${device}, ${stage})`,
      );
  };
  await add('old', NOW - 30 * HOUR, { 'loa-a': 'finished' }); // before the default window
  await add('morning', NOW - 5 * HOUR, { 'loa-a': 'finished', 'loa-b': 'failed', 'loa-c': 'finished' });
  await add('noon', NOW - 2 * HOUR, { 'loa-a': 'started', 'loa-b': 'pending' }, { priority: 'emergency' });
  await add('empty', NOW - HOUR, {}); // no deliveries: still listed, all counts zero
  await add(
    'evening',
    NOW + 3 * HOUR,
    { 'loa-a': 'received', 'loa-b': 'ready', 'loa-c': 'skipped' },
    { cancelled: true },
  );
  await add('far', NOW + 30 * HOUR, { 'loa-a': 'pending' }); // after the default window
}

const list = (query = '') => server.api<Summary[]>('GET', `/api/v1/occurrences${query}`);
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  server = await startTestServer();
  await seed();
});
afterAll(async () => {
  await server?.close();
});

describe('GET /api/v1/occurrences', () => {
  it('lists the last and next 24 hours by default, newest first', async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    expect(body.map((o) => o.id)).toEqual(['evening', 'empty', 'noon', 'morning']);
  });

  it('counts each occurrence’s deliveries per stage', async () => {
    const { body } = await list();
    const byId = Object.fromEntries(body.map((o) => [o.id, o]));
    expect(byId.morning).toEqual({
      id: 'morning',
      communeId: 'default',
      title: 'Bản tin morning',
      priority: 'normal',
      startAt: iso(NOW - 5 * HOUR),
      durationMs: 60_000,
      scheduleId: null,
      cancelled: false,
      stoppedAt: null,
      stoppedBy: null,
      devices: 3,
      stages: { pending: 0, received: 0, ready: 0, started: 0, finished: 2, failed: 1, skipped: 0, preempted: 0 },
      outcomes: { waiting: 0, playing: 0, finished: 2, failed: 1, missed: 0, stopped: 0, preempted: 0, skipped: 0 },
    });
    // Two hours after its start, a delivery never acknowledged is missed, not waiting.
    expect(byId.noon).toMatchObject({
      priority: 'emergency',
      devices: 2,
      stages: { started: 1, pending: 1 },
      outcomes: { playing: 1, missed: 1, waiting: 0 },
    });
    expect(byId.evening).toMatchObject({
      cancelled: true,
      devices: 3,
      stages: { received: 1, ready: 1, skipped: 1, finished: 0 },
      outcomes: { stopped: 2, skipped: 1, waiting: 0, missed: 0 },
    });
    expect(byId.empty!.devices).toBe(0);
    expect(Object.values(byId.empty!.stages).every((n) => n === 0)).toBe(true);
  });

  it('takes a window [from, to) and a limit', async () => {
    const wide = await list(`?from=${iso(NOW - 48 * HOUR)}&to=${iso(NOW + 48 * HOUR)}`);
    expect(wide.body.map((o) => o.id)).toEqual(['far', 'evening', 'empty', 'noon', 'morning', 'old']);
    // `to` is exclusive, `from` inclusive.
    const edges = await list(`?from=${iso(NOW - 5 * HOUR)}&to=${iso(NOW - HOUR)}`);
    expect(edges.body.map((o) => o.id)).toEqual(['noon', 'morning']);
    const limited = await list(`?from=${iso(NOW - 48 * HOUR)}&to=${iso(NOW + 48 * HOUR)}&limit=2`);
    expect(limited.body.map((o) => o.id)).toEqual(['far', 'evening']);
    expect((await list('?limit=200')).status).toBe(200);
  });

  it('answers 400 naming the field for a bad query', async () => {
    const cases: [string, string][] = [
      ['?from=yesterday', 'from'],
      ['?to=2025-13-45T00:00:00Z', 'to'],
      [`?from=${iso(NOW)}&to=${iso(NOW)}`, 'to'],
      [`?from=${iso(NOW)}&to=${iso(NOW - HOUR)}`, 'to'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=ten', 'limit'],
      ['?colour=red', 'colour'],
    ];
    for (const [query, field] of cases) {
      const res = await list(query);
      expect({ query, status: res.status, field: (res.body as unknown as { field?: string }).field }).toEqual({
        query,
        status: 400,
        field,
      });
    }
  });

  it('may be read by every role', async () => {
    const password = 'password-123';
    await server.api('POST', '/api/v1/users', { username: 'xem', password, role: 'viewer' });
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'xem', password }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const res = await fetch(`${server.url}/api/v1/occurrences`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Summary[]).length).toBe(4);
  });
});

describe('GET /api/v1/deliveries/problems', () => {
  it('lists failed and missed deliveries of every broadcast, newest first, with the loudspeaker’s state', async () => {
    const { status, body } = await server.api<
      { occurrenceId: string; deviceId: string; outcome: string; online: boolean; deviceName: string }[]
    >('GET', '/api/v1/deliveries/problems');
    expect(status).toBe(200);
    expect(body.map((p) => `${p.occurrenceId}/${p.deviceId}/${p.outcome}`)).toEqual([
      'noon/loa-b/missed',
      'morning/loa-b/failed',
    ]);
    expect(body[0]).toMatchObject({ online: false, deviceName: expect.any(String) });
    const since = await server.api<unknown[]>('GET', `/api/v1/deliveries/problems?since=${iso(NOW - 3 * HOUR)}`);
    expect(since.body).toHaveLength(1);
    expect((await server.api('GET', '/api/v1/deliveries/problems?limit=0')).status).toBe(400);
  });
});
