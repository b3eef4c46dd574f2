/**
 * Role × route matrix over every route the application registers (read from
 * the route table, so routes added later are covered without editing this
 * file): each /api route declares a permission or is public; without a
 * session a protected route answers 401; each role gets 403 exactly where its
 * permission is missing and never 401/403 where it is present.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, PROVINCE_ONLY, PROVINCE_ROLES } from '../src/auth/permissions';
import { ROLES, type Role } from '../src/auth/users';
import type { RouteEntry } from '../src/http/route-table';
import { PROVINCE_PASSWORD, rows, run, signIn, signInProvince, sql, startTestServer, type TestServer } from './helpers';

let server: TestServer;
const cookies = new Map<Role, string>();
const PASSWORD = 'password-123';

async function login(role: Role): Promise<void> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `u-${role}`, password: PASSWORD }),
  });
  expect(res.status, `login of u-${role}`).toBe(200);
  cookies.set(role, (res.headers.get('set-cookie') ?? '').split(';')[0]!);
}

beforeAll(async () => {
  server = await startTestServer();
  for (const role of ROLES) {
    const username = `u-${role}`;
    expect((await server.api('POST', '/api/v1/users', { username, password: PASSWORD, role })).status).toBe(201);
    await login(role);
  }
});
afterAll(async () => {
  await server?.close();
});

/** The /api routes (HEAD twins of GET routes run the same hooks and are left out). */
function apiRoutes(): RouteEntry[] {
  return server.app.routeTable.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
}

/**
 * A request for the route with made-up parameters and an empty JSON body:
 * the permission is checked before the body and the lookup, so an allowed
 * role gets 400/404 (or harmless success), never real work on real data.
 */
async function call(route: RouteEntry, cookie: string | null): Promise<number> {
  const path = route.url.replace(/:(\w+)(\([^)]*\))?/g, (_m, _name, pattern?: string) => (pattern ? '1' : 'zz-nobody'));
  const hasBody = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
  const controller = new AbortController();
  const res = await fetch(`${server.url}${path.replace(/\*$/, 'zz-nobody')}`, {
    method: route.method,
    headers: { ...(cookie ? { cookie } : {}), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    body: hasBody ? '{}' : undefined,
    signal: controller.signal,
  });
  controller.abort(); // an event stream never ends by itself
  return res.status;
}

describe('role × route', () => {
  it('finds the routes, and every /api route declares a permission or is public', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(10);
    const undeclared = routes.filter((r) => !r.public && !r.permission).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
    const unknown = routes.filter((r) => r.permission && !(r.permission in PERMISSIONS));
    expect(unknown).toEqual([]);
    console.log(
      `[roles] ${routes.length} /api routes; public: ${routes
        .filter((r) => r.public)
        .map((r) => `${r.method} ${r.url}`)
        .join(', ')}`,
    );
  });

  it('answers 401 on every protected route without a session, and public routes need none', async () => {
    for (const route of apiRoutes()) {
      const status = await call(route, null);
      if (route.public) expect([401, 403], `${route.method} ${route.url} is public`).not.toContain(status);
      else expect(status, `${route.method} ${route.url} without a session`).toBe(401);
    }
  });

  it('gives each role 403 exactly where its permission is missing', async () => {
    const protectedRoutes = apiRoutes().filter((r) => !r.public);
    const failures: string[] = [];
    let checked = 0;
    for (const route of protectedRoutes) {
      // These users belong to a commune: a province-only permission is never theirs, whatever the role.
      const permitted = PROVINCE_ONLY.has(route.permission!) ? [] : (PERMISSIONS[route.permission!] as readonly Role[]);
      for (const role of ROLES) {
        let status = await call(route, cookies.get(role)!);
        // A route may legitimately end the caller's sessions (a password change): sign in again, once.
        if (status === 401) {
          await login(role);
          status = await call(route, cookies.get(role)!);
        }
        checked++;
        const allowed = permitted.includes(role);
        if (allowed && (status === 401 || status === 403))
          failures.push(`${role} ${route.method} ${route.url} → ${status}`);
        if (!allowed && status !== 403) failures.push(`${role} ${route.method} ${route.url} → ${status}, wanted 403`);
      }
    }
    console.log(`[roles] ${checked} role × route calls over ${protectedRoutes.length} protected routes`);
    expect(failures).toEqual([]);
  });

  it('only those who may publish broadcast straight to air; an editor goes through approval', async () => {
    for (const priority of ['normal', 'emergency']) {
      const editor = await fetch(`${server.url}/api/v1/broadcasts`, {
        method: 'POST',
        headers: { cookie: cookies.get('editor')!, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Lũ về', zones: 'all', priority }),
      });
      expect(editor.status).toBe(403);
    }
    // The editor still writes and previews notices (then schedules them for approval).
    const preview = await fetch(`${server.url}/api/v1/tts/preview`, {
      method: 'POST',
      headers: { cookie: cookies.get('editor')!, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'UBND xã' }),
    });
    expect(preview.status).toBe(200);
    const approver = await fetch(`${server.url}/api/v1/broadcasts`, {
      method: 'POST',
      headers: { cookie: cookies.get('approver')!, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Lũ về', zones: 'all', priority: 'emergency' }),
    });
    expect(approver.status).toBe(400); // allowed; refused only because there are no devices
  });

  it('refuses a cookie-authenticated write from another origin (CSRF)', async () => {
    const res = await fetch(`${server.url}/api/v1/zones`, {
      method: 'POST',
      headers: { cookie: server.cookie, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ name: 'Thôn giả' }),
    });
    expect(res.status).toBe(403);
  });

  it('refuses `Origin: null` and an origin that is not a URL with 403, not a server error', async () => {
    // A sandboxed frame or a file: page sends "null"; it is never the console.
    for (const origin of ['null', 'not a url']) {
      const res = await fetch(`${server.url}/api/v1/zones`, {
        method: 'POST',
        headers: { cookie: server.cookie, 'content-type': 'application/json', origin },
        body: JSON.stringify({ name: 'Thôn giả' }),
      });
      expect(res.status, origin).toBe(403);
      expect(await res.json()).toMatchObject({ field: 'origin' });
    }
    // The console's own origin still writes.
    const own = await fetch(`${server.url}/api/v1/zones`, {
      method: 'POST',
      headers: { cookie: server.cookie, 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ name: 'Thôn Cùng Nguồn' }),
    });
    expect(own.status).toBe(201);
  });
});

/** The fields these tests read from a reply (an object created, a schedule's status). */
interface Reply {
  id: string;
  status: string;
}

/** A request as `role` (signing in again once if an earlier call ended its sessions). */
async function as(role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: Reply }> {
  const send = () =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { cookie: cookies.get(role)!, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let res = await send();
  if (res.status === 401) {
    await login(role);
    res = await send();
  }
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Reply };
}

/** "403 exactly where not allowed": an allowed role gets anything but 401/403 (400/404 for made-up input). */
function judge(row: string, role: Role, allowed: readonly Role[], status: number, failures: string[]): void {
  const may = allowed.includes(role);
  if (may && (status === 401 || status === 403)) failures.push(`${role} ${row} → ${status}, should be allowed`);
  if (!may && status !== 403) failures.push(`${role} ${row} → ${status}, wanted 403`);
}

/**
 * Who may use the sensitive routes, written out by hand. The matrix above
 * reads the permission table, so it only proves the routes obey the table; a
 * wrong choice in the table (an editor managing zones) passes it. This list
 * is the decision itself: change it only when the commune's rules change.
 */
const SENSITIVE: { method: string; url: string; path?: string; body?: unknown; who: readonly Role[] }[] = [
  // Zones decide where broadcasts play: technicians and admins.
  { method: 'POST', url: '/api/v1/zones', body: {}, who: ['admin', 'technician'] },
  { method: 'PATCH', url: '/api/v1/zones/:id', body: {}, who: ['admin', 'technician'] },
  { method: 'DELETE', url: '/api/v1/zones/:id', who: ['admin', 'technician'] },
  { method: 'PUT', url: '/api/v1/devices/:id/zones', body: {}, who: ['admin', 'technician'] },
  // Loudspeakers.
  { method: 'POST', url: '/api/v1/devices', body: {}, who: ['admin', 'technician'] },
  { method: 'PATCH', url: '/api/v1/devices/:id', body: {}, who: ['admin', 'technician'] },
  { method: 'POST', url: '/api/v1/devices/:id/revoke', body: {}, who: ['admin', 'technician'] },
  { method: 'POST', url: '/api/v1/devices/:id/volume', body: {}, who: ['admin', 'technician'] },
  { method: 'POST', url: '/api/v1/devices/:id/amp', body: {}, who: ['admin', 'technician'] },
  { method: 'POST', url: '/api/v1/devices/:id/test-tone', body: {}, who: ['admin', 'technician'] },
  // Straight to air, and emergencies: the leaders.
  {
    method: 'POST',
    url: '/api/v1/broadcasts',
    body: { text: 'Thông báo', zones: ['zz-nobody'] },
    who: ['admin', 'approver'],
  },
  {
    method: 'POST',
    url: '/api/v1/broadcasts',
    body: { text: 'Lũ về', zones: ['zz-nobody'], priority: 'emergency' },
    who: ['admin', 'approver'],
  },
  { method: 'POST', url: '/api/v1/occurrences/:id/stop', body: {}, who: ['admin', 'approver'] },
  // Approval.
  { method: 'POST', url: '/api/v1/schedules/:id/approve', body: {}, who: ['admin', 'approver'] },
  { method: 'POST', url: '/api/v1/schedules/:id/reject', body: { reason: 'x' }, who: ['admin', 'approver'] },
  // Accounts: the admin alone.
  { method: 'GET', url: '/api/v1/users', who: ['admin'] },
  { method: 'POST', url: '/api/v1/users', body: {}, who: ['admin'] },
  { method: 'PATCH', url: '/api/v1/users/:username', body: {}, who: ['admin'] },
  { method: 'PUT', url: '/api/v1/users/:username/password', body: {}, who: ['admin'] },
  { method: 'POST', url: '/api/v1/users/:username/unlock', body: {}, who: ['admin'] },
  // Settings (paid TTS keys, loudness) and the audit log: the leaders.
  { method: 'GET', url: '/api/v1/settings', who: ['admin', 'approver'] },
  { method: 'PUT', url: '/api/v1/settings', body: {}, who: ['admin', 'approver'] },
  { method: 'POST', url: '/api/v1/tts/engines/:id/test', body: {}, who: ['admin', 'approver'] },
  { method: 'GET', url: '/api/v1/audit', who: ['admin', 'approver'] },
  // The province's own work: never a commune user's, whatever the role (see the province table below).
  { method: 'POST', url: '/api/v1/communes', body: {}, who: [] },
  { method: 'PATCH', url: '/api/v1/communes/:id', body: {}, who: [] },
  { method: 'POST', url: '/api/v1/bulletins', body: {}, who: [] },
  { method: 'POST', url: '/api/v1/bulletins/:id/approve', body: {}, who: [] },
  { method: 'POST', url: '/api/v1/bulletins/:id/reject', body: {}, who: [] },
  // A commune's inbox: those who write and schedule.
  { method: 'POST', url: '/api/v1/bulletins/:id/decline', body: {}, who: ['admin', 'approver', 'editor'] },
  { method: 'POST', url: '/api/v1/bulletins/:id/place', body: {}, who: ['admin', 'approver', 'editor'] },
];

/** Province users: who of them may do the province's work, written out by hand. */
const PROVINCE_SENSITIVE: { method: string; url: string; body?: unknown; who: readonly Role[] }[] = [
  { method: 'POST', url: '/api/v1/communes', body: {}, who: ['admin'] },
  { method: 'PATCH', url: '/api/v1/communes/:id', body: {}, who: ['admin'] },
  { method: 'POST', url: '/api/v1/bulletins', body: {}, who: ['admin', 'approver', 'editor'] },
  { method: 'POST', url: '/api/v1/bulletins/:id/approve', body: {}, who: ['admin', 'approver'] },
  { method: 'POST', url: '/api/v1/bulletins/:id/reject', body: {}, who: ['admin', 'approver'] },
  { method: 'GET', url: '/api/v1/bulletins', who: ['admin', 'approver', 'editor', 'viewer'] },
  { method: 'GET', url: '/api/v1/users', who: ['admin'] },
];

describe('province users', () => {
  it('lets exactly the listed province roles do the province’s work', async () => {
    const province = await signInProvince(server);
    const failures: string[] = [];
    for (const role of PROVINCE_ROLES) {
      const username = `tinh-${role}`;
      expect((await province('POST', '/api/v1/users', { username, password: PASSWORD, role })).status).toBe(201);
      const api = await signIn(server, username, PASSWORD);
      for (const row of PROVINCE_SENSITIVE) {
        const status = (await api(row.method, row.url.replace(/:\w+/g, 'zz-nobody'), row.body)).status;
        judge(`${row.method} ${row.url} (province)`, role, row.who, status, failures);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses a province technician: the province has no loudspeakers of its own', async () => {
    const province = await signInProvince(server);
    const res = await province<{ field: string }>('POST', '/api/v1/users', {
      username: 'tinh-ky-thuat',
      password: PASSWORD,
      role: 'technician',
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('role');
  });
});

/** Tomorrow in the commune's zone, for schedules that must be in the future. */
function tomorrow(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(Date.now() + 24 * 3600_000);
}

let scheduleSeq = 0;
/** A schedule with a one-second silence for a zone without loudspeakers (nothing plays, nothing clashes). */
async function scheduleAs(role: Role, extra: Record<string, unknown> = {}): Promise<{ status: number; body: Reply }> {
  const content = await as('admin', 'POST', '/api/v1/content', {
    kind: 'silence',
    title: `Lặng ${++scheduleSeq}`,
    durationMs: 1000,
  });
  expect(content.status).toBe(201);
  const programme = await as('admin', 'POST', '/api/v1/programmes', {
    title: `Chương trình ${scheduleSeq}`,
    items: [{ contentId: content.body.id }],
  });
  expect(programme.status).toBe(201);
  return as(role, 'POST', '/api/v1/schedules', {
    title: `Lịch ${scheduleSeq}`,
    programmeId: programme.body.id,
    rule: { kind: 'once', startDate: tomorrow(), times: [`10:${String(scheduleSeq % 60).padStart(2, '0')}`] },
    zones: ['thon-vai-tro'],
    ...extra,
  });
}

describe('sensitive routes, by a hand-written table', () => {
  beforeAll(async () => {
    expect((await server.api('POST', '/api/v1/zones', { name: 'Thôn Vai Trò' })).status).toBe(201);
  });

  it('lets exactly the listed roles use each sensitive route', async () => {
    const registered = new Set(apiRoutes().map((r) => `${r.method} ${r.url}`));
    const failures: string[] = [];
    for (const row of SENSITIVE) {
      const name = `${row.method} ${row.url}${row.body && Object.keys(row.body).length ? ` ${JSON.stringify(row.body)}` : ''}`;
      if (!registered.has(`${row.method} ${row.url}`)) {
        failures.push(`${row.method} ${row.url} is not a route any more: update this table`);
        continue;
      }
      const path = row.url.replace(/:\w+/g, 'zz-nobody');
      for (const role of ROLES)
        judge(name, role, row.who, (await as(role, row.method, path, row.body)).status, failures);
    }
    expect(failures).toEqual([]);
  });

  it('puts on air without approval only for a publisher (admin, approver); an editor’s schedule waits', async () => {
    const expected: Record<Role, string | 403> = {
      admin: 'approved',
      approver: 'approved',
      editor: 'submitted',
      technician: 403,
      viewer: 403,
    };
    const got: Record<string, string | number> = {};
    for (const role of ROLES) {
      const created = await scheduleAs(role);
      if (created.status !== 201) {
        got[role] = created.status;
        continue;
      }
      const submitted = await as(role, 'POST', `/api/v1/schedules/${created.body.id}/submit`);
      got[role] = submitted.status === 200 ? submitted.body.status : submitted.status;
    }
    expect(got).toEqual(expected);
  });

  /** Taking something off air is the approvers' call; an editor may still cancel a draft of their own. */
  it('needs an approver (admin, approver) to cancel an approved or an emergency schedule', async () => {
    const rows: { what: string; make: () => Promise<string>; who: readonly Role[] }[] = [
      {
        what: 'an approved schedule',
        make: async () => {
          const s = await scheduleAs('admin');
          expect((await as('admin', 'POST', `/api/v1/schedules/${s.body.id}/submit`)).body.status).toBe('approved');
          return s.body.id;
        },
        who: ['admin', 'approver'],
      },
      {
        what: 'an emergency schedule (a draft)',
        make: async () => (await scheduleAs('admin', { priority: 'emergency' })).body.id,
        who: ['admin', 'approver'],
      },
      {
        // The rule's boundary: a draft that never went on air stays the writer's to drop.
        what: 'a normal draft',
        make: async () => (await scheduleAs('admin')).body.id,
        who: ['admin', 'approver', 'editor'],
      },
    ];
    const failures: string[] = [];
    for (const row of rows) {
      for (const role of ROLES) {
        const id = await row.make(); // a fresh one per role: a cancel is final
        const res = await as(role, 'POST', `/api/v1/schedules/${id}/cancel`);
        judge(`cancel ${row.what}`, role, row.who, res.status, failures);
      }
    }
    expect(failures).toEqual([]);
  });

  /** Likewise for one occurrence of an approved schedule: it is on air.  */
  it('needs an approver (admin, approver) to cancel one occurrence of an approved schedule', async () => {
    const failures: string[] = [];
    for (const role of ROLES) {
      const s = await scheduleAs('admin');
      expect((await as('admin', 'POST', `/api/v1/schedules/${s.body.id}/submit`)).body.status).toBe('approved');
      const [occurrence] = await rows<{ id: string }>(
        server,
        sql`SELECT id FROM occurrences WHERE schedule_id = ${s.body.id} ORDER BY start_at, id LIMIT 1`,
      );
      const res = await as(role, 'DELETE', `/api/v1/occurrences/${occurrence!.id}`);
      judge('DELETE /api/v1/occurrences/:id (approved schedule)', role, ['admin', 'approver'], res.status, failures);
    }
    expect(failures).toEqual([]);
  });
});

describe('audit log and passwords', () => {
  it('records logins, changes and resets, append-only, exportable as CSV', async () => {
    await server.api('POST', '/api/v1/zones', { name: 'Thôn Kiểm Toán' });
    expect((await server.api('PUT', '/api/v1/users/u-viewer/password', { password: 'new-password-1' })).status).toBe(
      204,
    );
    // The reset ended the viewer's sessions.
    expect((await fetch(`${server.url}/api/v1/session`, { headers: { cookie: cookies.get('viewer')! } })).status).toBe(
      401,
    );

    const { body } = await server.api<{ actor: string; action: string; target: string | null }[]>(
      'GET',
      '/api/v1/audit?limit=10000',
    );
    const actions = body.map((e) => `${e.actor} ${e.action} ${e.target ?? ''}`.trim());
    expect(actions).toContain('admin zone.create thon-kiem-toan');
    expect(actions).toContain('admin user.password-reset u-viewer');
    expect(actions).toContain('admin user.create u-editor');
    expect(actions).toContain('u-editor login');

    await expect(run(server, sql`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(run(server, sql`UPDATE audit_log SET actor = 'x'`)).rejects.toThrow(/append-only/);

    const csv = await fetch(`${server.url}/api/v1/audit?format=csv`, { headers: { cookie: server.cookie } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // BOM, for spreadsheet programs
    const text = bytes.subarray(3).toString('utf8');
    expect(text.split('\r\n')[0]).toBe('id,at,actor,action,target,detail,ip,commune');
    expect(text).toContain('zone.create,thon-kiem-toan,"{""name"":""Thôn Kiểm Toán""}"');
  });

  it('neutralises formulas in the CSV export: a failed login’s username cannot run in a spreadsheet', async () => {
    const username = '=HYPERLINK("http://x","y")';
    const failed = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'whatever-1' }),
    });
    expect(failed.status).toBe(401);
    // A name no account has belongs to no commune: the province's log holds it.
    const province = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tinh', password: PROVINCE_PASSWORD }),
    });
    const provinceCookie = (province.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csv = await fetch(`${server.url}/api/v1/audit?format=csv&action=login.failed`, {
      headers: { cookie: provinceCookie },
    });
    expect(csv.status).toBe(200);
    const lines = (await csv.text()).split('\r\n');
    const row = lines.find((l) => l.includes('HYPERLINK'));
    // id,at,actor,...: the actor cell starts with a quote mark, so the spreadsheet shows it as text.
    expect(row).toMatch(/^\d+,[^,]+,"'=HYPERLINK\(""http:\/\/x"",""y""\)",login\.failed,/);
    // The JSON view is data, not a spreadsheet: it keeps the username as typed.
    const json = await fetch(`${server.url}/api/v1/audit?action=login.failed`, { headers: { cookie: provinceCookie } });
    expect(((await json.json()) as { actor: string }[]).map((e) => e.actor)).toContain(username);
  });

  it('changes one’s own password: this session continues, other sessions end, the old password stops working', async () => {
    await login('technician');
    const other = cookies.get('technician')!;
    await login('technician');
    const mine = cookies.get('technician')!;
    const res = await fetch(`${server.url}/api/v1/session/password`, {
      method: 'PUT',
      headers: { cookie: mine, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'changed-pass-9' }),
    });
    expect(res.status).toBe(204);
    const renewed = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await fetch(`${server.url}/api/v1/session`, { headers: { cookie: renewed } })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/session`, { headers: { cookie: other } })).status).toBe(401);
    const oldPassword = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'u-technician', password: PASSWORD }),
    });
    expect(oldPassword.status).toBe(401);
    const { body } = await server.api<{ action: string; target: string }[]>('GET', '/api/v1/audit');
    expect(body.map((e) => `${e.action} ${e.target}`)).toContain('user.password-change u-technician');
  });

  it('changes one’s own password only with the current one', async () => {
    const wrong = await server.api('PUT', '/api/v1/session/password', {
      currentPassword: 'nope',
      newPassword: 'another-pass-1',
    });
    expect(wrong).toMatchObject({ status: 403, body: { field: 'currentPassword' } });
    const short = await server.api('PUT', '/api/v1/session/password', { currentPassword: 'x', newPassword: 'short' });
    expect(short).toMatchObject({ status: 400, body: { field: 'newPassword' } });
  });
});
