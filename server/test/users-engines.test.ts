/**
 * Accounts, sessions and communes (auth/users.ts, tenancy/communes.ts) on each engine the server
 * can use: scoping by commune, the lock-out shown in the list, case-insensitive commune look-up,
 * sessions, the last-administrator rule (also when two admins disable each other at once) and the
 * compare-and-set on a commune's revision (also when two edits race).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/auth/passwords';
import { UserChangeError, UserService } from '../src/auth/users';
import type { SqlDb } from '../src/db/sql';
import { CommuneError, CommuneService } from '../src/tenancy/communes';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const A = 'default';
const B = 'xa-ben-song';
const PASSWORD = 'password-123';
const DAY = 24 * 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The error a promise is refused with (a resolved promise fails the test). */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

async function communeRefusal(promise: Promise<unknown>) {
  const err = await refusal(promise);
  expect(err).toBeInstanceOf(CommuneError);
  const { statusCode, field, message, extra } = err as CommuneError;
  return { statusCode, field, message, ...(extra ? { current: extra.current } : {}) };
}

async function userRefusal(promise: Promise<unknown>) {
  const err = await refusal(promise);
  expect(err).toBeInstanceOf(UserChangeError);
  const { field, message } = err as UserChangeError;
  return { field, message };
}

describe.each(engineCases('users and communes on PostgreSQL'))('users and communes on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let communes: CommuneService;
  let users: UserService;

  beforeAll(async () => {
    ({ target, close } = await open());
    communes = await CommuneService.open(target);
    users = new UserService(target);
  });

  afterAll(async () => {
    await close?.();
  });

  describe('communes', () => {
    it('starts with the default commune, which a province user writes to without naming it', async () => {
      expect(communes.defaultId()).toBe('default');
      const all = await communes.list(PROVINCE);
      expect(all).toEqual([{ id: 'default', name: 'Xã', geocodes: [], revision: 1, createdAt: expect.any(String) }]);
      expect(await communes.forWrite(PROVINCE, undefined)).toBe('default');
    });

    it('creates communes with ids made from their names, unique; refuses a taken or empty name', async () => {
      expect(await communes.create('  Xã Bên Sông ')).toEqual({
        id: B,
        name: 'Xã Bên Sông',
        geocodes: [],
        revision: 1,
        createdAt: expect.any(String),
      });
      // "Xã" is a prefix of "Xã Bên Sông": first under any collation.
      expect((await communes.list(PROVINCE)).map((c) => c.id)).toEqual([A, B]);
      // Another name with the same slug gets the next free id.
      expect((await communes.create('Xa Ben Song')).id).toBe('xa-ben-song-2');
      expect(await communeRefusal(communes.create('Xã Bên Sông'))).toEqual({
        statusCode: 409,
        field: 'name',
        message: 'name: a commune named "Xã Bên Sông" already exists',
      });
      expect(await communeRefusal(communes.create('   '))).toEqual({
        statusCode: 400,
        field: 'name',
        message: 'name: give the commune a name',
      });
      expect((await communes.list(PROVINCE)).map((c) => c.id).sort()).toEqual([A, B, 'xa-ben-song-2']);
    });

    it('shows a commune user their own commune only', async () => {
      expect((await communes.list(communeScope(B))).map((c) => c.id)).toEqual([B]);
      expect((await communes.get(PROVINCE, B))?.name).toBe('Xã Bên Sông');
      expect(await communes.get(communeScope(A), B)).toBeNull();
      expect(await communes.get(PROVINCE, 'nowhere')).toBeNull();
    });

    it('updates by compare-and-set on the revision; 409 with the current commune when it moved on', async () => {
      const renamed = await communes.update(B, { name: 'Xã Bên Sông Mới', geocodes: ['MA_XA=10'] }, 1);
      expect(renamed).toMatchObject({ id: B, name: 'Xã Bên Sông Mới', geocodes: ['MA_XA=10'], revision: 2 });
      expect(await communeRefusal(communes.update(B, { name: 'Xã Khác' }, 1))).toEqual({
        statusCode: 409,
        field: 'revision',
        message: 'revision: someone changed this commune first (now revision 2)',
        current: { id: B, name: 'Xã Bên Sông Mới', geocodes: ['MA_XA=10'], revision: 2, createdAt: renamed.createdAt },
      });
      expect(await communeRefusal(communes.update(B, { name: 'Xã' }, 2))).toEqual({
        statusCode: 409,
        field: 'name',
        message: 'name: a commune named "Xã" already exists',
      });
      expect(await communeRefusal(communes.update('nowhere', { name: 'Xã Khác' }, 1))).toEqual({
        statusCode: 404,
        field: 'id',
        message: 'no commune with id nowhere',
      });
      expect(await communeRefusal(communes.update(B, { name: ' ' }, 2))).toEqual({
        statusCode: 400,
        field: 'name',
        message: 'name: give the commune a name',
      });
      // Only the codes: the name stays.
      expect(await communes.update(B, { geocodes: [] }, 2)).toMatchObject({
        name: 'Xã Bên Sông Mới',
        geocodes: [],
        revision: 3,
      });
    });

    it('lets one of two edits at the same revision through and answers the other 409', async () => {
      // PostgreSQL: connections open for both first, so that the two run side by side.
      await Promise.all([1, 2, 3, 4].map(() => communes.list(PROVINCE)));
      const results = await Promise.allSettled([
        communes.update(B, { name: 'Xã Bên Sông' }, 3),
        communes.update(B, { geocodes: ['MA_XA=11'] }, 3),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const err = (lost[0] as PromiseRejectedResult).reason as CommuneError;
      expect(err).toBeInstanceOf(CommuneError);
      expect([err.statusCode, err.field, err.extra?.current.revision]).toEqual([409, 'revision', 4]);
      expect((await communes.get(PROVINCE, B))?.revision).toBe(4);
    });

    it('resolves the commune of a write and of a list within the scope', async () => {
      expect(await communes.forWrite(communeScope(A), undefined)).toBe(A);
      expect(await communes.forWrite(communeScope(A), A)).toBe(A);
      expect(await communeRefusal(communes.forWrite(communeScope(A), B))).toEqual({
        statusCode: 404,
        field: 'commune',
        message: `commune: no commune with id ${B}`,
      });
      expect(await communes.forWrite(PROVINCE, B)).toBe(B);
      expect(await communeRefusal(communes.forWrite(PROVINCE, 'nowhere'))).toMatchObject({
        statusCode: 404,
        field: 'commune',
      });
      const none = await communeRefusal(communes.forWrite(PROVINCE, undefined));
      expect(none).toMatchObject({ statusCode: 400, field: 'commune' });
      expect(none.message).toMatch(
        /^commune: required for a province user when the province has 3 communes \(one of: /,
      );
      for (const id of [A, B, 'xa-ben-song-2']) expect(none.message).toContain(id);

      expect(await communes.listScope(PROVINCE, undefined)).toBe(PROVINCE);
      expect(await communes.listScope(PROVINCE, B)).toEqual({ communeId: B });
      expect(await communes.listScope(communeScope(A), A)).toEqual({ communeId: A });
      expect(await communeRefusal(communes.listScope(communeScope(A), B))).toMatchObject({
        statusCode: 404,
        field: 'commune',
      });
    });
  });

  describe('users', () => {
    it('creates the first administrator once, with a generated password to change', async () => {
      expect(await users.count()).toBe(0);
      const first = await users.ensureAdmin(undefined, A);
      expect(first.created).toBe(true);
      expect(first.generated).toEqual(expect.any(String));
      expect(await users.checkLogin('admin', first.generated!)).toEqual({
        user: { username: 'admin', role: 'admin', mustChangePassword: true, communeId: A },
      });
      expect(await users.ensureAdmin('another-password', A)).toEqual({ created: false, generated: null });
      expect(await users.count()).toBe(1);
    });

    it('creates a province administrator under the first free name, once', async () => {
      await users.create('tinh', PASSWORD, 'editor', { communeId: B });
      expect(await users.ensureProvinceAdmin(PASSWORD)).toEqual({ username: 'tinh-2', generated: null });
      expect(await users.ensureProvinceAdmin(PASSWORD)).toBeNull();
      expect(await users.checkLogin('tinh-2', PASSWORD)).toEqual({
        user: { username: 'tinh-2', role: 'admin', mustChangePassword: false, communeId: null },
      });
      await users.create('binh', PASSWORD, 'admin', { communeId: B });
      await users.create('an', PASSWORD, 'viewer', { communeId: A });
      expect(await users.count()).toBe(5);
      expect(await users.exists('binh')).toBe(true);
      expect(await users.exists('BINH')).toBe(false);
    });

    it('lists the accounts of the scope, with a running lock-out', async () => {
      const now = Date.now();
      await target.db
        .insertInto('login_failures')
        .values([
          { username: 'binh', failures: 5, first_failure_at: now - 60_000, locked_until: now + 600_000 },
          // A lock that has ended shows as none.
          { username: 'an', failures: 5, first_failure_at: now - 3_600_000, locked_until: now - 1_000 },
        ])
        .execute();
      const all = await users.list(PROVINCE, now);
      expect(all.map((u) => u.username)).toEqual(['admin', 'an', 'binh', 'tinh', 'tinh-2']);
      expect(all.find((u) => u.username === 'binh')).toEqual({
        username: 'binh',
        role: 'admin',
        mustChangePassword: false,
        communeId: B,
        createdAt: expect.any(String),
        disabled: false,
        lockedUntil: iso(now + 600_000),
      });
      expect(all.find((u) => u.username === 'an')?.lockedUntil).toBeNull();
      expect((await users.list(communeScope(A), now)).map((u) => u.username)).toEqual(['admin', 'an']);
      expect((await users.list(communeScope(B), now)).map((u) => u.username)).toEqual(['binh', 'tinh']);
      expect((await users.get(PROVINCE, 'tinh-2', now))?.communeId).toBeNull();
      expect(await users.get(communeScope(A), 'binh', now)).toBeNull();
      expect(await users.get(PROVINCE, 'nobody', now)).toBeNull();
      await target.db.deleteFrom('login_failures').execute();
    });

    it('tells the commune of a name, whatever its case', async () => {
      expect(await users.communeOf('binh')).toBe(B);
      expect(await users.communeOf('BINH')).toBe(B);
      expect(await users.communeOf('An')).toBe(A);
      expect(await users.communeOf('tinh-2')).toBeNull();
      expect(await users.communeOf('nobody')).toBeNull();
    });

    it('checks logins: a disabled account only once the password is right', async () => {
      const binh = { username: 'binh', role: 'admin', mustChangePassword: false, communeId: B };
      expect(await users.checkLogin('binh', PASSWORD)).toEqual({ user: binh });
      expect(await users.authenticate('binh', PASSWORD)).toEqual(binh);
      expect(await users.checkLogin('binh', 'wrong-password')).toEqual({ refused: 'credentials' });
      expect(await users.checkLogin('nobody', PASSWORD)).toEqual({ refused: 'credentials' });
      expect(await users.authenticate('nobody', PASSWORD)).toBeNull();
    });

    it('starts, finds, ends and purges sessions', async () => {
      const before = Date.now();
      const session = await users.startSession('binh');
      expect(session.expiresAt).toBeGreaterThanOrEqual(before + 7 * DAY);
      expect(session.expiresAt).toBeLessThanOrEqual(Date.now() + 7 * DAY);
      expect(await users.userForSession(session.token)).toEqual({
        username: 'binh',
        role: 'admin',
        mustChangePassword: false,
        communeId: B,
      });
      expect(await users.userForSession('not-a-token')).toBeNull();
      await target.db
        .insertInto('sessions')
        .values({
          token_hash: hashToken('stale'),
          username: 'an',
          created_at: before - 8 * DAY,
          expires_at: before - DAY,
        })
        .execute();
      expect(await users.userForSession('stale')).toBeNull();
      expect(await users.purgeExpiredSessions(before)).toBe(1);
      expect(await users.purgeExpiredSessions(before)).toBe(0);
      await users.endSession(session.token);
      expect(await users.userForSession(session.token)).toBeNull();
    });

    it('sets a password, ending the sessions of the account', async () => {
      const session = await users.startSession('an');
      expect(await users.setPassword('an', 'new-password-1', { mustChange: true })).toBe(true);
      expect(await users.userForSession(session.token)).toBeNull();
      expect(await users.checkLogin('an', PASSWORD)).toEqual({ refused: 'credentials' });
      expect(await users.checkLogin('an', 'new-password-1')).toEqual({
        user: { username: 'an', role: 'viewer', mustChangePassword: true, communeId: A },
      });
      expect(await users.setPassword('nobody', 'new-password-1', { mustChange: false })).toBe(false);
    });

    it('changes roles within the scope and keeps the rules', async () => {
      const changed = await users.update(PROVINCE, 'tinh-2', 'an', { role: 'editor' });
      expect([changed?.before.role, changed?.after.role]).toEqual(['viewer', 'editor']);
      expect(await users.update(communeScope(B), 'binh', 'an', { role: 'viewer' })).toBeNull();
      expect(await users.update(PROVINCE, 'tinh-2', 'nobody', { role: 'viewer' })).toBeNull();
      expect(await userRefusal(users.update(PROVINCE, 'binh', 'binh', { disabled: true }))).toEqual({
        field: 'disabled',
        message: 'disabled: you cannot disable your own account',
      });
      expect(await userRefusal(users.update(PROVINCE, 'binh', 'tinh-2', { role: 'technician' }))).toEqual({
        field: 'role',
        message: 'role: a province user is admin, approver, editor, viewer',
      });
      expect(await userRefusal(users.update(PROVINCE, 'binh', 'tinh-2', { disabled: true }))).toEqual({
        field: 'disabled',
        message: 'disabled: tinh-2 is the last enabled administrator of the province; make another administrator first',
      });
      // The admin of the other commune does not count for this one.
      expect(await userRefusal(users.update(communeScope(B), 'tinh', 'binh', { role: 'editor' }))).toEqual({
        field: 'role',
        message: 'role: binh is the last enabled administrator of the commune; make another administrator first',
      });
      expect((await users.get(PROVINCE, 'binh'))?.role).toBe('admin');
    });

    it('disabling ends the sessions of the account and refuses its logins', async () => {
      await users.update(communeScope(B), 'binh', 'tinh', { role: 'admin' });
      const session = await users.startSession('binh');
      const result = await users.update(communeScope(B), 'tinh', 'binh', { disabled: true });
      expect([result?.before.disabled, result?.after.disabled]).toEqual([false, true]);
      expect(await users.userForSession(session.token)).toBeNull();
      expect(await users.checkLogin('binh', PASSWORD)).toEqual({ refused: 'disabled' });
      expect((await users.update(communeScope(B), 'tinh', 'binh', { disabled: false }))?.after.disabled).toBe(false);
    });

    it('leaves one administrator when the last two disable each other at once', async () => {
      // binh and tinh are the enabled admins of B. PostgreSQL: connections open for both first, so
      // that the two run side by side rather than one after the other.
      await Promise.all([1, 2, 3, 4].map(() => users.count()));
      // A few rounds: one round may happen to run the two one after the other.
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled([
          users.update(PROVINCE, 'binh', 'tinh', { disabled: true }),
          users.update(PROVINCE, 'tinh', 'binh', { disabled: true }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.filter((r) => r.status === 'rejected');
        expect(lost).toHaveLength(1);
        const err = (lost[0] as PromiseRejectedResult).reason as UserChangeError;
        expect(err).toBeInstanceOf(UserChangeError);
        expect(err.message).toMatch(/is the last enabled administrator of the commune/);
        const admins = (await users.list(communeScope(B))).filter((u) => u.role === 'admin' && !u.disabled);
        expect(admins).toHaveLength(1);
        // The one disabled is enabled again by the other for the next round.
        const disabled = admins[0]!.username === 'binh' ? 'tinh' : 'binh';
        await users.update(PROVINCE, admins[0]!.username, disabled, { disabled: false });
      }
    });

    it('prefers the exact name when two accounts differ only in case', async () => {
      await users.create('Lan', PASSWORD, 'viewer', { communeId: A });
      await users.create('lan', PASSWORD, 'viewer', { communeId: B });
      expect(await users.communeOf('Lan')).toBe(A);
      expect(await users.communeOf('lan')).toBe(B);
      expect([A, B]).toContain(await users.communeOf('LAN'));
    });
  });
});
