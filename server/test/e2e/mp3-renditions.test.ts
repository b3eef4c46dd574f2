/**
 * MP3 for devices that ask for it, on the real server (SQLite or PostgreSQL, ffmpeg, the
 * embedded broker): a device's "online" status with `audioFormat: "mp3"` is
 * stored; the MP3 rendition of a stored Ogg file is made once by ffmpeg, is
 * MP3 of the same length and is served at /media/<sha>.mp3; plans of MP3
 * devices carry it, plans of Ogg devices do not; a device that announces MP3
 * later gets the renditions of what it will play and a new plan; the
 * retention clean-up keeps a rendition with its source and drops it with it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceAuthorizationHeader, fileAssets, topics, type FileAsset, type PlanPayload } from '@loaxa/protocol';
import { probeAudio } from '../../src/audio/upload';
import { ffmpegFrom } from '../../src/audio/run';
import type { MediaAsset } from '../../src/media/store';
import { row, run, sql, startTestServer, waitFor, type TestServer } from '../helpers';

const DAY = 24 * 3600_000;
let server: TestServer;
const clients: MqttClient[] = [];
const secrets = new Map<string, string>();

beforeAll(async () => {
  server = await startTestServer();
  const { registry } = server.services;
  await registry.createZone('Thôn Một', 'default', 'thon-1');
  await registry.createZone('Thôn Hai', 'default', 'thon-2');
  for (const [id, zone] of [
    ['loa-mp3', 'thon-1'],
    ['loa-ogg', 'thon-1'],
    ['loa-late', 'thon-2'],
  ] as const) {
    secrets.set(id, (await registry.createDevice({ communeId: 'default', id, zones: [zone] })).secret);
  }
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server?.close();
});

/** A device's MQTT side: announces itself online (with `audioFormat`, if given) and records its plans. */
async function device(id: string, audioFormat?: 'ogg' | 'mp3'): Promise<{ plans: PlanPayload[] }> {
  const client = await mqtt.connectAsync(server.mqttUrl, {
    clientId: id,
    username: id,
    password: secrets.get(id)!,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const plans: PlanPayload[] = [];
  client.on('message', (topic, payload) => {
    if (topic === topics.devicePlan(id) && payload.length > 0)
      plans.push(JSON.parse(payload.toString()) as PlanPayload);
  });
  await client.subscribeAsync(topics.devicePlan(id), { qos: 1 });
  await client.publishAsync(
    topics.deviceStatus(id),
    JSON.stringify({ v: 1, state: 'online', at: Date.now(), ...(audioFormat ? { audioFormat } : {}) }),
    { qos: 1, retain: true },
  );
  return { plans };
}

/** Length of the audio as a player decodes it (not the container's estimate). */
async function decodedMs(file: string): Promise<number> {
  const stderr = await new Promise<string>((resolve, reject) =>
    ffmpegFrom(file)
      .format('null')
      .on('error', reject)
      .on('end', (_out: string | null, err: string | null) => resolve(err ?? ''))
      .save('-'),
  );
  const times = [...stderr.matchAll(/time=(\d+):(\d\d):(\d\d(?:\.\d+)?)/g)];
  const last = times.at(-1);
  if (!last) throw new Error(`no time= in ffmpeg's report:\n${stderr.slice(-500)}`);
  return (Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3])) * 1000;
}

function fileOf(asset: { sha256: string; format: 'ogg' | 'mp3' }): string {
  const { media } = server.services;
  return path.join(media.root, media.relativePath(asset.sha256, asset.format));
}

const firstAsset = (plan: PlanPayload | undefined, occurrenceId: string): FileAsset | undefined =>
  fileAssets(plan?.items.find((i) => i.occurrenceId === occurrenceId)?.assets ?? [])[0];

describe('MP3 renditions', () => {
  it('makes a rendition once, as MP3 of the same length, served at /media/<sha>.mp3', async () => {
    const { media, renderer } = server.services;
    const source = await renderer.render({ text: 'Thông báo thử bản MP3 cho loa cũ.' });
    expect(source.format).toBe('ogg');
    expect(await media.mp3RenditionOf(source.sha256)).toBeNull();

    const [a, b] = await Promise.all([media.mp3Rendition(source), media.mp3Rendition(source)]);
    expect(b).toEqual(a);
    expect(a).toMatchObject({ format: 'mp3', durationMs: source.durationMs });
    expect(a.sha256).not.toBe(source.sha256);
    const file = fileOf(a);
    const made = fs.statSync(file);
    // Asked again: the recorded rendition, not a new ffmpeg run.
    expect(await media.mp3Rendition(source)).toEqual(a);
    expect(await media.mp3RenditionOf(source.sha256)).toEqual(a);
    expect(fs.statSync(file).mtimeMs).toBe(made.mtimeMs);
    const renditions = await row<{ n: number | string }>(server, sql`SELECT COUNT(*) AS n FROM media_renditions`);
    expect(Number(renditions!.n)).toBe(1);
    expect(fs.readdirSync(path.join(media.root, 'tmp'))).toEqual([]);

    const probe = await probeAudio(file);
    expect(probe).toMatchObject({ codec: 'mp3', sampleRate: 48_000, channels: 'mono' });
    const [oggMs, mp3Ms] = await Promise.all([decodedMs(fileOf(source)), decodedMs(file)]);
    expect(Math.abs(mp3Ms - oggMs)).toBeLessThanOrEqual(100);
    expect(Math.abs(mp3Ms - source.durationMs)).toBeLessThanOrEqual(100);

    const res = await fetch(`${server.url}/media/${a.sha256}.mp3`, {
      headers: { authorization: deviceAuthorizationHeader('loa-mp3', secrets.get('loa-mp3')!) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^audio\/mpeg/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.byteLength).toBe(a.bytes);
    expect(crypto.createHash('sha256').update(body).digest('hex')).toBe(a.sha256);
    // The Ogg file's name with .mp3 is not the rendition.
    const wrong = await fetch(`${server.url}/media/${source.sha256}.mp3`, {
      headers: { authorization: deviceAuthorizationHeader('loa-mp3', secrets.get('loa-mp3')!) },
    });
    expect(wrong.status).toBe(404);
  });

  it('stores the format each device asks for, and gives MP3 only to the plans of devices that ask', async () => {
    const { registry, planner, media } = server.services;
    const mp3 = await device('loa-mp3', 'mp3');
    const ogg = await device('loa-ogg');
    await waitFor('the formats stored', async () =>
      (await registry.audioFormatOf('loa-mp3')) === 'mp3' && (await registry.getDevice('loa-ogg'))?.online
        ? true
        : null,
    );
    expect(await registry.audioFormatOf('loa-ogg')).toBe('ogg');

    const at = new Date(Date.now() + 3600_000).toISOString();
    const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Chiều nay họp thôn lúc 14 giờ.',
      zones: ['thon-1'],
      at,
    });
    expect(res.status).toBe(201);
    const occurrenceId = res.body.occurrenceId;
    const sourceSha = (await row<{ sha256: string }>(
      server,
      sql`SELECT sha256 FROM occurrences WHERE id = ${occurrenceId}`,
    ))!.sha256;
    // Made while the broadcast was created: the first plan already carries it.
    const rendition = await media.mp3RenditionOf(sourceSha);
    expect(rendition).not.toBeNull();
    const expected = { sha256: rendition!.sha256, url: `/media/${rendition!.sha256}.mp3`, bytes: rendition!.bytes };

    const published = await waitFor('the MP3 device plan with the item', () =>
      mp3.plans.find((p) => firstAsset(p, occurrenceId)),
    );
    expect(firstAsset(published, occurrenceId)).toMatchObject({ sha256: sourceSha, format: 'ogg', mp3: expected });
    const oggPlan = await waitFor('the Ogg device plan with the item', () =>
      ogg.plans.find((p) => firstAsset(p, occurrenceId)),
    );
    expect(firstAsset(oggPlan, occurrenceId)).not.toHaveProperty('mp3');
    expect(firstAsset(await planner.planForDevice('loa-mp3'), occurrenceId)?.mp3).toEqual(expected);
    expect(firstAsset(await planner.planForDevice('loa-ogg'), occurrenceId)).not.toHaveProperty('mp3');
    expect(await registry.devicesAsking('mp3', ['loa-mp3', 'loa-ogg'])).toEqual(['loa-mp3']);
  });

  it('makes nothing while no device asks, then back-fills when a device first announces MP3', async () => {
    const { media, registry } = server.services;
    const late = await device('loa-late'); // Ogg, for now
    await waitFor('loa-late online', async () => (await registry.getDevice('loa-late'))?.online);
    const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thôn Hai: sáng mai tiêm phòng cho gia cầm.',
      zones: ['thon-2'],
      at: new Date(Date.now() + 7200_000).toISOString(),
    });
    expect(res.status).toBe(201);
    const occurrenceId = res.body.occurrenceId;
    const { sha256 } = (await row<{ sha256: string }>(
      server,
      sql`SELECT sha256 FROM occurrences WHERE id = ${occurrenceId}`,
    ))!;
    expect(await media.mp3RenditionOf(sha256)).toBeNull();
    const before = await waitFor('the Ogg plan', () => late.plans.find((p) => firstAsset(p, occurrenceId)));
    expect(firstAsset(before, occurrenceId)).not.toHaveProperty('mp3');

    // The same device, restarted with audioFormat "mp3".
    const client = clients.pop()!;
    await client.endAsync(true);
    const again = await device('loa-late', 'mp3');
    const after = await waitFor('a plan with the MP3 copy', () =>
      again.plans.find((p) => firstAsset(p, occurrenceId)?.mp3),
    );
    const rendition = await media.mp3RenditionOf(sha256);
    expect(rendition).not.toBeNull();
    expect(firstAsset(after, occurrenceId)?.mp3).toEqual({
      sha256: rendition!.sha256,
      url: `/media/${rendition!.sha256}.mp3`,
      bytes: rendition!.bytes,
    });
    expect(await registry.audioFormatOf('loa-late')).toBe('mp3');

    // A revoked device asks for nothing any more.
    await registry.revokeDevice('loa-late');
    expect(await registry.devicesAsking('mp3', ['loa-late'])).toEqual([]);
  });

  it('keeps a rendition while its source is kept and drops it with its source', async () => {
    const { media, scheduling, renderer } = server.services;
    const now = Date.now();
    const orphan = await renderer.render({ text: 'Bản này không còn ai dùng.' });
    await run(server, sql`DELETE FROM renders WHERE sha256 = ${orphan.sha256}`); // nothing refers to it now
    const kept = (
      await server.api<{ sha256: string }>('POST', '/api/v1/content', {
        kind: 'notice',
        title: 'Giữ lại',
        text: 'Thông báo còn trong thư viện.',
      })
    ).body;
    const keptSource = (await media.get(kept.sha256))!;
    const orphanMp3 = await media.mp3Rendition(orphan);
    const keptMp3 = await media.mp3Rendition(keptSource);
    // These four past the grace period; the rest of this server's media stays within it.
    for (const m of [orphan, orphanMp3, keptSource, keptMp3])
      await run(server, sql`UPDATE media SET created_at = ${now - 60 * DAY} WHERE sha256 = ${m.sha256}`);

    const stored = async (m: MediaAsset) => [
      !!(await row(server, sql`SELECT 1 AS one FROM media WHERE sha256 = ${m.sha256}`)),
      fs.existsSync(fileOf(m)),
    ];
    const result = await scheduling.cleanup(now);
    expect(result.media).toBe(2);
    expect(await stored(orphan)).toEqual([false, false]);
    expect(await stored(orphanMp3)).toEqual([false, false]);
    expect(await media.mp3RenditionOf(orphan.sha256)).toBeNull();
    expect(await stored(keptSource)).toEqual([true, true]);
    expect(await stored(keptMp3)).toEqual([true, true]);
    expect(await media.mp3RenditionOf(keptSource.sha256)).toEqual(keptMp3);
    expect((await scheduling.cleanup(now)).media).toBe(0);
  });
});
