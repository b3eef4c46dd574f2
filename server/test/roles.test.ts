/**
 * Role × route matrix over every route the application registers (read from
 * the route table, so routes added later are covered without editing this
 * file): each /api route declares a permission or is public; without a
 * session a protected route answers 401; each role gets 403 exactly where its
 * permission is missing and never 401/403 where it is present.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/auth/permissions';
import { ROLES, type Role } from '../src/auth/users';
import type { RouteEntry } from '../src/http/route-table';
import { startTestServer, type TestServer } from './helpers';

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
      const permitted = PERMISSIONS[route.permission!] as readonly Role[];
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
      '/api/v1/audit',
    );
    const actions = body.map((e) => `${e.actor} ${e.action} ${e.target ?? ''}`.trim());
    expect(actions).toContain('admin zone.create thon-kiem-toan');
    expect(actions).toContain('admin user.password-reset u-viewer');
    expect(actions).toContain('admin user.create u-editor');
    expect(actions).toContain('u-editor login');

    expect(() => server.services.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => server.services.db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);

    const csv = await fetch(`${server.url}/api/v1/audit?format=csv`, { headers: { cookie: server.cookie } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // BOM, for spreadsheet programs
    const text = bytes.subarray(3).toString('utf8');
    expect(text.split('\r\n')[0]).toBe('id,at,actor,action,target,detail,ip');
    expect(text).toContain('zone.create,thon-kiem-toan,"{""name"":""Thôn Kiểm Toán""}"');
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
