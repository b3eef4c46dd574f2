/** The HTTP API's contract: auth, validation errors that name the field, zones, health, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('sessions', () => {
  it('health is public; everything else needs a session', async () => {
    const health = await fetch(`${server.url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', devices: 0 });
    for (const path of ['/api/v1/devices', '/api/v1/zones', '/api/v1/session', '/api/v1/events']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ statusCode: 401, message: expect.stringMatching(/log in/) });
    }
  });

  it('sets an httpOnly SameSite cookie on login and reports the user', async () => {
    const res = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'test-admin-password' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/loaxa_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie, 'no Secure flag over plain HTTP (see e2e/tls.test.ts for HTTPS)').not.toMatch(/;\s*Secure/i);
    expect(await server.api('GET', '/api/v1/session')).toEqual({
      status: 200,
      body: { user: { username: 'admin', role: 'admin', communeId: 'default', mustChangePassword: false } },
    });
  });

  it('refuses a wrong password, then rate-limits repeated failures', async () => {
    const attempt = () =>
      fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'mallory', password: 'guess' }),
      });
    const first = await attempt();
    expect(first.status).toBe(401);
    expect(await first.json()).toMatchObject({ message: 'wrong username or password', field: 'password' });
    for (let i = 0; i < 4; i++) await attempt();
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('logs out', async () => {
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'test-admin-password' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await fetch(`${server.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } })).status).toBe(204);
    expect((await fetch(`${server.url}/api/v1/session`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('validation errors name the field', () => {
  it.each([
    [{ password: 'x' }, 'username', /username: is required/],
    [{ username: 'admin', password: 'x', extra: 1 }, 'extra', /extra: is not a known field/],
    [{ username: '', password: 'x' }, 'username', /username: .*fewer than 1/],
  ])('POST /session %j → 400 on %s', async (body, field, message) => {
    const res = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { field: string; message: string };
    expect(json.field).toBe(field);
    expect(json.message).toMatch(message);
  });

  it('broadcast input is checked before any work', async () => {
    const cases: [unknown, string][] = [
      [{ zones: 'all' }, 'text'],
      [{ text: '   ', zones: 'all' }, 'text'],
      [{ text: 'x', zones: [] }, 'zones'],
      [{ text: 'x', zones: 'all', priority: 'urgent' }, 'priority'],
      [{ text: 'x', zones: 'all', at: 'tomorrow' }, 'at'],
      [{ text: 'x'.repeat(5001), zones: 'all' }, 'text'],
    ];
    for (const [body, field] of cases) {
      const res = await server.api<{ field: string; message: string }>('POST', '/api/v1/broadcasts', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.field, JSON.stringify(res.body)).toBe(field);
    }
  });

  it('a broadcast to an unknown zone, to the past, or to no devices is refused with a reason', async () => {
    const unknown = await server.api<{ field: string; message: string }>('POST', '/api/v1/broadcasts', {
      text: 'x',
      zones: ['nowhere'],
    });
    expect(unknown).toMatchObject({ status: 400, body: { field: 'zones', message: expect.stringMatching(/nowhere/) } });
    const past = await server.api('POST', '/api/v1/broadcasts', {
      text: 'x',
      zones: 'all',
      at: new Date(Date.now() - 3600_000).toISOString(),
    });
    expect(past).toMatchObject({ status: 400, body: { field: 'at' } });
    const empty = await server.api('POST', '/api/v1/broadcasts', { text: 'x', zones: 'all' });
    expect(empty).toMatchObject({
      status: 400,
      body: { field: 'zones', message: expect.stringMatching(/no loudspeakers/) },
    });
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const res = await fetch(`${server.url}/api/v1/zones`, {
      method: 'POST',
      headers: { cookie: server.cookie, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('stack');
  });
});

describe('zones and devices', () => {
  it('creates zones with ids from Vietnamese names and refuses duplicates', async () => {
    const a = await server.api<{ id: string; name: string }>('POST', '/api/v1/zones', { name: 'Thôn Đồng Tâm' });
    expect(a).toEqual({
      status: 201,
      // A new zone hears notices in Vietnamese until the commune lists other languages.
      body: { id: 'thon-dong-tam', name: 'Thôn Đồng Tâm', communeId: 'default', languages: ['vi'] },
    });
    const dup = await server.api('POST', '/api/v1/zones', { name: 'Thôn Đồng Tâm' });
    expect(dup).toMatchObject({ status: 409, body: { field: 'name' } });
    const zones = await server.api<{ id: string; deviceIds: string[] }[]>('GET', '/api/v1/zones');
    expect(zones.body).toContainEqual({
      id: 'thon-dong-tam',
      name: 'Thôn Đồng Tâm',
      communeId: 'default',
      languages: ['vi'],
      geocodes: [],
      area: null,
      deviceIds: [],
    });
  });

  it('lists devices with zones and online state', async () => {
    await server.services.registry.createDevice({
      communeId: 'default',
      id: 'loa-x',
      name: 'Loa X',
      zones: ['thon-dong-tam'],
    });
    const devices = await server.api<unknown[]>('GET', '/api/v1/devices');
    expect(devices.body).toContainEqual(
      expect.objectContaining({
        id: 'loa-x',
        name: 'Loa X',
        communeId: 'default',
        zones: ['thon-dong-tam'],
        online: false,
        lastSeen: null,
      }),
    );
  });

  it('unknown occurrence is a 404 naming it', async () => {
    const res = await server.api('GET', '/api/v1/occurrences/occ-nope');
    expect(res).toMatchObject({ status: 404, body: { field: 'id' } });
  });
});

describe('OpenAPI and media', () => {
  it('describes the public API', async () => {
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/api/v1/session', 'post'],
      ['/api/v1/devices', 'get'],
      ['/api/v1/zones', 'get'],
      ['/api/v1/zones', 'post'],
      ['/api/v1/broadcasts', 'post'],
      ['/api/v1/occurrences/{id}', 'get'],
      ['/api/v1/health', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });

  it('media needs credentials and a well-formed name', async () => {
    const sha = 'b'.repeat(64);
    expect((await fetch(`${server.url}/media/${sha}.ogg`)).status).toBe(401);
    expect((await fetch(`${server.url}/media/${sha}.ogg`, { headers: { cookie: server.cookie } })).status).toBe(404);
    expect((await fetch(`${server.url}/media/../../etc/passwd`, { headers: { cookie: server.cookie } })).status).toBe(
      404,
    );
    expect((await fetch(`${server.url}/media/${sha}.wav`, { headers: { cookie: server.cookie } })).status).toBe(400);
  });
});
