/**
 * Role × route matrix: every API route in the OpenAPI document is listed here
 * with the permission it needs; each role gets 403 exactly where it should.
 * A new route that is not added here fails the coverage check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../src/auth/permissions';
import { ROLES, type Role } from '../src/auth/users';
import { startTestServer, type TestServer } from './helpers';

interface Case {
  method: string;
  path: string;
  openapiPath?: string;
  permission: Permission;
  /** Invalid on purpose where possible: permission is checked before the body, so allowed roles get 400/404, not work. */
  body?: unknown;
}

const CASES: Case[] = [
  { method: 'GET', path: '/api/v1/session', permission: 'session:self' },
  { method: 'PUT', path: '/api/v1/session/password', permission: 'session:self', body: {} },
  { method: 'GET', path: '/api/v1/devices', permission: 'devices:read' },
  { method: 'POST', path: '/api/v1/devices', permission: 'devices:manage', body: { id: 'bad/id' } },
  {
    method: 'POST',
    path: '/api/v1/devices/ghost/revoke',
    openapiPath: '/api/v1/devices/{id}/revoke',
    permission: 'devices:manage',
  },
  { method: 'GET', path: '/api/v1/zones', permission: 'devices:read' },
  { method: 'POST', path: '/api/v1/zones', permission: 'zones:manage', body: { name: '' } },
  { method: 'POST', path: '/api/v1/broadcasts', permission: 'broadcasts:send', body: { text: '' } },
  {
    method: 'GET',
    path: '/api/v1/occurrences/none',
    openapiPath: '/api/v1/occurrences/{id}',
    permission: 'broadcasts:read',
  },
  { method: 'GET', path: '/api/v1/events', permission: 'devices:read' },
  { method: 'GET', path: '/api/v1/audit?limit=1', openapiPath: '/api/v1/audit', permission: 'audit:read' },
  { method: 'GET', path: '/api/v1/users', permission: 'users:manage' },
  { method: 'POST', path: '/api/v1/users', permission: 'users:manage', body: {} },
  {
    method: 'PUT',
    path: '/api/v1/users/ghost/password',
    openapiPath: '/api/v1/users/{username}/password',
    permission: 'users:manage',
    body: {},
  },
];
// Media has its own check (session or device credentials), tested in the e2e suite.
const PUBLIC = ['POST /api/v1/session', 'DELETE /api/v1/session', 'GET /api/v1/health', 'GET /media/{file}'];

let server: TestServer;
const cookies = new Map<Role, string>();

beforeAll(async () => {
  server = await startTestServer();
  for (const role of ROLES) {
    const username = `u-${role}`;
    expect((await server.api('POST', '/api/v1/users', { username, password: 'password-123', role })).status).toBe(201);
    const res = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'password-123' }),
    });
    cookies.set(role, (res.headers.get('set-cookie') ?? '').split(';')[0]!);
  }
});
afterAll(async () => {
  await server?.close();
});

async function call(c: Case, cookie: string): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}${c.path}`, {
    method: c.method,
    headers: { cookie, ...(c.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: c.body === undefined ? undefined : JSON.stringify(c.body),
    signal: controller.signal,
  });
  controller.abort(); // the event stream never ends by itself
  return res.status;
}

describe('role × route', () => {
  it('covers every non-public route of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, object> };
    const documented = Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const covered = [...CASES.map((c) => `${c.method} ${c.openapiPath ?? c.path}`), ...PUBLIC];
    expect(documented.filter((r) => !covered.includes(r))).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.method} ${c.path} needs ${c.permission}`, async () => {
      for (const role of ROLES) {
        const status = await call(c, cookies.get(role)!);
        const allowed = (PERMISSIONS[c.permission] as readonly Role[]).includes(role);
        if (allowed) expect(status, `${role} should be allowed`).not.toBe(403);
        else expect(status, `${role} should be refused`).toBe(403);
        expect(status).not.toBe(401);
      }
    });
  }

  it('an editor may broadcast but not in emergency; an approver may', async () => {
    const editor = await fetch(`${server.url}/api/v1/broadcasts`, {
      method: 'POST',
      headers: { cookie: cookies.get('editor')!, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Lũ về', zones: 'all', priority: 'emergency' }),
    });
    expect(editor.status).toBe(403);
    expect(await editor.json()).toMatchObject({ field: 'priority' });
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
