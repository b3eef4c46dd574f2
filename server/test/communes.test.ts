/**
 * Communes and their users: the province administrator creates communes and
 * their users; a commune administrator manages only their own commune's
 * accounts and never learns of another commune's or the province's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { communeWithUser, signIn, signInProvince, startTestServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

interface CommuneReply {
  id: string;
  name: string;
  revision: number;
}
interface UserReply {
  username: string;
  role: string;
  communeId: string | null;
}

describe('communes', () => {
  it('starts as a province of one commune, whose administrator is `admin`', async () => {
    const session = await server.api<{ user: UserReply }>('GET', '/api/v1/session');
    expect(session.body.user).toMatchObject({ username: 'admin', role: 'admin', communeId: 'default' });
    const province = await signInProvince(server);
    const me = await province<{ user: UserReply }>('GET', '/api/v1/session');
    expect(me.body.user).toMatchObject({ username: 'tinh', role: 'admin', communeId: null });
    expect((await province<CommuneReply[]>('GET', '/api/v1/communes')).body.map((c) => c.id)).toContain('default');
  });

  it('lets the province administrator create a commune: 201 {id, name}, the id made from the name', async () => {
    const province = await signInProvince(server);
    const created = await province<CommuneReply>('POST', '/api/v1/communes', { name: 'Xã Tân Lập' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'xa-tan-lap', name: 'Xã Tân Lập' });
    const again = await province<{ field: string }>('POST', '/api/v1/communes', { name: 'Xã Tân Lập' });
    expect(again.status).toBe(409);
    expect(again.body.field).toBe('name');
    const blank = await province<{ field: string }>('POST', '/api/v1/communes', { name: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.field).toBe('name');
    // A commune administrator may not.
    expect((await server.api('POST', '/api/v1/communes', { name: 'Xã Tự Lập' })).status).toBe(403);
  });

  it('renames with compare-and-set: the second writer gets 409 with the commune as it is now', async () => {
    const province = await signInProvince(server);
    const created = (await province<CommuneReply>('POST', '/api/v1/communes', { name: 'Xã Đổi Tên' })).body;
    const first = await province<CommuneReply>('PATCH', `/api/v1/communes/${created.id}`, {
      name: 'Xã Đổi Tên Mới',
      revision: created.revision,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ name: 'Xã Đổi Tên Mới', revision: created.revision + 1 });
    const second = await province<{ current: CommuneReply; field: string }>('PATCH', `/api/v1/communes/${created.id}`, {
      name: 'Xã Khác',
      revision: created.revision,
    });
    expect(second.status).toBe(409);
    expect(second.body.current).toMatchObject({ name: 'Xã Đổi Tên Mới' });
    expect((await province('PATCH', '/api/v1/communes/khong-co', { name: 'X', revision: 1 })).status).toBe(404);
  });

  it('shows a commune user their own commune only; another commune is 404', async () => {
    const a = await communeWithUser(server, 'Xã Chỉ Mình', 'viewer');
    const b = await communeWithUser(server, 'Xã Người Khác', 'viewer');
    expect((await a.api<CommuneReply[]>('GET', '/api/v1/communes')).body.map((c) => c.id)).toEqual([a.id]);
    expect((await a.api('GET', `/api/v1/communes/${a.id}`)).status).toBe(200);
    expect((await a.api('GET', `/api/v1/communes/${b.id}`)).status).toBe(404);
  });
});

describe('users in communes', () => {
  it('creates commune users with `commune`, province users without it', async () => {
    const province = await signInProvince(server);
    const commune = (await province<CommuneReply>('POST', '/api/v1/communes', { name: 'Xã Có Người' })).body.id;
    const communeUser = await province<UserReply>('POST', '/api/v1/users', {
      username: 'can-bo-xa',
      password: 'can-bo-xa-password',
      role: 'editor',
      commune,
    });
    expect(communeUser.status).toBe(201);
    expect(communeUser.body).toEqual({ username: 'can-bo-xa', role: 'editor', communeId: commune });
    const provinceUser = await province<UserReply>('POST', '/api/v1/users', {
      username: 'bien-tap-tinh',
      password: 'bien-tap-tinh-password',
      role: 'editor',
    });
    expect(provinceUser.status).toBe(201);
    expect(provinceUser.body.communeId).toBeNull();
    const unknown = await province<{ field: string }>('POST', '/api/v1/users', {
      username: 'lac-xa',
      password: 'lac-xa-password',
      role: 'viewer',
      commune: 'khong-co-xa-nay',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.field).toBe('commune');
    const signedIn = await signIn(server, 'can-bo-xa', 'can-bo-xa-password');
    expect((await signedIn<{ user: UserReply }>('GET', '/api/v1/session')).body.user.communeId).toBe(commune);
  });

  it("keeps a commune administrator inside their commune's accounts", async () => {
    const a = await communeWithUser(server, 'Xã Quản Trị A', 'admin');
    const b = await communeWithUser(server, 'Xã Quản Trị B', 'admin');
    // Created without `commune`: in the administrator's own commune.
    const own = await a.api<UserReply>('POST', '/api/v1/users', {
      username: 'nguoi-xa-a',
      password: 'nguoi-xa-a-password',
      role: 'viewer',
    });
    expect(own.body.communeId).toBe(a.id);
    // Naming another commune is "no such commune", as for one that does not exist.
    const other = await a.api<{ field: string; message: string }>('POST', '/api/v1/users', {
      username: 'nguoi-lan-sang',
      password: 'nguoi-lan-sang-password',
      role: 'viewer',
      commune: b.id,
    });
    const missing = await a.api<{ field: string; message: string }>('POST', '/api/v1/users', {
      username: 'nguoi-lan-sang',
      password: 'nguoi-lan-sang-password',
      role: 'viewer',
      commune: 'khong-co',
    });
    expect(other.status).toBe(404);
    expect(other.body.message.replace(b.id, '<id>')).toBe(missing.body.message.replace('khong-co', '<id>'));
    // The list holds A's accounts only: not B's, not the province's.
    const names = (await a.api<UserReply[]>('GET', '/api/v1/users')).body.map((u) => u.username);
    expect(names).toContain('nguoi-xa-a');
    expect(names).not.toContain(`admin-${b.id}`);
    expect(names).not.toContain('tinh');
    expect(names).not.toContain('admin');
    // B's administrator and the province administrator are out of reach: 404, nothing changes.
    for (const username of [`admin-${b.id}`, 'tinh']) {
      expect((await a.api('PATCH', `/api/v1/users/${username}`, { disabled: true })).status).toBe(404);
      expect((await a.api('PUT', `/api/v1/users/${username}/password`, { password: 'bi-chiem-quyen-1' })).status).toBe(
        404,
      );
      expect((await a.api('POST', `/api/v1/users/${username}/unlock`, {})).status).toBe(404);
    }
    await signIn(server, `admin-${b.id}`, `admin-${b.id}-password`);
    // A commune administrator cannot make province users.
    const promoted = await a.api<UserReply>('POST', '/api/v1/users', {
      username: 'muon-len-tinh',
      password: 'muon-len-tinh-password',
      role: 'admin',
    });
    expect(promoted.body.communeId).toBe(a.id);
  });

  it('keeps the last administrator of the province and of each commune', async () => {
    const province = await signInProvince(server);
    const lastProvince = await province<{ field: string; message: string }>('PATCH', '/api/v1/users/tinh', {
      role: 'viewer',
    });
    expect(lastProvince.status).toBe(409);
    expect(lastProvince.body.message).toMatch(/province/);
    const c = await communeWithUser(server, 'Xã Một Quản Trị', 'admin');
    const lastCommune = await province<{ message: string }>('PATCH', `/api/v1/users/admin-${c.id}`, {
      disabled: true,
    });
    expect(lastCommune.status).toBe(409);
    expect(lastCommune.body.message).toMatch(/commune/);
  });

  it('records user changes in the commune’s audit log, not in another commune’s', async () => {
    const a = await communeWithUser(server, 'Xã Nhật Ký A', 'admin');
    const b = await communeWithUser(server, 'Xã Nhật Ký B', 'admin');
    await a.api('POST', '/api/v1/users', { username: 'ghi-so-a', password: 'ghi-so-a-password', role: 'viewer' });
    const aLog = JSON.stringify((await a.api('GET', '/api/v1/audit')).body);
    const bLog = JSON.stringify((await b.api('GET', '/api/v1/audit')).body);
    expect(aLog).toContain('ghi-so-a');
    expect(bLog).not.toContain('ghi-so-a');
    expect(JSON.stringify((await (await signInProvince(server))('GET', '/api/v1/audit')).body)).toContain('ghi-so-a');
  });
});
