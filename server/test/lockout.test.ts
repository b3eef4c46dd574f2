/**
 * Account lock-out: 5 wrong passwords for one username within 15 minutes lock
 * it for 15 minutes, even for the right password; the reply says so in
 * Vietnamese and English with the minutes left; a successful login resets the
 * count; an admin can unlock; the lock survives a restart; every lock-out and
 * unlock is in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDb } from '../src/db/sql';
import { LoginLockout, lockedMessage } from '../src/auth/lockout';
import { startTestServer, type TestServer } from './helpers';
import { engineCases } from './engine-cases';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function loginAs(server: TestServer, username: string, password: string) {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { message: string },
  };
}

/** The counters on each engine the server can use (PostgreSQL when installed). */
const engines = engineCases('the lock-out counters on PostgreSQL');

describe.each(engines)('LoginLockout on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let lockout: LoginLockout;
  beforeAll(async () => {
    ({ target, close } = await open());
    lockout = new LoginLockout(target, { maxFailures: 3, windowMs: 60_000, lockMs: 120_000 });
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  it('locks on the Nth failure inside the window, for the lock time, case-insensitively', async () => {
    const t = 1_000_000;
    expect(await lockout.fail('Lan', t)).toEqual({ failures: 1, lockedUntil: null });
    expect(await lockout.fail('lan', t + 1000)).toEqual({ failures: 2, lockedUntil: null });
    expect(await lockout.lockedUntil('lan', t + 1000)).toBeNull();
    expect(await lockout.fail('LAN', t + 2000)).toEqual({ failures: 3, lockedUntil: t + 2000 + 120_000 });
    expect(await lockout.lockedUntil('lan', t + 3000)).toBe(t + 122_000);
    // Failures while locked neither extend nor re-announce the lock.
    expect((await lockout.fail('lan', t + 4000)).lockedUntil).toBeNull();
    expect(await lockout.lockedUntil('lan', t + 122_001)).toBeNull();
    // After the lock the count starts again.
    expect(await lockout.fail('lan', t + 130_000)).toEqual({ failures: 1, lockedUntil: null });
  });

  it('forgets failures older than the window', async () => {
    const t = 5_000_000;
    await lockout.fail('minh', t);
    await lockout.fail('minh', t + 1000);
    expect(await lockout.fail('minh', t + 61_001)).toEqual({ failures: 1, lockedUntil: null });
  });

  it('counts every one of many failures at once, and announces the lock exactly once', async () => {
    const t = 9_000_000;
    const many = new LoginLockout(target, { maxFailures: 20, windowMs: 60_000, lockMs: 120_000 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => many.fail('hoa', t + i)));
    expect(results.filter((r) => r.lockedUntil !== null)).toHaveLength(1);
    expect(
      results
        .map((r) => r.failures)
        .filter((f) => f < 20)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(await many.lockedUntil('hoa', t + 100)).not.toBeNull();
  });

  it('says how many minutes remain, in Vietnamese and English', () => {
    const message = lockedMessage(10 * 60_000 + 1, 0);
    expect(message).toMatch(/^Tài khoản tạm khóa .* thử lại sau 11 phút/);
    expect(message).toMatch(/Account locked .* try again in 11 minute\(s\)/);
    expect(lockedMessage(5_000, 0)).toMatch(/sau 1 phút/);
  });
});

describe('login lock-out through the API', () => {
  it('locks after 5 wrong passwords even for the right one, survives a restart, and an admin unlocks', async () => {
    const server = await startTestServer();
    servers.push(server);
    expect(
      (await server.api('POST', '/api/v1/users', { username: 'canbo', password: 'right-password', role: 'editor' }))
        .status,
    ).toBe(201);

    // A success resets the count: 4 failures, a success, 4 failures → still not locked.
    for (let i = 0; i < 4; i++) expect((await loginAs(server, 'canbo', 'wrong')).status).toBe(401);
    expect((await loginAs(server, 'canbo', 'right-password')).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await loginAs(server, 'canbo', 'wrong')).status).toBe(401);
    expect((await loginAs(server, 'canbo', 'right-password')).status).toBe(200);

    for (let i = 0; i < 4; i++) expect((await loginAs(server, 'canbo', 'wrong')).status).toBe(401);
    const fifth = await loginAs(server, 'CanBo', 'wrong');
    expect(fifth.status).toBe(429);
    expect(fifth.body.message).toMatch(/thử lại sau 15 phút .* try again in 15 minute\(s\)/);
    const right = await loginAs(server, 'canbo', 'right-password');
    expect(right.status).toBe(429);
    expect(Number(right.retryAfter)).toBeGreaterThan(14 * 60);
    expect(Number(right.retryAfter)).toBeLessThanOrEqual(15 * 60);
    // Another account from the same address is not affected.
    expect((await loginAs(server, 'admin', 'test-admin-password')).status).toBe(200);

    const listed = await server.api<{ username: string; lockedUntil: string | null }[]>('GET', '/api/v1/users');
    expect(listed.body.find((u) => u.username === 'canbo')?.lockedUntil).toMatch(/^\d{4}-/);
    expect(listed.body.find((u) => u.username === 'admin')?.lockedUntil).toBeNull();

    // A restart on the same data keeps the lock.
    await server.close();
    const again = await startTestServer({ LOAXA_DATA: server.dataDir });
    servers.push(again);
    expect((await loginAs(again, 'canbo', 'right-password')).status).toBe(429);

    // Only an admin may unlock; an unknown user is a 404 naming the field.
    expect((await again.api('POST', '/api/v1/users/nobody/unlock')).status).toBe(404);
    expect((await again.api('POST', '/api/v1/users/canbo/unlock')).status).toBe(204);
    expect((await loginAs(again, 'canbo', 'right-password')).status).toBe(200);

    const audit = await again.api<{ actor: string; action: string; target: string | null; detail: unknown }[]>(
      'GET',
      '/api/v1/audit',
    );
    const actions = audit.body.map((e) => `${e.actor} ${e.action} ${e.target ?? ''}`.trim());
    expect(actions.filter((a) => a.toLowerCase() === 'system user.lockout canbo')).toHaveLength(1);
    expect(actions).toContain('admin user.unlock canbo');
    expect(audit.body.find((e) => e.action === 'user.unlock')?.detail).toEqual({ wasLocked: true });
    expect(actions.filter((a) => a === 'canbo login.refused').length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('an admin’s password reset also lifts the lock', async () => {
    const server = await startTestServer();
    servers.push(server);
    await server.api('POST', '/api/v1/users', { username: 'lanh-dao', password: 'right-password', role: 'approver' });
    for (let i = 0; i < 5; i++) await loginAs(server, 'lanh-dao', 'wrong');
    expect((await loginAs(server, 'lanh-dao', 'right-password')).status).toBe(429);
    expect((await server.api('PUT', '/api/v1/users/lanh-dao/password', { password: 'brand-new-pass' })).status).toBe(
      204,
    );
    expect((await loginAs(server, 'lanh-dao', 'brand-new-pass')).status).toBe(200);
  });
});
