/**
 * A password its owner did not choose — generated at the first start, or reset
 * by an administrator — must be replaced at the next sign-in: until then the
 * session may read itself and change the password, and every other call is a
 * 403 saying why. The change itself refuses a wrong current password, a short
 * one and the same one again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, startServer, type RunningServer } from '../src/index';
import { createLogger } from '../src/logger';
import { startTestServer, type TestServer } from './helpers';
import { removeAtExit } from './remove-at-exit';

const running: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const server of running) await server.close();
});

interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  cookie: string | null;
}

async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  url: string,
  options: { cookie?: string; body?: unknown } = {},
): Promise<Reply<T>> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, cookie: setCookie?.split(';')[0] ?? null };
}

const login = (base: string, username: string, password: string) =>
  call<{ user: { mustChangePassword: boolean } }>(base, 'POST', '/api/v1/session', { body: { username, password } });

/** A first start with no LOAXA_ADMIN_PASSWORD: the server generates the admin's. */
async function firstStartWithoutPassword(dataDir?: string): Promise<RunningServer & { dataDir: string }> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-mustchange-'));
  removeAtExit(dir);
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: dir,
    LOAXA_DEMO: '0',
    LOG_LEVEL: 'silent',
  });
  const server = await startServer(config, { logger: createLogger('silent') });
  running.push(server);
  return { ...server, dataDir: dir };
}

describe('the generated admin password', () => {
  it('opens only the password change until it is replaced', async () => {
    const server = await firstStartWithoutPassword();
    const generated = server.generatedAdminPassword!;
    expect(generated).toMatch(/^\S{8,}$/);

    const signedIn = await login(server.url, 'admin', generated);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toEqual({
      username: 'admin',
      role: 'admin',
      mustChangePassword: true,
      communeId: 'default',
    });
    const cookie = signedIn.cookie!;

    expect((await call(server.url, 'GET', '/api/v1/session', { cookie })).body).toEqual({
      user: { username: 'admin', role: 'admin', mustChangePassword: true, communeId: 'default' },
    });
    for (const [method, url, body] of [
      ['GET', '/api/v1/devices', undefined],
      ['GET', '/api/v1/users', undefined],
      ['GET', '/api/v1/events', undefined],
      ['POST', '/api/v1/zones', { name: 'Thôn Một' }],
      ['POST', '/api/v1/users', { username: 'ke-gian', password: 'ke-gian-pass', role: 'admin' }],
    ] as const) {
      const refused = await call(server.url, method, url, { cookie, ...(body ? { body } : {}) });
      expect({ method, url, status: refused.status, body: refused.body }).toMatchObject({
        method,
        url,
        status: 403,
        body: { code: 'password-change-required', message: expect.stringMatching(/password change required/) },
      });
    }

    // The change: each refusal names its field.
    const change = (currentPassword: string, newPassword: string) =>
      call(server.url, 'PUT', '/api/v1/session/password', { cookie, body: { currentPassword, newPassword } });
    expect(await change('not-the-password', 'my-own-password-1')).toMatchObject({
      status: 403,
      body: { field: 'currentPassword', message: 'the current password is wrong' },
    });
    expect(await change(generated, 'short')).toMatchObject({ status: 400, body: { field: 'newPassword' } });
    expect(await change(generated, generated)).toMatchObject({
      status: 400,
      body: { field: 'newPassword', message: expect.stringMatching(/same as the current one/) },
    });
    const changed = await change(generated, 'my-own-password-1');
    expect(changed.status).toBe(204);

    // The session the change hands back does everything; the old one has ended.
    const renewed = changed.cookie!;
    expect((await call(server.url, 'GET', '/api/v1/devices', { cookie: renewed })).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/v1/session', { cookie: renewed })).body).toMatchObject({
      user: { mustChangePassword: false },
    });
    expect((await call(server.url, 'GET', '/api/v1/session', { cookie })).status).toBe(401);
    expect((await login(server.url, 'admin', generated)).status).toBe(401);

    // Stored: a restart on the same data neither generates another password nor asks again.
    await server.close();
    const again = await firstStartWithoutPassword(server.dataDir);
    expect(again.generatedAdminPassword).toBeNull();
    const back = await login(again.url, 'admin', 'my-own-password-1');
    expect(back.body.user.mustChangePassword).toBe(false);
  });

  it('is not asked for when LOAXA_ADMIN_PASSWORD chose it', async () => {
    const server: TestServer = await startTestServer();
    running.push(server);
    expect(server.generatedAdminPassword).toBeNull();
    expect((await server.api('GET', '/api/v1/devices')).status).toBe(200);
  });
});

describe('a password reset by an administrator', () => {
  it('must be replaced by its owner at the next sign-in; the admin’s own reset is not', async () => {
    const server: TestServer = await startTestServer();
    running.push(server);
    expect(
      (await server.api('POST', '/api/v1/users', { username: 'can-bo', password: 'chosen-pass-1', role: 'editor' }))
        .status,
    ).toBe(201);
    const listed = async () =>
      (await server.api<{ username: string; mustChangePassword: boolean }[]>('GET', '/api/v1/users')).body.map(
        (u) => `${u.username}:${u.mustChangePassword}`,
      );
    expect(await listed()).toEqual(['admin:false', 'can-bo:false']);
    expect((await login(server.url, 'can-bo', 'chosen-pass-1')).body.user.mustChangePassword).toBe(false);

    expect((await server.api('PUT', '/api/v1/users/can-bo/password', { password: 'told-by-phone-1' })).status).toBe(
      204,
    );
    expect(await listed()).toEqual(['admin:false', 'can-bo:true']);
    const signedIn = await login(server.url, 'can-bo', 'told-by-phone-1');
    expect(signedIn.body.user.mustChangePassword).toBe(true);
    expect(await call(server.url, 'GET', '/api/v1/content', { cookie: signedIn.cookie! })).toMatchObject({
      status: 403,
      body: { code: 'password-change-required' },
    });
    const changed = await call(server.url, 'PUT', '/api/v1/session/password', {
      cookie: signedIn.cookie!,
      body: { currentPassword: 'told-by-phone-1', newPassword: 'only-i-know-1' },
    });
    expect(changed.status).toBe(204);
    expect((await call(server.url, 'GET', '/api/v1/content', { cookie: changed.cookie! })).status).toBe(200);
    expect(await listed()).toEqual(['admin:false', 'can-bo:false']);

    // An administrator who resets their own password chose it themselves.
    expect((await server.api('PUT', '/api/v1/users/admin/password', { password: 'admin-new-pass-1' })).status).toBe(
      204,
    );
    expect((await login(server.url, 'admin', 'admin-new-pass-1')).body.user.mustChangePassword).toBe(false);
  });
});
