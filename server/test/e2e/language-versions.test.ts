/**
 * A notice in the villagers' own languages, end to end (real server, broker,
 * ffmpeg and simulated loudspeakers running the agent's core): with a
 * Vietnamese text and a H'Mông recording, a zone that lists both hears both,
 * Vietnamese then H'Mông, and a zone that lists only Vietnamese hears only
 * that — now, at a set time, and as an emergency (where the second version
 * must not cut the first off). Each version is counted and shown on its own.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { startSimFleet } from '@loaxa/firmware-sim';
import { resolveFfmpeg } from '../../src/audio/ffmpeg';
import { row, rows, sql, startTestServer, waitForFinished, type TestServer } from '../helpers';

interface Created {
  occurrenceId: string;
  versions: { language: string; occurrenceId: string; devices: number }[];
}

const MONG = 'loa-ban-mong';
const KINH = 'loa-ban-kinh';

let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
let hmongAudio: string;

/** A stand-in for the officer's H'Mông recording: 2 s of tone made by ffmpeg, uploaded like any file. */
async function uploadRecording(): Promise<string> {
  const bytes = execFileSync(resolveFfmpeg().path, [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'sine=frequency=330:sample_rate=48000:duration=2', '-f', 'wav', 'pipe:1'],
  ]);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'audio/wav' }), 'hmong.wav');
  const res = await fetch(`${server.url}/api/v1/audio`, {
    method: 'POST',
    headers: { cookie: server.cookie },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { sha256: string }).sha256;
}

/** When the loudspeaker acked `stage` of an occurrence, by its own clock. */
async function ackAt(deviceId: string, occurrenceId: string, stage: string): Promise<number | undefined> {
  const ack = await row<{ at: number }>(
    server,
    sql`SELECT at FROM acks WHERE device_id = ${deviceId} AND ref_id = ${occurrenceId} AND stage = ${stage}`,
  );
  return ack?.at;
}

const finished = (id: string) => waitForFinished(server, id);

/** Sends the two-language notice and checks who heard what, in which order. */
async function broadcast(extra: Record<string, unknown>, text: string) {
  const res = await server.api<Created>('POST', '/api/v1/broadcasts', {
    text,
    zones: 'all',
    versions: [{ language: 'hmn', audio: hmongAudio, text: 'Tsab ntawv ceeb toom' }],
    ...extra,
  });
  expect(res.status).toBe(201);
  expect(res.body.versions.map((v) => [v.language, v.devices])).toEqual([['hmn', 1]]);
  const vi = await finished(res.body.occurrenceId);
  const hmn = await finished(res.body.versions[0]!.occurrenceId);
  // Vietnamese everywhere; H'Mông only where the zone lists it.
  expect(vi.deliveries.map((d) => d.deviceId).sort()).toEqual([KINH, MONG]);
  expect(hmn.deliveries.map((d) => d.deviceId)).toEqual([MONG]);
  // One after the other on the H'Mông village's loudspeaker: Vietnamese ended before H'Mông began.
  const viEnd = (await ackAt(MONG, vi.id, 'finished'))!;
  const hmnStart = (await ackAt(MONG, hmn.id, 'started'))!;
  expect(viEnd).toBeLessThanOrEqual(hmnStart);
  expect(await ackAt(MONG, vi.id, 'preempted')).toBeUndefined();
  expect(await ackAt(KINH, hmn.id, 'started')).toBeUndefined();
  return { vi, hmn };
}

beforeAll(async () => {
  server = await startTestServer();
  const mong = await server.api<{ id: string; languages: string[] }>('POST', '/api/v1/zones', {
    name: 'Bản Mông',
    languages: ['vi', 'hmn'],
  });
  expect(mong.body.languages).toEqual(['vi', 'hmn']);
  const kinh = await server.api<{ id: string; languages: string[] }>('POST', '/api/v1/zones', { name: 'Bản Kinh' });
  expect(kinh.body.languages).toEqual(['vi']);
  const credentials = await Promise.all(
    [
      { id: MONG, zones: [mong.body.id] },
      { id: KINH, zones: [kinh.body.id] },
    ].map(async (d) => ({
      deviceId: d.id,
      secret: (await server.services.registry.createDevice({ ...d, name: d.id, communeId: 'default' })).secret,
    })),
  );
  fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices: credentials });
  await fleet.waitOnline(15_000);
  hmongAudio = await uploadRecording();
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

describe('a notice with a Vietnamese and a H’Mông version', () => {
  it('plays both in order where the zone lists both, only Vietnamese elsewhere (now)', async () => {
    const { vi, hmn } = await broadcast({}, 'Thông báo: sáng mai tiêm phòng cho trâu bò tại bản.');
    expect(hmn.title).toBe('Thông báo: sáng mai tiêm phòng cho trâu bò tại bản. (Tiếng H’Mông)');
    // Each version is a broadcast of its own in the list (deliveries and reports count both).
    const { body: list } = await server.api<{ id: string; devices: number }[]>('GET', '/api/v1/occurrences');
    expect(
      list
        .filter((o) => o.id === vi.id || o.id === hmn.id)
        .map((o) => o.devices)
        .sort(),
    ).toEqual([1, 2]);
    // The public page offers both versions, the H'Mông one with its own text.
    const page = await (await fetch(`${server.url}/public/`)).text();
    expect(page).toContain('sáng mai tiêm phòng cho trâu bò');
    expect(page).toContain('Tsab ntawv ceeb toom');
    expect(page).toContain(`lang="hmn"`);
  });

  it('plans the H’Mông version to start after the Vietnamese one ends (at a set time)', async () => {
    const at = new Date(Date.now() + 4_000);
    const { vi, hmn } = await broadcast({ at: at.toISOString() }, 'Thông báo: chiều nay họp bản lúc 15 giờ.');
    expect(Date.parse(vi.startAt)).toBe(at.getTime());
    expect(Date.parse(hmn.startAt)).toBeGreaterThanOrEqual(at.getTime() + vi.durationMs);
  });

  it('as an emergency, the H’Mông version waits for the Vietnamese one instead of cutting it off', async () => {
    await broadcast({ priority: 'emergency' }, 'Khẩn cấp: nước suối dâng cao, không qua ngầm tràn.');
  });

  it('a library notice with a H’Mông version plays it after the programme where the zone lists it (scheduled)', async () => {
    const notice = await server.api<{ id: string; versions: { language: string }[] }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: 'Lịch tiêm phòng',
      text: 'Thông báo lịch tiêm phòng cho gia súc tháng này.',
      versions: [{ language: 'hmn', audio: hmongAudio, text: 'Ntawv ceeb toom txhaj tshuaj' }],
    });
    expect(notice.status).toBe(201);
    expect(notice.body.versions.map((v) => v.language)).toEqual(['hmn']);
    const programme = await server.api<{ id: string }>('POST', '/api/v1/programmes', {
      title: 'Thú y',
      items: [{ contentId: notice.body.id }],
    });
    const { body: zones } = await server.api<{ id: string }[]>('GET', '/api/v1/zones');
    const t = DateTime.now().setZone('Asia/Ho_Chi_Minh').plus({ seconds: 6 });
    const schedule = await server.api<{ id: string }>('POST', '/api/v1/schedules', {
      title: 'Thú y',
      programmeId: programme.body.id,
      rule: { kind: 'once', startDate: t.toISODate(), times: [t.toFormat('HH:mm:ss')] },
      zones: zones.map((z) => z.id),
    });
    expect(schedule.status).toBe(201);
    expect(
      (await server.api<{ status: string }>('POST', `/api/v1/schedules/${schedule.body.id}/submit`)).body.status,
    ).toBe('approved');
    const ids = await rows<{ id: string }>(
      server,
      sql`SELECT id FROM occurrences WHERE schedule_id = ${schedule.body.id} ORDER BY start_at`,
    );
    expect(ids.map((o) => o.id.split(':')[1] ?? 'vi')).toEqual(['vi', 'hmn']);
    const vi = await finished(ids[0]!.id);
    const hmn = await finished(ids[1]!.id);
    expect(vi.deliveries.map((d) => d.deviceId).sort()).toEqual([KINH, MONG]);
    expect(hmn.deliveries.map((d) => d.deviceId)).toEqual([MONG]);
    expect(hmn.title).toBe('Thú y (Tiếng H’Mông)');
    expect((await ackAt(MONG, vi.id, 'finished'))!).toBeLessThanOrEqual((await ackAt(MONG, hmn.id, 'started'))!);
    // The version's text is public like its item, once aired.
    expect(await (await fetch(`${server.url}/public/`)).text()).toContain('Ntawv ceeb toom txhaj tshuaj');
  });

  it('a zone’s languages can be changed, and a bad version is refused naming the field', async () => {
    const { body: zones } = await server.api<{ id: string; name: string }[]>('GET', '/api/v1/zones');
    const kinh = zones.find((z) => z.name === 'Bản Kinh')!;
    const changed = await server.api<{ languages: string[] }>('PATCH', `/api/v1/zones/${kinh.id}`, {
      languages: ['vi', 'km'],
    });
    expect(changed.status).toBe(200);
    expect(changed.body.languages).toEqual(['vi', 'km']);
    const bad = await server.api<{ field?: string; message: string }>('PATCH', `/api/v1/zones/${kinh.id}`, {
      languages: ['Tiếng Việt'],
    });
    expect(bad.status).toBe(400);
    const twice = await server.api<{ field?: string; message: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thử',
      zones: 'all',
      versions: [
        { language: 'hmn', audio: hmongAudio },
        { language: 'hmn', audio: hmongAudio },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.field).toBe('versions[1].language');
    const missing = await server.api<{ field?: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thử',
      zones: 'all',
      versions: [{ language: 'hmn', audio: 'f'.repeat(64) }],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('versions[0].audio');
  });
});
