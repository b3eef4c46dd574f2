/**
 * Zones and loudspeakers belong to one commune. A commune's users see and
 * change only their own: another commune's zone or device answers exactly as
 * an id that does not exist, a device's zones stay inside its commune, and a
 * commune user cannot provision into another commune. The province sees all,
 * and picks the commune of what it creates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { communeWithUser, startTestServer, type TestServer } from './helpers';

type Api = TestServer['api'];
interface ApiError {
  message: string;
  field?: string;
}
interface ZoneBody {
  id: string;
  name: string;
  communeId: string;
  deviceIds?: string[];
}
interface DeviceBody {
  id: string;
  communeId: string;
  zones: string[];
  revoked: boolean;
  name: string;
}

let server: TestServer;
let province: Api;
/** Commune A's and B's administrators, and their commune ids. */
let a: { id: string; api: Api };
let b: { id: string; api: Api };
let zoneA: string;
let zoneB: string;

beforeAll(async () => {
  server = await startTestServer();
  const ca = await communeWithUser(server, 'Xã An Bình', 'admin');
  const cb = await communeWithUser(server, 'Xã Bình Minh', 'admin');
  a = { id: ca.id, api: ca.api };
  b = { id: cb.id, api: cb.api };
  province = ca.province;

  // The same zone name in two communes: names are unique per commune only.
  const za = await a.api<ZoneBody>('POST', '/api/v1/zones', { name: 'Thôn 1' });
  const zb = await b.api<ZoneBody>('POST', '/api/v1/zones', { name: 'Thôn 1' });
  expect(za).toMatchObject({ status: 201, body: { name: 'Thôn 1', communeId: a.id } });
  expect(zb).toMatchObject({ status: 201, body: { name: 'Thôn 1', communeId: b.id } });
  zoneA = za.body.id;
  zoneB = zb.body.id;
  expect(zoneA).not.toBe(zoneB);

  expect(await a.api('POST', '/api/v1/devices', { id: 'loa-a', zones: [zoneA] })).toMatchObject({
    status: 201,
    body: { device: { id: 'loa-a', communeId: a.id, zones: [zoneA] } },
  });
  expect(await b.api('POST', '/api/v1/devices', { id: 'loa-b', zones: [zoneB] })).toMatchObject({
    status: 201,
    body: { device: { id: 'loa-b', communeId: b.id, zones: [zoneB] } },
  });
});
afterAll(async () => {
  await server?.close();
});

/** An answer with the id masked and without the per-request id, for comparing two answers. */
function masked(res: { status: number; body: ApiError & { requestId?: string } }, id: string) {
  const body: ApiError & { requestId?: string } = { ...res.body, message: res.body.message.replace(id, '?') };
  delete body.requestId;
  return { status: res.status, body };
}

/** Calls with another commune's id and with one that does not exist must answer alike (404). */
async function sameAsUnknown(
  api: Api,
  method: string,
  path: (id: string) => string,
  foreignId: string,
  body?: unknown,
): Promise<void> {
  const foreign = await api<ApiError>(method, path(foreignId), body);
  const unknown = await api<ApiError>(method, path('zz-nobody'), body);
  expect(unknown.status, `${method} ${path('zz-nobody')}`).toBe(404);
  expect(masked(foreign, foreignId)).toEqual(masked(unknown, 'zz-nobody'));
}

describe('lists', () => {
  it('a commune user lists only their commune’s zones and loudspeakers', async () => {
    const zones = await a.api<ZoneBody[]>('GET', '/api/v1/zones');
    expect(zones.body).toEqual([
      { id: zoneA, name: 'Thôn 1', communeId: a.id, languages: ['vi'], geocodes: [], area: null, deviceIds: ['loa-a'] },
    ]);
    const devices = await b.api<DeviceBody[]>('GET', '/api/v1/devices');
    expect(devices.body.map((d) => [d.id, d.communeId])).toEqual([['loa-b', b.id]]);
  });

  it('the province lists every commune’s, and may filter by commune', async () => {
    const all = await province<DeviceBody[]>('GET', '/api/v1/devices');
    expect(all.body.map((d) => d.id)).toEqual(expect.arrayContaining(['loa-a', 'loa-b']));
    const onlyB = await province<DeviceBody[]>('GET', `/api/v1/devices?commune=${b.id}`);
    expect(onlyB.body.map((d) => d.id)).toEqual(['loa-b']);
    const zonesOfA = await province<ZoneBody[]>('GET', `/api/v1/zones?commune=${a.id}`);
    expect(zonesOfA.body.map((z) => z.id)).toEqual([zoneA]);
    expect(await province('GET', '/api/v1/devices?commune=zz-nowhere')).toMatchObject({
      status: 404,
      body: { field: 'commune' },
    });
  });

  it('a commune user naming another commune in the filter gets 404, never its rows', async () => {
    const other = await a.api<ApiError>('GET', `/api/v1/devices?commune=${b.id}`);
    const missing = await a.api<ApiError>('GET', '/api/v1/devices?commune=zz-nowhere');
    expect(other).toMatchObject({ status: 404, body: { field: 'commune' } });
    expect(other.body.message.replace(b.id, '?')).toBe(missing.body.message.replace('zz-nowhere', '?'));
    expect(await a.api('GET', `/api/v1/zones?commune=${b.id}`)).toMatchObject({ status: 404 });
    const own = await a.api<DeviceBody[]>('GET', `/api/v1/devices?commune=${a.id}`);
    expect(own.body.map((d) => d.id)).toEqual(['loa-a']);
  });
});

describe('another commune’s ids answer like unknown ones', () => {
  it('devices: rename, zones, revoke, controls', async () => {
    await sameAsUnknown(a.api, 'PATCH', (id) => `/api/v1/devices/${id}`, 'loa-b', { name: 'Mine now' });
    await sameAsUnknown(a.api, 'PUT', (id) => `/api/v1/devices/${id}/zones`, 'loa-b', { zones: [] });
    await sameAsUnknown(a.api, 'POST', (id) => `/api/v1/devices/${id}/revoke`, 'loa-b');
    await sameAsUnknown(a.api, 'POST', (id) => `/api/v1/devices/${id}/volume`, 'loa-b', { level: 10 });
    await sameAsUnknown(a.api, 'POST', (id) => `/api/v1/devices/${id}/amp`, 'loa-b', { on: true });
    await sameAsUnknown(a.api, 'POST', (id) => `/api/v1/devices/${id}/test-tone`, 'loa-b');
    const untouched = (await server.services.registry.getDevice('loa-b'))!;
    expect(untouched).toMatchObject({ name: 'loa-b', zones: [zoneB], revoked: false, communeId: b.id });
  });

  it('zones: rename, delete', async () => {
    await sameAsUnknown(a.api, 'PATCH', (id) => `/api/v1/zones/${id}`, zoneB, { name: 'Thôn của tôi' });
    await sameAsUnknown(a.api, 'DELETE', (id) => `/api/v1/zones/${id}`, zoneB);
    expect((await server.services.registry.listZones()).find((z) => z.id === zoneB)).toMatchObject({ name: 'Thôn 1' });
  });

  it('a broadcast of another commune cannot be stopped', async () => {
    const tone = await b.api<{ occurrenceId: string }>('POST', '/api/v1/devices/loa-b/test-tone');
    expect(tone.status).toBe(202);
    await sameAsUnknown(a.api, 'POST', (id) => `/api/v1/occurrences/${id}/stop`, tone.body.occurrenceId);
    expect(await b.api('POST', `/api/v1/occurrences/${tone.body.occurrenceId}/stop`)).toMatchObject({ status: 202 });
  });
});

describe('a device’s zones stay in its commune', () => {
  it('refuses another commune’s zone as unknown, on provisioning and on moving', async () => {
    const foreign = await a.api<ApiError>('POST', '/api/v1/devices', { id: 'loa-a2', zones: [zoneB] });
    const unknown = await a.api<ApiError>('POST', '/api/v1/devices', { id: 'loa-a2', zones: ['zz-nowhere'] });
    expect(foreign).toMatchObject({ status: 404, body: { field: 'zones' } });
    expect(foreign.body.message.replace(zoneB, '?')).toBe(unknown.body.message.replace('zz-nowhere', '?'));
    expect(await server.services.registry.getDevice('loa-a2')).toBeNull();

    const moved = await a.api<ApiError>('PUT', '/api/v1/devices/loa-a/zones', { zones: [zoneA, zoneB] });
    expect(moved).toMatchObject({ status: 404, body: { field: 'zones', message: expect.stringContaining(zoneB) } });
    expect(await server.services.registry.zonesOf('loa-a')).toEqual([zoneA]);
  });

  it('even the province cannot put a device in another commune’s zone', async () => {
    expect(await province('PUT', '/api/v1/devices/loa-b/zones', { zones: [zoneA] })).toMatchObject({
      status: 404,
      body: { field: 'zones' },
    });
    expect(await province('POST', '/api/v1/devices', { id: 'loa-mixed', commune: b.id, zones: [zoneA] })).toMatchObject(
      { status: 404, body: { field: 'zones' } },
    );
  });
});

describe('creating in a commune', () => {
  it('a commune user creates in their own commune, naming it or not, and never in another', async () => {
    expect(await a.api('POST', '/api/v1/devices', { id: 'loa-a3', commune: a.id })).toMatchObject({
      status: 201,
      body: { device: { communeId: a.id } },
    });
    const intoB = await a.api<ApiError>('POST', '/api/v1/devices', { id: 'loa-a4', commune: b.id });
    expect(intoB).toMatchObject({ status: 404, body: { field: 'commune' } });
    expect(await server.services.registry.getDevice('loa-a4')).toBeNull();
    expect(await a.api('POST', '/api/v1/zones', { name: 'Thôn 9', commune: b.id })).toMatchObject({
      status: 404,
      body: { field: 'commune' },
    });
    expect(await a.api('POST', '/api/v1/zones', { name: 'Thôn 1' })).toMatchObject({
      status: 409,
      body: { field: 'name' },
    });
  });

  it('the province names the commune when there are several', async () => {
    const noCommune = await province<ApiError>('POST', '/api/v1/devices', { id: 'loa-p' });
    expect(noCommune).toMatchObject({ status: 400, body: { field: 'commune' } });
    expect(await province('POST', '/api/v1/zones', { name: 'Thôn 7' })).toMatchObject({
      status: 400,
      body: { field: 'commune' },
    });
    const zone = await province<ZoneBody>('POST', '/api/v1/zones', { name: 'Thôn 7', commune: b.id });
    expect(zone).toMatchObject({ status: 201, body: { communeId: b.id } });
    const device = await province<{ device: DeviceBody }>('POST', '/api/v1/devices', {
      id: 'loa-p',
      commune: b.id,
      zones: [zone.body.id],
    });
    expect(device).toMatchObject({ status: 201, body: { device: { communeId: b.id, zones: [zone.body.id] } } });
    const seenByB = await b.api<DeviceBody[]>('GET', '/api/v1/devices');
    expect(seenByB.body.map((d) => d.id)).toEqual(['loa-b', 'loa-p']);
  });

  it('device ids are unique across the province (they are the MQTT usernames)', async () => {
    expect(await b.api('POST', '/api/v1/devices', { id: 'loa-a' })).toMatchObject({
      status: 409,
      body: { field: 'id' },
    });
  });
});

describe('the province acts on every commune’s devices; the audit log names the commune', () => {
  it('records each action in the commune of the device or zone', async () => {
    expect(await province('PATCH', '/api/v1/devices/loa-p', { name: 'Loa chợ' })).toMatchObject({
      status: 200,
      body: { name: 'Loa chợ', communeId: b.id },
    });
    expect(await province('POST', '/api/v1/devices/loa-p/revoke')).toMatchObject({
      status: 200,
      body: { revoked: true, communeId: b.id },
    });
    const auditB = await b.api<{ action: string; target: string; communeId: string | null }[]>('GET', '/api/v1/audit');
    expect(auditB.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'device.update', target: 'loa-p', communeId: b.id }),
        expect.objectContaining({ action: 'device.revoke', target: 'loa-p', communeId: b.id }),
        expect.objectContaining({ action: 'device.add', target: 'loa-b', communeId: b.id }),
        expect.objectContaining({ action: 'zone.create', target: zoneB, communeId: b.id }),
      ]),
    );
    const auditA = await a.api<{ target: string }[]>('GET', '/api/v1/audit');
    expect(auditA.body.map((e) => e.target)).not.toContain('loa-p');
  });
});

describe('the registry’s scoped reads', () => {
  it('answers within a scope, and tells each row’s commune', async () => {
    const { registry } = server.services;
    const inA = { communeId: a.id };
    expect(await registry.communeOfDevice('loa-b')).toBe(b.id);
    expect(await registry.communeOfZone(zoneA)).toBe(a.id);
    expect(await registry.communeOfDevice('zz-nobody')).toBeNull();
    expect(await registry.communeOfZone('zz-nobody')).toBeNull();
    expect(await registry.getDevice('loa-b', inA)).toBeNull();
    expect(await registry.getDevice('loa-a', inA)).toMatchObject({ communeId: a.id });
    expect(await registry.zonesOf('loa-b', inA)).toEqual([]);
    expect(await registry.unknownZones([zoneA, zoneB], inA)).toEqual([zoneB]);
    expect(await registry.devicesIn([zoneA, zoneB], inA)).toEqual(['loa-a']);
    expect(await registry.devicesIn('all', inA)).toEqual(['loa-a', 'loa-a3']);
    expect(await registry.devicesIn([zoneA, zoneB])).toEqual(['loa-a', 'loa-b']);
    expect((await registry.listZones(inA)).map((z) => z.id)).toEqual([zoneA]);
    expect((await registry.listDevices(inA)).map((d) => d.id)).toEqual(['loa-a', 'loa-a3']);
  });
});
