/**
 * Two communes on one server, end to end (real server, broker, TTS and
 * simulated loudspeakers): each commune's broadcasts, occurrences, deliveries,
 * reports (JSON and CSV), media and live events stay its own. A commune user
 * never sees, stops, cancels, downloads or hears of the other commune's; a
 * province user sees every commune's, or one commune's when naming it.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '@loaxa/firmware-sim';
import { deviceAuthorizationHeader } from '@loaxa/protocol';
import {
  communeWithUser,
  openEventStream,
  PROVINCE_PASSWORD,
  row,
  rows,
  run,
  sql,
  startTestServer,
  waitFor,
  type TestServer,
} from './helpers';

type Api = TestServer['api'];
interface Commune {
  id: string;
  api: Api;
  cookie: string;
  zone: string;
  device: string;
  secret: string;
}
interface Occurrence {
  id: string;
  communeId: string;
  sha256: string;
  deliveries: { deviceId: string; stage: string }[];
}
interface Summary {
  id: string;
  communeId: string;
}
interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

let server: TestServer;
let province: Api;
let provinceCookie: string;
let a: Commune;
let b: Commune;
const fleets: Awaited<ReturnType<typeof startSimFleet>>[] = [];
const streams: AbortController[] = [];
/** The occurrences the live-event test broadcast: one in each commune, both played to the end. */
let occA: string;
let occB: string;

async function cookieOf(username: string, password: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** A commune with an admin, a zone and a loudspeaker in it (made through the API, as that admin). */
async function commune(name: string, deviceId: string): Promise<Commune> {
  const { id, api, province: asProvince } = await communeWithUser(server, name, 'admin');
  province = asProvince;
  const cookie = await cookieOf(`admin-${id}`, `admin-${id}-password`);
  // The same zone name in both communes: names are unique per commune only.
  const zone = await api<{ id: string; communeId: string }>('POST', '/api/v1/zones', { name: 'Thôn Một' });
  expect(zone).toMatchObject({ status: 201, body: { communeId: id } });
  const device = await api<{ agentConfig: { secret: string } }>('POST', '/api/v1/devices', {
    id: deviceId,
    zones: [zone.body.id],
  });
  expect(device.status).toBe(201);
  return { id, api, cookie, zone: zone.body.id, device: deviceId, secret: device.body.agentConfig.secret };
}

/** An open live event stream: what it has carried so far, in order. */
async function openStream(cookie: string): Promise<() => SseEvent[]> {
  const abort = new AbortController();
  streams.push(abort);
  const text = await openEventStream(server.url, cookie, abort.signal);
  return () =>
    text()
      .split('\n\n')
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: /^data: (.*)$/m.exec(block)?.[1],
      }))
      .filter((e): e is { event: string; data: string } => !!e.event && !!e.data)
      .map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));
}

const deviceOnline = (events: SseEvent[], id: string) =>
  events.some((e) => e.event === 'device' && e.data.id === id && e.data.online === true);
const finished = (events: SseEvent[], occurrenceId: string) =>
  events.some((e) => e.event === 'delivery' && e.data.occurrenceId === occurrenceId && e.data.stage === 'finished');

async function connect(c: Commune): Promise<void> {
  fleets.push(
    await startSimFleet({
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      devices: [{ deviceId: c.device, secret: c.secret }],
    }),
  );
}

async function broadcast(c: Commune, body: Record<string, unknown>): Promise<string> {
  const res = await c.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.occurrenceId;
}

async function media(file: string, headers: Record<string, string>): Promise<{ status: number; message?: string }> {
  const res = await fetch(`${server.url}/media/${file}`, { headers });
  const body = res.headers.get('content-type')?.includes('json') ? ((await res.json()) as { message: string }) : null;
  if (!body) await res.arrayBuffer();
  return { status: res.status, ...(body ? { message: body.message } : {}) };
}

beforeAll(async () => {
  server = await startTestServer();
  a = await commune('Xã An Bình', 'loa-an');
  b = await commune('Xã Bình Minh', 'loa-binh');
  provinceCookie = await cookieOf('tinh', PROVINCE_PASSWORD);
});

afterAll(async () => {
  for (const s of streams) s.abort();
  await Promise.all(fleets.map((f) => f.stop()));
  await server?.close();
});

describe('live events', () => {
  it('carry only the commune’s own device and delivery events to a commune user; all to the province', async () => {
    const aStream = await openStream(a.cookie);
    const provinceStream = await openStream(provinceCookie);

    // B's loudspeaker connects first; only then A's. Streams keep their order, so had A's
    // stream carried B's event, it would be there before A's own.
    await connect(b);
    await waitFor('B’s device online on the province stream', () => deviceOnline(provinceStream(), b.device));
    await connect(a);
    await waitFor('A’s device online on A’s stream', () => deviceOnline(aStream(), a.device));

    // Likewise a broadcast of B plays to the end before one of A starts.
    occB = await broadcast(b, { text: 'Xã Bình Minh thông báo họp dân.', zones: [b.zone] });
    await waitFor('B’s broadcast finished on the province stream', () => finished(provinceStream(), occB), 30_000);
    occA = await broadcast(a, { text: 'Xã An Bình thông báo tiêm chủng.', zones: 'all' });
    await waitFor('A’s broadcast finished on A’s stream', () => finished(aStream(), occA), 30_000);

    const seenByA = aStream();
    expect(seenByA.filter((e) => e.event === 'device').map((e) => e.data.id)).not.toContain(b.device);
    expect(seenByA.filter((e) => e.event === 'delivery').every((e) => e.data.occurrenceId === occA)).toBe(true);
    expect(JSON.stringify(seenByA)).not.toContain(b.device);
    expect(JSON.stringify(seenByA)).not.toContain(occB);

    // The province saw both communes'.
    await waitFor('A’s broadcast finished on the province stream', () => finished(provinceStream(), occA), 30_000);
    expect(deviceOnline(provinceStream(), a.device)).toBe(true);
  });

  it('carry an approval of the commune’s own schedule only, and nothing about objects of no commune', async () => {
    const { hub } = server.services;
    const now = Date.now();
    for (const c of [a, b]) {
      await run(
        server,
        sql`INSERT INTO programmes (id, commune_id, title, created_at, updated_at)
            VALUES (${`prg-${c.id}`}, ${c.id}, 'Chương trình', ${now}, ${now})`,
      );
      await run(
        server,
        sql`INSERT INTO schedules (id, commune_id, title, programme_id, rule, timezone, priority, status, created_at, updated_at)
            VALUES (${`sch-${c.id}`}, ${c.id}, 'Lịch', ${`prg-${c.id}`}, '{}', 'Asia/Ho_Chi_Minh', 'normal', 'approved', ${now}, ${now})`,
      );
    }
    const aStream = await openStream(a.cookie);
    // Events about B's schedule and about objects that do not exist (nobody's) come first …
    hub.emit('approval', { scheduleId: `sch-${b.id}`, status: 'approved', title: 'Lịch' });
    hub.emit('approval', { scheduleId: 'sch-none', status: 'approved', title: 'Lịch' });
    hub.emit('device', { id: 'loa-none', online: true, lastSeen: null });
    hub.emit('delivery', { occurrenceId: 'occ-none', deviceId: a.device, stage: 'finished', at: null, detail: null });
    // … then A's own, which arrives.
    hub.emit('approval', { scheduleId: `sch-${a.id}`, status: 'approved', title: 'Lịch' });
    await waitFor('A’s own approval event', () => aStream().some((e) => e.event === 'approval'));
    expect(aStream().map((e) => e.data)).toEqual([{ scheduleId: `sch-${a.id}`, status: 'approved', title: 'Lịch' }]);
  });
});

describe('broadcasts', () => {
  it('are created in the caller’s commune: "all" is every loudspeaker of that commune only', async () => {
    const { body } = await a.api<Occurrence>('GET', `/api/v1/occurrences/${occA}`);
    expect(body.communeId).toBe(a.id);
    expect(body.deliveries.map((d) => d.deviceId)).toEqual([a.device]);
    // B's loudspeaker never received A's play-now command (it would have acknowledged it).
    const acks = await rows(server, sql`SELECT DISTINCT device_id FROM acks WHERE ref_id = ${occA} ORDER BY device_id`);
    expect(acks).toEqual([{ device_id: a.device }]);
    const stored = await row(server, sql`SELECT commune_id FROM occurrences WHERE id = ${occB}`);
    expect(stored).toEqual({ commune_id: b.id });
  });

  it('refuse another commune’s zones as unknown, and another commune', async () => {
    const zones = await a.api<{ field: string; message: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thử.',
      zones: [b.zone],
    });
    expect(zones).toMatchObject({ status: 400, body: { field: 'zones', message: `zones: unknown zone(s) ${b.zone}` } });
    const elsewhere = await a.api('POST', '/api/v1/broadcasts', { text: 'Thử.', zones: 'all', commune: b.id });
    expect(elsewhere).toMatchObject({ status: 404, body: { field: 'commune' } });
  });

  it('need a commune from a province user when there are several; then go to that commune', async () => {
    const unnamed = await province('POST', '/api/v1/broadcasts', { text: 'Tỉnh thông báo.', zones: 'all' });
    expect(unnamed).toMatchObject({ status: 400, body: { field: 'commune' } });
    const wrongZone = await province('POST', '/api/v1/broadcasts', {
      text: 'Tỉnh thông báo.',
      zones: [a.zone],
      commune: b.id,
    });
    expect(wrongZone).toMatchObject({ status: 400, body: { field: 'zones' } });
    const at = new Date(Date.now() + 3600_000).toISOString();
    const sent = await province<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Tỉnh thông báo cho xã Bình Minh.',
      zones: [b.zone],
      commune: b.id,
      at,
    });
    expect(sent.status).toBe(201);
    const { body } = await province<Occurrence>('GET', `/api/v1/occurrences/${sent.body.occurrenceId}`);
    expect(body).toMatchObject({ communeId: b.id, deliveries: [{ deviceId: b.device }] });

    // A future broadcast of B: A cannot cancel it (as unknown), B can.
    const cancelled = await a.api<{ message: string }>('DELETE', `/api/v1/occurrences/${sent.body.occurrenceId}`);
    const unknown = await a.api<{ message: string }>('DELETE', '/api/v1/occurrences/occ-nope');
    expect(cancelled.status).toBe(404);
    expect(cancelled.body.message).toBe(unknown.body.message.replace('occ-nope', sent.body.occurrenceId));
    expect((await b.api('DELETE', `/api/v1/occurrences/${sent.body.occurrenceId}`)).status).toBe(204);
  });
});

describe('occurrences and deliveries', () => {
  it('list the commune’s own; a province user all, or one commune’s', async () => {
    const ids = async (api: Api, query = '') =>
      (await api<Summary[]>('GET', `/api/v1/occurrences${query}`)).body.map((o) => o.id);
    expect(await ids(a.api)).toContain(occA);
    expect(await ids(a.api)).not.toContain(occB);
    expect(await ids(b.api)).toContain(occB);
    expect(await ids(b.api)).not.toContain(occA);
    expect(await ids(province)).toEqual(expect.arrayContaining([occA, occB]));
    expect(await ids(province, `?commune=${b.id}`)).not.toContain(occA);
    expect(await ids(province, `?commune=${b.id}`)).toContain(occB);
    const listed = await a.api<Summary[]>('GET', '/api/v1/occurrences');
    expect(listed.body.every((o) => o.communeId === a.id)).toBe(true);
    // A commune user naming another commune is answered as if it did not exist.
    expect(await a.api('GET', `/api/v1/occurrences?commune=${b.id}`)).toMatchObject({
      status: 404,
      body: { field: 'commune', message: `commune: no commune with id ${b.id}` },
    });
    expect((await a.api('GET', `/api/v1/occurrences?commune=${a.id}`)).status).toBe(200);
  });

  it('answer another commune’s occurrence, and its stop, like one that does not exist', async () => {
    const other = await a.api<{ message: string }>('GET', `/api/v1/occurrences/${occB}`);
    expect(other).toMatchObject({ status: 404, body: { message: `no occurrence with id ${occB}` } });
    expect((await b.api('GET', `/api/v1/occurrences/${occB}`)).status).toBe(200);
    expect((await province('GET', `/api/v1/occurrences/${occB}`)).status).toBe(200);

    const stop = await a.api<{ message: string }>('POST', `/api/v1/occurrences/${occB}/stop`);
    const unknown = await a.api<{ message: string }>('POST', '/api/v1/occurrences/occ-nope/stop');
    expect(stop.status).toBe(404);
    expect(stop.body.message).toBe(unknown.body.message.replace('occ-nope', occB));
    const stored = await row(server, sql`SELECT stopped_at FROM occurrences WHERE id = ${occB}`);
    expect(stored).toEqual({ stopped_at: null });
  });

  it('show delivery problems of the commune’s own broadcasts only', async () => {
    await run(
      server,
      sql`UPDATE deliveries SET stage = 'failed', detail = 'loa hỏng' WHERE occurrence_id IN (${occA}, ${occB})`,
    );
    const problems = async (api: Api, query = '') =>
      (await api<{ occurrenceId: string; communeId: string }[]>('GET', `/api/v1/deliveries/problems${query}`)).body;
    expect((await problems(a.api)).map((p) => p.occurrenceId)).toEqual([occA]);
    expect((await problems(b.api)).map((p) => [p.occurrenceId, p.communeId])).toEqual([[occB, b.id]]);
    expect((await problems(province)).map((p) => p.occurrenceId).sort()).toEqual([occA, occB].sort());
    expect((await problems(province, `?commune=${a.id}`)).map((p) => p.occurrenceId)).toEqual([occA]);
    expect((await a.api('GET', `/api/v1/deliveries/problems?commune=${b.id}`)).status).toBe(404);
    await run(
      server,
      sql`UPDATE deliveries SET stage = 'finished', detail = NULL WHERE occurrence_id IN (${occA}, ${occB})`,
    );
  });
});

describe('reports', () => {
  type Row = { deviceId: string; communeId: string; broadcasts: number };
  type ZoneRow = { zoneId: string; communeId: string; broadcasts: number };

  it('cover the commune’s own loudspeakers, zones and broadcasts', async () => {
    const devices = async (api: Api, query = '') =>
      (await api<{ devices: Row[] }>('GET', `/api/v1/reports/devices${query}`)).body.devices;
    expect(await devices(a.api)).toEqual([
      expect.objectContaining({ deviceId: a.device, communeId: a.id, broadcasts: 1 }),
    ]);
    expect(await devices(b.api)).toEqual([expect.objectContaining({ deviceId: b.device, communeId: b.id })]);
    const all = await devices(province);
    expect(all.map((d) => d.deviceId)).toEqual(expect.arrayContaining([a.device, b.device]));
    expect((await devices(province, `?commune=${b.id}`)).map((d) => d.deviceId)).toEqual([b.device]);
    expect((await a.api('GET', `/api/v1/reports/devices?commune=${b.id}`)).status).toBe(404);

    const zones = async (api: Api, query = '') =>
      (await api<{ zones: ZoneRow[] }>('GET', `/api/v1/reports/zones${query}`)).body.zones;
    expect((await zones(a.api)).map((z) => z.zoneId)).toEqual([a.zone]);
    expect((await zones(province)).map((z) => z.zoneId)).toEqual(expect.arrayContaining([a.zone, b.zone]));
    expect((await zones(province, `?commune=${a.id}`)).map((z) => z.zoneId)).toEqual([a.zone]);
    expect((await b.api('GET', `/api/v1/reports/zones?commune=${a.id}`)).status).toBe(404);
  });

  it('download as CSV with the same scope; a report across communes names each row’s commune', async () => {
    /** The CSV's header and the values of one of its columns (none of these cells holds a comma). */
    const csv = async (cookie: string, path: string) => {
      const res = await fetch(`${server.url}/api/v1/reports/${path}`, { headers: { cookie } });
      expect(res.status).toBe(200);
      const [header, ...rows] = (await res.text())
        .replace(/^\uFEFF/, '')
        .trimEnd()
        .split('\r\n');
      const columns = header!.split(',');
      return { columns, values: (name: string) => rows.map((r) => r.split(',')[columns.indexOf(name)]) };
    };
    const aDevices = await csv(a.cookie, 'devices?format=csv');
    expect(aDevices.columns[0]).toBe('device_id');
    expect(aDevices.values('device_id')).toEqual([a.device]);
    expect((await csv(a.cookie, 'zones?format=csv')).values('zone_id')).toEqual([a.zone]);
    expect((await csv(b.cookie, 'zones?format=csv')).values('zone_id')).toEqual([b.zone]);

    const provinceDevices = await csv(provinceCookie, 'devices?format=csv');
    expect(provinceDevices.columns.slice(0, 2)).toEqual(['commune', 'device_id']);
    const byDevice = Object.fromEntries(
      provinceDevices.values('device_id').map((id, i) => [id, provinceDevices.values('commune')[i]]),
    );
    expect(byDevice).toMatchObject({ [a.device]: 'Xã An Bình', [b.device]: 'Xã Bình Minh' });
    const oneCommune = await csv(provinceCookie, `zones?format=csv&commune=${b.id}`);
    expect(oneCommune.columns[0]).toBe('zone_id');
    expect(oneCommune.values('zone_id')).toEqual([b.zone]);
  });
});

describe('media', () => {
  /** A stored file no notice, broadcast or bulletin refers to yet (a fresh preview or upload). */
  async function storeLoose(): Promise<string> {
    const temp = server.services.media.tempPath('ogg');
    fs.writeFileSync(temp, crypto.randomBytes(64));
    return (await server.services.media.adopt(temp, 'ogg', 1000)).sha256;
  }
  const as = (c: { cookie: string }) => ({ cookie: c.cookie });

  it('of a broadcast: its commune, the province and any loudspeaker may download; another commune not', async () => {
    const { sha256 } = (await a.api<Occurrence>('GET', `/api/v1/occurrences/${occA}`)).body;
    const file = `${sha256}.ogg`;
    expect((await media(file, as(a))).status).toBe(200);
    expect((await media(file, { cookie: provinceCookie })).status).toBe(200);
    // Like an unknown file.
    const unknownFile = `${'0'.repeat(64)}.ogg`;
    expect(await media(file, as(b))).toEqual({ status: 404, message: `no media ${file}` });
    expect((await media(unknownFile, as(b))).message).toBe(`no media ${unknownFile}`);
    // Devices fetch what their plans name, whatever the commune.
    expect((await media(file, { authorization: deviceAuthorizationHeader(b.device, b.secret) })).status).toBe(200);

    // Its MP3 rendition follows its source.
    const source = (await server.services.media.get(sha256))!;
    const mp3 = await server.services.media.mp3Rendition(source);
    expect((await media(`${mp3.sha256}.mp3`, as(a))).status).toBe(200);
    expect((await media(`${mp3.sha256}.mp3`, as(b))).status).toBe(404);
  });

  it('nobody uses yet is fetchable (a fresh preview); once a notice of B uses it, only B’s', async () => {
    const sha256 = await storeLoose();
    const file = `${sha256}.ogg`;
    expect((await media(file, as(a))).status).toBe(200);
    const now = Date.now();
    await run(
      server,
      sql`INSERT INTO content_items (id, commune_id, kind, title, sha256, duration_ms, created_at, updated_at)
          VALUES ('ci-b', ${b.id}, 'audio', 'Nhạc xã B', ${sha256}, 1000, ${now}, ${now})`,
    );
    expect((await media(file, as(a))).status).toBe(404);
    expect((await media(file, as(b))).status).toBe(200);
    expect((await media(file, { cookie: provinceCookie })).status).toBe(200);
    // Handed to A (its own preview of the same audio): A may fetch it for a while.
    server.services.media.grant(a.id, sha256);
    expect((await media(file, as(a))).status).toBe(200);
  });
});
