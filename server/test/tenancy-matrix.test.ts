/**
 * Tenant isolation over every route the application registers (read from the
 * route table, so a route added later is covered without editing this file).
 * Two communes are populated through the API; every name and id of commune B
 * carries the marker "bmat". Then, as commune A's administrator:
 *
 * 1. every route is called with B's ids in its path, and must answer exactly
 *    as it does for an id that does not exist (same status, same body once the
 *    id is masked): A cannot tell B's objects from nothing;
 * 2. every readable route (lists, reports, CSV exports, audit, A's own items)
 *    is read, also with `?commune=<B>`, and no answer contains "bmat";
 * 3. writes that name B's objects inside the body (a zone for a device, a
 *    content item for a programme, a zone for a broadcast…) answer like unknown ids;
 * 4. afterwards B's data, read by B's administrator, is exactly as before.
 *
 * A's own data shows up in A's answers (so "no bmat" is not an empty page), and
 * the province administrator sees both communes' data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../src/http/route-table';
import { communeWithUser, startTestServer, type TestServer } from './helpers';

type Api = TestServer['api'];
let server: TestServer;

interface Tenant {
  commune: string;
  api: Api;
  zone: string;
  device: string;
  content: string;
  programme: string;
  schedule: string;
  occurrence: string;
  /** A live session that went on air and ended (its title carries the mark). */
  live: string;
  user: string;
  abbreviation: string;
  bulletin: string;
  sha256: string;
}
let a: Tenant;
let b: Tenant;
let province: Api;
const MARK_B = 'bmat';
const UNKNOWN = 'zz-nobody';

function ok<T>(what: string, res: { status: number; body: T }, status = [200, 201]): T {
  if (!status.includes(res.status)) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Zones, a loudspeaker, a notice, a programme on air, a broadcast, a user and a dictionary entry, all marked. */
async function populate(name: string, mark: string): Promise<Tenant> {
  const { id: commune, api, province: p } = await communeWithUser(server, name, 'admin');
  province = p;
  const zone = ok('zone', await api<{ id: string }>('POST', '/api/v1/zones', { name: `Thôn ${mark}` })).id;
  const device = `loa-${mark}-1`;
  ok('device', await api('POST', '/api/v1/devices', { id: device, name: `Loa ${mark}`, zones: [zone] }));
  const content = ok(
    'content',
    await api<{ id: string; sha256: string }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: `Tin ${mark}`,
      text: `Thông báo ${mark}`,
    }),
  );
  const programme = ok(
    'programme',
    await api<{ id: string }>('POST', '/api/v1/programmes', {
      title: `Chương trình ${mark}`,
      items: [{ contentId: content.id }],
    }),
  ).id;
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const schedule = ok(
    'schedule',
    await api<{ id: string }>('POST', '/api/v1/schedules', {
      title: `Lịch ${mark}`,
      programmeId: programme,
      rule: { kind: 'daily', startDate: tomorrow, times: ['17:00'] },
      zones: [zone],
    }),
  ).id;
  ok('submit', await api('POST', `/api/v1/schedules/${schedule}/submit`, {}));
  const occurrence = ok(
    'broadcast',
    await api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: `Phát ${mark}`,
      zones: [zone],
      at: new Date(Date.now() + 3600_000).toISOString(),
    }),
  ).occurrenceId;
  const live = ok(
    'live',
    await api<{ id: string; revision: number }>('POST', '/api/v1/live', { zones: [zone], title: `Trực tiếp ${mark}` }),
  );
  ok('live stop', await api('POST', `/api/v1/live/${live.id}/stop`, { revision: live.revision }));
  const user = `nguoi-${mark}`;
  ok('user', await api('POST', '/api/v1/users', { username: user, password: `${user}-password`, role: 'editor' }));
  const abbreviation = mark.toUpperCase();
  ok('dictionary', await api('PUT', `/api/v1/dictionary/${abbreviation}`, { expansion: `chữ ${mark}` }));
  const bulletin = ok(
    'bulletin',
    await province<{ id: string }>('POST', '/api/v1/bulletins', {
      title: `Bản tin ${mark}`,
      text: `Bản tin tỉnh gửi ${mark}`,
      priority: 'normal',
      communes: [commune],
    }),
  ).id;
  return {
    commune,
    api,
    zone,
    device,
    content: content.id,
    programme,
    schedule,
    occurrence,
    live: live.id,
    user,
    abbreviation,
    bulletin,
    sha256: content.sha256,
  };
}

beforeAll(async () => {
  server = await startTestServer();
  a = await populate('Xã Amark', 'amark');
  b = await populate('Xã Bmat', MARK_B);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

/** The /api routes, without HEAD twins and the event stream (tested with real events in tenancy-broadcasts). */
function apiRoutes(): RouteEntry[] {
  return server.app.routeTable.filter(
    (r) => r.url.startsWith('/api/') && r.method !== 'HEAD' && r.url !== '/api/v1/events',
  );
}

/** The id a path parameter takes for `t`'s objects. */
function paramFor(url: string, name: string, t: Tenant): string {
  if (name === 'username') return t.user;
  const prefix = url.split('/')[3];
  const byPrefix: Record<string, string> = {
    zones: t.zone,
    devices: t.device,
    content: t.content,
    programmes: t.programme,
    schedules: t.schedule,
    occurrences: t.occurrence,
    live: t.live,
    communes: t.commune,
    bulletins: t.bulletin,
  };
  return byPrefix[prefix ?? ''] ?? UNKNOWN;
}

function pathFor(route: RouteEntry, t: Tenant | null): { path: string; id: string | null } {
  let id: string | null = null;
  const path = route.url.replace(/:(\w+)/g, (_m, name: string) => {
    id = t ? paramFor(route.url, name, t) : UNKNOWN;
    return id;
  });
  return { path, id };
}

/** Bodies that pass validation, so a write reaches the point where it looks the object up. */
function sampleBody(route: RouteEntry): unknown {
  const later = new Date(Date.now() + 2 * 3600_000).toISOString();
  const bodies: Record<string, unknown> = {
    'PATCH /api/v1/zones/:id': { name: 'Thôn đổi tên' },
    'PATCH /api/v1/devices/:id': { name: 'Loa đổi tên' },
    'PUT /api/v1/devices/:id/zones': { zones: [] },
    'POST /api/v1/devices/:id/volume': { level: 40 },
    'POST /api/v1/devices/:id/amp': { on: false },
    'PUT /api/v1/content/:id': { kind: 'notice', title: 'Đổi', text: 'Đổi', revision: 1 },
    'PUT /api/v1/programmes/:id': { title: 'Đổi', items: [{ contentId: UNKNOWN }], revision: 1 },
    'POST /api/v1/schedules/:id/approve': { revision: '1' },
    'POST /api/v1/schedules/:id/reject': { reason: 'không' },
    'PATCH /api/v1/users/:username': { disabled: true },
    'PUT /api/v1/users/:username/password': { password: 'mat-khau-moi-1' },
    'PUT /api/v1/dictionary/:abbreviation': { expansion: 'đổi' },
    'PATCH /api/v1/communes/:id': { name: 'Xã đổi tên', revision: 1 },
    'POST /api/v1/bulletins/:id/decline': { reason: 'không phát', revision: 1 },
    'POST /api/v1/bulletins/:id/place': { at: later, zones: 'all', revision: 1 },
  };
  return bodies[`${route.method} ${route.url}`] ?? {};
}

async function call(api: Api, method: string, path: string, body?: unknown) {
  const res = await api<unknown>(method, path, ['GET', 'DELETE'].includes(method) ? undefined : body);
  return res;
}

/** An answer with `id` masked and the request id dropped, for comparing two answers. */
function masked(res: { status: number; body: unknown }, id: string | null): string {
  const rest = { ...((res.body ?? {}) as Record<string, unknown>) };
  delete rest.requestId;
  const text = JSON.stringify(Array.isArray(res.body) ? res.body : rest);
  return `${res.status} ${id ? text.split(id).join('<id>') : text}`;
}

const snapshotPaths = [
  '/api/v1/zones',
  '/api/v1/devices',
  '/api/v1/content',
  '/api/v1/programmes',
  '/api/v1/schedules',
  '/api/v1/users',
  '/api/v1/dictionary',
  '/api/v1/bulletins',
];
async function snapshot(t: Tenant): Promise<string> {
  const parts: string[] = [];
  for (const p of snapshotPaths) parts.push(`${p} ${JSON.stringify((await t.api('GET', p)).body)}`);
  return parts.join('\n');
}

describe('tenant isolation × every route', () => {
  let before: string;
  beforeAll(async () => {
    before = await snapshot(b);
  });

  it('sees the data it must: A its own, the province both', async () => {
    for (const p of ['/api/v1/zones', '/api/v1/devices', '/api/v1/content', '/api/v1/schedules', '/api/v1/users']) {
      expect(JSON.stringify((await a.api('GET', p)).body), `A's ${p}`).toContain('amark');
      const all = JSON.stringify((await province('GET', p)).body);
      expect(all, `province ${p}`).toContain('amark');
      expect(all, `province ${p}`).toContain(MARK_B);
    }
  });

  it("answers for B's ids exactly as for ids that do not exist", async () => {
    const differences: string[] = [];
    let compared = 0;
    for (const route of apiRoutes()) {
      if (!/:\w+/.test(route.url)) continue;
      const withB = pathFor(route, b);
      if (withB.id === UNKNOWN) continue; // a parameter that names no tenant object
      const unknown = pathFor(route, null);
      const body = sampleBody(route);
      const resUnknown = await call(a.api, route.method, unknown.path, body);
      const resB = await call(a.api, route.method, withB.path, body);
      compared++;
      if (masked(resB, withB.id) !== masked(resUnknown, unknown.id)) {
        differences.push(
          `${route.method} ${route.url}: B's id → ${masked(resB, withB.id)}\n    unknown id → ${masked(resUnknown, unknown.id)}`,
        );
      }
      if (resB.status >= 200 && resB.status < 300)
        differences.push(`${route.method} ${route.url} succeeded on B's object`);
    }
    console.log(`[tenancy] ${compared} routes called with commune B's ids as commune A's administrator`);
    expect(compared).toBeGreaterThan(20);
    expect(differences).toEqual([]);
  });

  it('never shows B in any readable answer of A, with or without ?commune=B', async () => {
    const leaks: string[] = [];
    let reads = 0;
    const read = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie: await cookieOf(a) } });
      return { status: res.status, text: await res.text() };
    };
    for (const route of apiRoutes().filter((r) => r.method === 'GET')) {
      const own = pathFor(route, a).path;
      const variants = [own];
      if (
        ['/api/v1/audit', '/api/v1/reports/devices', '/api/v1/reports/zones', '/api/v1/occurrences'].includes(route.url)
      ) {
        variants.push(`${own}?format=csv`);
      }
      for (const path of variants) {
        const { status, text } = await read(path);
        reads++;
        if (text.toLowerCase().includes(MARK_B) || text.includes(b.commune))
          leaks.push(`${path} → ${status}: ${text.slice(0, 300)}`);
      }
      // Asking for B by name answers as for a commune that does not exist (the answer may repeat the name asked
      // for): the same status, and an error body that differs only by that name (a 200 may carry a clock).
      const join = own.includes('?') ? '&' : '?';
      const forB = await read(`${own}${join}commune=${b.commune}`);
      const forNobody = await read(`${own}${join}commune=${UNKNOWN}`);
      reads += 2;
      const mask = (r: { status: number; text: string }, id: string) =>
        `${r.status} ${r.text
          .split(id)
          .join('<id>')
          .replace(/"requestId":"[^"]*"/, '')}`;
      const differs =
        forB.status !== forNobody.status || (forB.status >= 400 && mask(forB, b.commune) !== mask(forNobody, UNKNOWN));
      if (differs || mask(forB, b.commune).toLowerCase().includes(MARK_B)) {
        leaks.push(
          `${own}?commune=B → ${mask(forB, b.commune).slice(0, 300)}\n    unknown → ${mask(forNobody, UNKNOWN).slice(0, 300)}`,
        );
      }
    }
    console.log(`[tenancy] ${reads} reads as commune A's administrator`);
    expect(leaks).toEqual([]);
  });

  it("refuses writes that name B's objects in the body, as if they did not exist", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const rule = { kind: 'once', startDate: tomorrow, times: ['09:00'] };
    let n = 0;
    const probes: [string, string, (id: string) => unknown][] = [
      ['POST', '/api/v1/zones', (id) => ({ name: `Thôn thử ${++n}`, commune: id })],
      ['POST', '/api/v1/devices', (id) => ({ id: `loa-thu-${++n}`, zones: [id === UNKNOWN ? id : b.zone] })],
      ['POST', '/api/v1/devices', (id) => ({ id: `loa-thu-${++n}`, commune: id })],
      ['PUT', `/api/v1/devices/${a.device}/zones`, (id) => ({ zones: [id === UNKNOWN ? id : b.zone] })],
      ['POST', '/api/v1/content', (id) => ({ kind: 'notice', title: `Tin ${++n}`, text: 'Chào', commune: id })],
      [
        'POST',
        '/api/v1/programmes',
        (id) => ({ title: `CT ${++n}`, items: [{ contentId: id === UNKNOWN ? id : b.content }] }),
      ],
      [
        'POST',
        '/api/v1/schedules',
        (id) => ({ title: `L ${++n}`, programmeId: id === UNKNOWN ? id : b.programme, rule }),
      ],
      [
        'POST',
        '/api/v1/schedules',
        (id) => ({ title: `L ${++n}`, programmeId: a.programme, rule, zones: [id === UNKNOWN ? id : b.zone] }),
      ],
      [
        'POST',
        '/api/v1/schedules',
        (id) => ({ title: `L ${++n}`, programmeId: a.programme, rule, devices: [id === UNKNOWN ? id : b.device] }),
      ],
      ['POST', '/api/v1/broadcasts', (id) => ({ text: 'Chào', zones: [id === UNKNOWN ? id : b.zone] })],
      [
        'POST',
        '/api/v1/users',
        (id) => ({ username: `thu-${++n}`, password: 'mat-khau-thu-1', role: 'viewer', commune: id }),
      ],
    ];
    const differences: string[] = [];
    for (const [method, path, body] of probes) {
      const resUnknown = await call(a.api, method, path, body(UNKNOWN));
      const forB = body(b.commune) as Record<string, unknown>;
      const named =
        JSON.stringify(forB).match(new RegExp(`${b.commune}|${b.zone}|${b.content}|${b.programme}|${b.device}`))?.[0] ??
        null;
      const resB = await call(a.api, method, path, forB);
      if (masked(resB, named) !== masked(resUnknown, UNKNOWN)) {
        differences.push(
          `${method} ${path} ${JSON.stringify(forB)}: → ${masked(resB, named)}\n    unknown → ${masked(resUnknown, UNKNOWN)}`,
        );
      }
    }
    expect(differences).toEqual([]);
  });

  it("leaves B's data exactly as it was", async () => {
    expect(await snapshot(b)).toBe(before);
  });

  it("does not serve B's audio to A's users, and serves A's own", async () => {
    const get = async (sha: string) =>
      (await fetch(`${server.url}/media/${sha}.ogg`, { headers: { cookie: await cookieOf(a) } })).status;
    expect(await get(a.sha256)).toBe(200);
    const unknownSha = 'f'.repeat(64);
    expect(await get(b.sha256)).toBe(await get(unknownSha));
  });
});

const cookies = new Map<string, string>();
/** The session cookie of a tenant's administrator (signed in once more, for raw fetches). */
async function cookieOf(t: Tenant): Promise<string> {
  const cached = cookies.get(t.commune);
  if (cached) return cached;
  const username = `admin-${t.commune}`;
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: `${username}-password` }),
  });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  cookies.set(t.commune, cookie);
  return cookie;
}
