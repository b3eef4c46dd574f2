/**
 * The broadcasts' storage (broadcasts/service.ts, broadcasts/planner.ts, media/store.ts,
 * media/renditions.ts) on each engine the server can use: what a broadcast stores and sends (its
 * commands only after the commit), a device's plan (its own commune's scheduled occurrences only,
 * MP3 copies for an MP3 device, the overflow count), the MP3 back-fill, and which files a commune
 * may download. The loudspeakers and zones come from a small registry double holding the same
 * rows as the database; the bus records what is published; ffmpeg is replaced by a file copy.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  attachedBytes,
  commandDecoder,
  isFile,
  MAX_PLAN_ITEMS,
  topics,
  type PlanPayload,
  type PlayNowCommand,
} from '@loaxa/protocol';
import type * as EncodeModule from '../src/audio/encode';
import type { MessageBus, PublishOptions } from '../src/broker/bus';
import type { SqlDb } from '../src/db/sql';
import type { DeviceRegistry } from '../src/devices/registry';
import { Planner } from '../src/broadcasts/planner';
import { BroadcastInputError, BroadcastService } from '../src/broadcasts/service';
import { Mp3Renditions } from '../src/media/renditions';
import { MediaStore } from '../src/media/store';
import type { NoticeRenderer } from '../src/tts/render';
import { communeScope, PROVINCE, type Scope } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

// ffmpeg's stand-in: the "MP3" is a line naming the version and the source file.
const encoder = vi.hoisted(() => ({ version: 'v1' }));
vi.mock('../src/audio/encode', async (importOriginal) => ({
  ...(await importOriginal<typeof EncodeModule>()),
  encodeAudio: vi.fn(async (input: string | Uint8Array, outPath: string) => {
    fs.writeFileSync(outPath, `mp3 ${encoder.version} of ${path.basename(String(input))}`);
    return '';
  }),
}));

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const HORIZON = 7 * DAY;

const hex = (c: string) => c.repeat(64 / c.length);
const SHA = {
  main: hex('a'), // Ogg, with an MP3 rendition (mp3)
  km: hex('b'), // a Khmer version's file
  mp3: hex('c'),
  prog: hex('d'), // Ogg in a programme, no rendition yet
  progMp3: hex('e'), // an uploaded MP3 in a programme
  missing: hex('f'), // a row without its file
  rendered: hex('1'), // what the renderer double "renders"
  v1: hex('21'), // a version file of a content item of xa-b
  v2: hex('22'), // a programme asset of an occurrence of xa-b
  v3: hex('23'), // a bulletin sent to xa-b
  v4: hex('24'), // nothing refers to it
};
/** The bytes of each stored file (short: a play-now carries it inline). */
const FILES: Record<string, { format: 'ogg' | 'mp3'; durationMs: number; body: string } | { noFile: true }> = {
  [SHA.main]: { format: 'ogg', durationMs: 60_000, body: 'ogg main' },
  [SHA.km]: { format: 'ogg', durationMs: 7_000, body: 'ogg km' },
  [SHA.mp3]: { format: 'mp3', durationMs: 60_000, body: 'mp3 of main' },
  [SHA.prog]: { format: 'ogg', durationMs: 30_000, body: 'ogg prog' },
  [SHA.progMp3]: { format: 'mp3', durationMs: 20_000, body: 'mp3 prog' },
  [SHA.rendered]: { format: 'ogg', durationMs: 5_000, body: 'ogg rendered' },
  [SHA.v3]: { format: 'ogg', durationMs: 9_000, body: 'ogg bulletin' },
};

interface DeviceFixture {
  id: string;
  commune: string;
  zones: string[];
  revoked?: boolean;
  format?: 'ogg' | 'mp3';
  /** Its agent reads framed play-now commands (inline audio as raw bytes). */
  framed?: boolean;
}
const ZONES = [
  { id: 'z-a1', commune: 'xa-a', name: 'Thôn 1', languages: ['vi', 'km'] },
  { id: 'z-a2', commune: 'xa-a', name: 'Thôn 2', languages: ['vi'] },
  { id: 'z-empty', commune: 'xa-a', name: 'Thôn 3', languages: ['vi'] },
  { id: 'z-b1', commune: 'xa-b', name: 'Thôn B', languages: ['vi'] },
  { id: 'z-c1', commune: 'xa-c', name: 'Thôn C', languages: ['vi'] },
];
// 'A-2' sorts before 'a-1' by bytes.
const DEVICES: DeviceFixture[] = [
  { id: 'a-1', commune: 'xa-a', zones: ['z-a1'], framed: true },
  { id: 'A-2', commune: 'xa-a', zones: ['z-a2'] },
  { id: 'a-rev', commune: 'xa-a', zones: ['z-a1'], revoked: true },
  { id: 'b-1', commune: 'xa-b', zones: ['z-b1'] },
  { id: 'p-ogg', commune: 'xa-c', zones: ['z-c1'] },
  { id: 'p-mp3', commune: 'xa-c', zones: ['z-c1'], format: 'mp3' },
  { id: 'p-busy', commune: 'xa-c', zones: [] },
];

/** The registry's answers from the fixture (the real one is ported on its own). */
function registryDouble(): DeviceRegistry {
  const visible = (scope: Scope, commune: string) => scope.communeId === null || scope.communeId === commune;
  const active = (scope: Scope) => DEVICES.filter((d) => !d.revoked && visible(scope, d.commune));
  const sorted = (ids: string[]) => [...new Set(ids)].sort();
  const versions = new Map<string, number>();
  const double = {
    unknownZones: async (zoneIds: string[], scope: Scope) =>
      zoneIds.filter((z) => !ZONES.some((zone) => zone.id === z && visible(scope, zone.commune))),
    devicesIn: async (zones: string[] | 'all', scope: Scope) =>
      sorted(
        active(scope)
          .filter((d) => zones === 'all' || d.zones.some((z) => zones.includes(z)))
          .map((d) => d.id),
      ),
    zoneLanguages: async (zoneIds: readonly string[]) =>
      new Map(
        ZONES.filter((z) => zoneIds.includes(z.id))
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((z) => [z.id, z.languages]),
      ),
    zonesOf: async (deviceId: string) => [...(DEVICES.find((d) => d.id === deviceId)?.zones ?? [])].sort(),
    audioFormatOf: async (deviceId: string) => DEVICES.find((d) => d.id === deviceId)?.format ?? 'ogg',
    devicesAsking: async (format: 'ogg' | 'mp3', deviceIds: Iterable<string>) =>
      sorted(
        [...deviceIds].filter((id) => active(PROVINCE).some((d) => d.id === id && (d.format ?? 'ogg') === format)),
      ),
    zonesWithoutFramedCommands: async (zoneIds: readonly string[]) =>
      new Set(zoneIds.filter((z) => active(PROVINCE).some((d) => d.zones.includes(z) && !d.framed))),
    devicesReadingFramedCommands: async (deviceIds: readonly string[]) =>
      new Set(deviceIds.filter((id) => DEVICES.some((d) => d.id === id && d.framed))),
    nextPlanVersion: async (deviceId: string) => {
      versions.set(deviceId, (versions.get(deviceId) ?? 0) + 1);
      return versions.get(deviceId)!;
    },
  };
  return double as unknown as DeviceRegistry;
}

interface Published {
  topic: string;
  /** A framed command as its plain JSON form (attached bytes back in `data`), to compare alike. */
  message: Record<string, unknown>;
  /** It went framed: inline audio as raw bytes after the JSON. */
  framed: boolean;
  options: PublishOptions | undefined;
  /** Deliveries of the command's occurrence visible to another connection when it went out. */
  storedDeliveries: number | null;
}

/** Records every publish; for a command, counts its occurrence's deliveries through the pool. */
function busDouble(target: SqlDb): MessageBus & { sent: Published[] } {
  const sent: Published[] = [];
  return {
    sent,
    async publish(topic: string, payload: string | Buffer, options?: PublishOptions) {
      const framed = typeof payload !== 'string' && payload.includes(0);
      const message = framed ? plainForm(payload) : (JSON.parse(String(payload)) as Record<string, unknown>);
      let storedDeliveries: number | null = null;
      if (typeof message.occurrenceId === 'string') {
        const row: { n: number } = await target.db
          .selectFrom('deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('occurrence_id', '=', message.occurrenceId)
          .executeTakeFirstOrThrow();
        storedDeliveries = row.n;
      }
      sent.push({ topic, message, framed, options, storedDeliveries });
    },
    onDeviceMessage() {},
    onDeviceDisconnect() {},
    onDeviceConnect() {},
    disconnect() {},
    async close() {},
  };
}

/** A framed command read as an agent reads it, written back as its JSON form. */
function plainForm(payload: Buffer): Record<string, unknown> {
  const decoded = commandDecoder.decode(payload);
  if (!decoded.ok || decoded.value.action !== 'play-now') throw new Error(`not a framed play-now: ${String(decoded)}`);
  const assets = decoded.value.assets.map((a) => {
    if (!isFile(a) || !a.attached) return a;
    const { attached, ...rest } = a;
    return { ...rest, data: attachedBytes(a)!.toString('base64') };
  });
  return { ...decoded.value, assets };
}

const fileAsset = (sha256: string) => {
  const f = FILES[sha256] as { format: 'ogg' | 'mp3'; durationMs: number; body: string };
  return { sha256, format: f.format, bytes: Buffer.byteLength(f.body), durationMs: f.durationMs };
};
const asAsset = (sha256: string) => {
  const { format, bytes, durationMs } = fileAsset(sha256);
  return { sha256, url: `/media/${sha256}.${format}`, bytes, durationMs, format };
};
const sha256Of = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

describe.each(engineCases('the broadcasts on PostgreSQL'))('the broadcasts on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let dir: string;
  let media: MediaStore;
  let bus: ReturnType<typeof busDouble>;
  let planner: Planner;
  let broadcasts: BroadcastService;
  const overflows: [string, number][] = [];

  beforeAll(async () => {
    ({ target, close } = await open());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-broadcasts-'));
    media = new MediaStore(dir, target);
    const { db } = target;
    await db
      .insertInto('communes')
      .values(['xa-a', 'xa-b', 'xa-c'].map((id) => ({ id, name: `Xã ${id}`, created_at: 0 })))
      .execute();
    await db
      .insertInto('zones')
      .values(
        ZONES.map((z) => ({
          id: z.id,
          commune_id: z.commune,
          name: z.name,
          created_at: 0,
          languages: JSON.stringify(z.languages),
        })),
      )
      .execute();
    await db
      .insertInto('devices')
      .values(
        DEVICES.map((d) => ({
          id: d.id,
          name: `Loa ${d.id}`,
          secret_hash: 'x',
          created_at: 0,
          revoked_at: d.revoked ? 1 : null,
          audio_format: d.format ?? 'ogg',
          commune_id: d.commune,
        })),
      )
      .execute();
    await db
      .insertInto('device_zones')
      .values(DEVICES.flatMap((d) => d.zones.map((z) => ({ device_id: d.id, zone_id: z }))))
      .execute();
    // Rows for every file; the files themselves for all but `missing` (and the JSON-only v1, v2).
    for (const [sha256, f] of Object.entries(FILES)) {
      if ('noFile' in f) continue;
      const file = path.join(media.root, media.relativePath(sha256, f.format));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, f.body);
      await db
        .insertInto('media')
        .values({
          sha256,
          format: f.format,
          bytes: Buffer.byteLength(f.body),
          duration_ms: f.durationMs,
          created_at: 0,
        })
        .execute();
    }
    await db
      .insertInto('media')
      .values(
        [SHA.missing, SHA.v4].map((sha256) => ({ sha256, format: 'ogg', bytes: 1, duration_ms: 1, created_at: 0 })),
      )
      .execute();
    await db
      .insertInto('media_renditions')
      .values({ source_sha256: SHA.main, format: 'mp3', sha256: SHA.mp3, created_at: 0 })
      .execute();

    // Scheduled occurrences around NOW for the planner's devices (commune xa-c).
    const occurrence = (id: string, communeId: string, startAt: number, extra: Record<string, unknown> = {}) => ({
      id,
      title: `Tin ${id}`,
      priority: 'normal',
      start_at: startAt,
      duration_ms: 60_000,
      sha256: SHA.main,
      created_at: 0,
      commune_id: communeId,
      ...extra,
    });
    const programme = JSON.stringify([
      asAsset(SHA.prog),
      asAsset(SHA.progMp3),
      { kind: 'stream', url: 'https://radio.example/live', durationMs: 60_000 },
    ]);
    await db
      .insertInto('occurrences')
      .values([
        occurrence('o-plan-1', 'xa-c', NOW + HOUR, { volume: 80, priority: 'priority' }),
        occurrence('o-prog', 'xa-c', NOW + 2 * HOUR, { sha256: SHA.prog, assets: programme, duration_ms: 110_000 }),
        occurrence('o-playing', 'xa-c', NOW - 30_000),
        occurrence('o-ended', 'xa-c', NOW - 2 * MIN),
        occurrence('o-playnow', 'xa-c', NOW + HOUR, { command_id: 'cmd-x' }),
        occurrence('o-cancelled', 'xa-c', NOW + HOUR, { cancelled_at: NOW - HOUR }),
        occurrence('o-stopped', 'xa-c', NOW - 10_000, { stopped_at: NOW - 5_000, stopped_by: 'u' }),
        occurrence('o-far', 'xa-c', NOW + HORIZON + HOUR),
        // Delivered to p-ogg, but of another commune (the loudspeaker moved): not in its plan.
        occurrence('o-elsewhere', 'xa-b', NOW + HOUR, { sha256: SHA.prog }),
        // The files a commune uses, for visibleTo.
        occurrence('o-vis-assets', 'xa-b', NOW - DAY, {
          sha256: SHA.prog,
          assets: JSON.stringify([{ sha256: SHA.v2 }]),
        }),
      ])
      .execute();
    const planned = ['o-plan-1', 'o-prog', 'o-playing', 'o-ended', 'o-playnow', 'o-cancelled', 'o-stopped', 'o-far'];
    await db
      .insertInto('deliveries')
      .values([
        ...planned.flatMap((o) => ['p-ogg', 'p-mp3'].map((d) => ({ occurrence_id: o, device_id: d }))),
        { occurrence_id: 'o-elsewhere', device_id: 'p-ogg' },
      ])
      .execute();
    await db
      .insertInto('content_items')
      .values({
        id: 'ci-b',
        kind: 'notice',
        title: 'Tin B',
        duration_ms: 1,
        created_at: 0,
        updated_at: 0,
        commune_id: 'xa-b',
        versions: JSON.stringify([{ language: 'km', sha256: SHA.v1 }]),
      })
      .execute();
    await db
      .insertInto('bulletins')
      .values({
        id: 'bul-1',
        title: 'Bản tin tỉnh',
        priority: 'normal',
        sha256: SHA.v3,
        duration_ms: 9_000,
        all_communes: 0,
        status: 'sent',
        created_by: 'tinh',
        created_at: 0,
        updated_at: 0,
      })
      .execute();
    await db
      .insertInto('bulletin_communes')
      .values({ bulletin_id: 'bul-1', commune_id: 'xa-b', status: 'received' })
      .execute();
    await db
      .insertInto('alerts')
      .values({
        id: 'alert-1',
        sender: 'nchmf',
        identifier: 'a-1',
        sent_at: 0,
        msg_type: 'Alert',
        status: 'Actual',
        event: 'Bão',
        severity: 'Severe',
        urgency: 'Immediate',
        certainty: 'Observed',
        level: 4,
        areas: '[]',
        received_at: 0,
        state: 'active',
      })
      .execute();

    const registry = registryDouble();
    bus = busDouble(target);
    const logger = pino({ level: 'silent' });
    planner = new Planner(target, registry, bus, logger, {
      horizonMs: HORIZON,
      media,
      onOverflow: (deviceId, left) => overflows.push([deviceId, left]),
    });
    const rendered = { ...fileAsset(SHA.rendered), engine: 'espeak', fallback: false, cached: false };
    const renderer = { render: async () => rendered } as unknown as NoticeRenderer;
    broadcasts = new BroadcastService({ sqlDb: target, bus, registry, renderer, media, planner, logger });
  }, 120_000);

  afterAll(async () => {
    await close?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('the media store', () => {
    it('finds a stored file only with its file, and its MP3 rendition', async () => {
      expect(await media.get(SHA.main)).toEqual(fileAsset(SHA.main));
      expect(await media.get(SHA.missing)).toBeNull();
      expect(await media.get(hex('9'))).toBeNull();
      expect(await media.mp3RenditionOf(SHA.main)).toEqual(fileAsset(SHA.mp3));
      expect(await media.mp3RenditionOf(SHA.prog)).toBeNull();
      const copies = await media.mp3RenditionsOf([SHA.main, SHA.prog, SHA.main]);
      expect([...copies]).toEqual([[SHA.main, fileAsset(SHA.mp3)]]);
      expect((await media.mp3RenditionsOf([])).size).toBe(0);
    });

    it('adopts a file under its hash once', async () => {
      const body = 'an adopted upload';
      const first = media.tempPath('ogg');
      fs.writeFileSync(first, body);
      const adopted = await media.adopt(first, 'ogg', 1234);
      expect(adopted).toEqual({ sha256: sha256Of(body), format: 'ogg', bytes: body.length, durationMs: 1234 });
      const again = media.tempPath('ogg');
      fs.writeFileSync(again, body);
      // The row stands as first recorded (ON CONFLICT DO NOTHING): its duration is the first one's.
      await media.adopt(again, 'ogg', 999);
      expect(await media.get(sha256Of(body))).toEqual(adopted);
    });

    it('lets a commune download what it uses, what it was handed and what nobody uses yet', async () => {
      const visible = async (communeId: string, sha256: string, now?: number) =>
        await media.visibleTo(communeId, sha256, now);
      // An occurrence's audio (xa-c's plans use main); its MP3 rendition follows it.
      expect(await visible('xa-c', SHA.main)).toBe(true);
      expect(await visible('xa-c', SHA.mp3)).toBe(true);
      expect(await visible('xa-b', SHA.main)).toBe(false);
      expect(await visible('xa-b', SHA.mp3)).toBe(false);
      // A content item's version file, a programme's asset, a bulletin: xa-b's, not xa-a's.
      for (const sha of [SHA.v1, SHA.v2, SHA.v3]) {
        expect(await visible('xa-b', sha)).toBe(true);
        expect(await visible('xa-a', sha)).toBe(false);
      }
      // prog: xa-c's programme asset and xa-b's occurrence audio.
      expect(await visible('xa-b', SHA.prog)).toBe(true);
      expect(await visible('xa-c', SHA.prog)).toBe(true);
      expect(await visible('xa-a', SHA.prog)).toBe(false);
      // Nothing refers to it: a fresh upload, visible to whoever has its hash.
      expect(await visible('xa-a', SHA.v4)).toBe(true);
      // Handed to xa-a for six hours.
      media.grant('xa-a', SHA.v1, NOW);
      expect(await visible('xa-a', SHA.v1, NOW + HOUR)).toBe(true);
      expect(await visible('xa-a', SHA.v1, NOW + 7 * HOUR)).toBe(false);
      media.grant(null, SHA.v2, NOW);
      expect(await visible('xa-a', SHA.v2, NOW)).toBe(false);
    });
  });

  describe('the planner', () => {
    it("plans a device's own commune's scheduled occurrences ahead, in start order", async () => {
      const plan = await planner.planForDevice('p-ogg', NOW);
      const generation: { value: string } = await target.db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'generation')
        .executeTakeFirstOrThrow();
      expect(plan).toEqual({
        v: 1,
        planVersion: 1,
        epoch: generation.value,
        generatedAt: NOW,
        horizonEnd: NOW + HORIZON,
        zones: ['z-c1'],
        items: [
          {
            occurrenceId: 'o-playing',
            startAt: NOW - 30_000,
            priority: 'normal',
            title: 'Tin o-playing',
            assets: [asAsset(SHA.main)],
          },
          {
            occurrenceId: 'o-plan-1',
            startAt: NOW + HOUR,
            priority: 'priority',
            volume: 80,
            title: 'Tin o-plan-1',
            assets: [asAsset(SHA.main)],
          },
          {
            occurrenceId: 'o-prog',
            startAt: NOW + 2 * HOUR,
            priority: 'normal',
            title: 'Tin o-prog',
            assets: [
              asAsset(SHA.prog),
              asAsset(SHA.progMp3),
              { kind: 'stream', url: 'https://radio.example/live', durationMs: 60_000 },
            ],
          },
        ],
      } satisfies PlanPayload);
      expect((await planner.planForDevice('p-ogg', NOW)).planVersion).toBe(2);
      // Later, the item playing now has ended.
      expect((await planner.planForDevice('p-ogg', NOW + 31_000)).items.map((i) => i.occurrenceId)).toEqual([
        'o-plan-1',
        'o-prog',
      ]);
    });

    it('attaches the MP3 copies that exist for a device asking for MP3', async () => {
      const plan = await planner.planForDevice('p-mp3', NOW);
      const mp3 = { sha256: SHA.mp3, url: `/media/${SHA.mp3}.mp3`, bytes: fileAsset(SHA.mp3).bytes };
      expect(plan.items.map((i) => [i.occurrenceId, i.assets])).toEqual([
        ['o-playing', [{ ...asAsset(SHA.main), mp3 }]],
        ['o-plan-1', [{ ...asAsset(SHA.main), mp3 }]],
        [
          'o-prog',
          [
            asAsset(SHA.prog), // no copy made yet
            asAsset(SHA.progMp3),
            { kind: 'stream', url: 'https://radio.example/live', durationMs: 60_000 },
          ],
        ],
      ]);
    });

    it('back-fills the missing copies of the MP3 devices, once each', async () => {
      encoder.version = 'v1';
      const renditions = new Mp3Renditions({
        sqlDb: target,
        media,
        registry: registryDouble(),
        planner,
        logger: pino({ level: 'silent' }),
      });
      const gained = await renditions.prepareDevices(['p-ogg', 'p-mp3', 'a-1'], NOW);
      expect([...gained]).toEqual(['p-mp3']);
      const body = `mp3 v1 of ${SHA.prog}.ogg`;
      const made = { sha256: sha256Of(body), format: 'mp3', bytes: body.length, durationMs: 30_000 };
      expect(await media.mp3RenditionOf(SHA.prog)).toEqual(made);
      const plan = await planner.planForDevice('p-mp3', NOW);
      expect(plan.items.find((i) => i.occurrenceId === 'o-prog')!.assets[0]).toEqual({
        ...asAsset(SHA.prog),
        mp3: { sha256: made.sha256, url: `/media/${made.sha256}.mp3`, bytes: made.bytes },
      });
      // Nothing left to make.
      expect((await renditions.prepareDevices(['p-mp3'], NOW)).size).toBe(0);

      // A copy whose file went missing is made again, and the rendition row follows it (upsert).
      // (On PostgreSQL every instance's copy comes from the database: gone means gone there too.)
      fs.rmSync(path.join(media.root, media.relativePath(made.sha256, 'mp3')));
      await target.db.deleteFrom('media_blobs').where('sha256', '=', made.sha256).execute();
      encoder.version = 'v2';
      const remade = await media.mp3Rendition(fileAsset(SHA.prog));
      const body2 = `mp3 v2 of ${SHA.prog}.ogg`;
      expect(remade).toEqual({ sha256: sha256Of(body2), format: 'mp3', bytes: body2.length, durationMs: 30_000 });
      expect(await media.mp3RenditionOf(SHA.prog)).toEqual(remade);
      // An MP3 source is its own copy.
      expect(await media.mp3Rendition(fileAsset(SHA.progMp3))).toEqual(fileAsset(SHA.progMp3));
    });

    it('carries the earliest items of a full plan and counts the rest', async () => {
      const extra = 2;
      const total = MAX_PLAN_ITEMS + extra;
      const ids = Array.from({ length: total }, (_, i) => `busy-${String(i).padStart(5, '0')}`);
      for (let i = 0; i < total; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await target.db
          .insertInto('occurrences')
          .values(
            chunk.map((id, k) => ({
              id,
              title: id,
              priority: 'normal',
              start_at: NOW + HOUR + (i + k) * MIN,
              duration_ms: 1000,
              sha256: SHA.main,
              created_at: 0,
              commune_id: 'xa-c',
            })),
          )
          .execute();
        await target.db
          .insertInto('deliveries')
          .values(chunk.map((id) => ({ occurrence_id: id, device_id: 'p-busy' })))
          .execute();
      }
      const plan = await planner.planForDevice('p-busy', NOW);
      expect(plan.items).toHaveLength(MAX_PLAN_ITEMS);
      expect(plan.items[0]!.occurrenceId).toBe('busy-00000');
      expect(plan.items.at(-1)!.occurrenceId).toBe(ids[MAX_PLAN_ITEMS - 1]);
      expect(overflows).toEqual([['p-busy', extra]]);
    });

    it('publishes each plan retained on the device’s plan topic', async () => {
      bus.sent.length = 0;
      await planner.publishPlans(['p-ogg', 'p-mp3']);
      expect(bus.sent.map((s) => [s.topic, s.options])).toEqual(
        expect.arrayContaining([
          [topics.devicePlan('p-ogg'), { retain: true, qos: 1 }],
          [topics.devicePlan('p-mp3'), { retain: true, qos: 1 }],
        ]),
      );
      expect(bus.sent).toHaveLength(2);
    });
  });

  describe('the broadcast service', () => {
    const inline = (sha256: string) => Buffer.from((FILES[sha256] as { body: string }).body).toString('base64');

    it('sends a notice now on its zone after storing it, then its Khmer version after it', async () => {
      bus.sent.length = 0;
      const before = Date.now();
      const result = await broadcasts.create({
        communeId: 'xa-a',
        text: 'Họp thôn lúc 14 giờ\nTại nhà văn hoá.',
        zones: ['z-a1'],
        versions: [{ language: 'km', audio: SHA.km }],
        createdBy: 'can-bo',
      });
      expect(result.deviceIds).toEqual(['a-1']); // a-rev is revoked
      expect(result.overridden).toEqual([]);
      expect(result.versions).toEqual([{ language: 'km', occurrenceId: expect.any(String), deviceIds: ['a-1'] }]);
      const kmId = result.versions[0]!.occurrenceId;

      // One publish per zone: the notice, then the version naming it; each after its rows were committed.
      expect(bus.sent.map((s) => [s.topic, s.message.occurrenceId, s.message.after, s.storedDeliveries])).toEqual([
        [topics.zoneCmd('z-a1'), result.occurrenceId, undefined, 1],
        [topics.zoneCmd('z-a1'), kmId, result.occurrenceId, 1],
      ]);
      // Every active loudspeaker of z-a1 reads framed commands (a-rev, revoked, does not count).
      expect(bus.sent.map((s) => s.framed)).toEqual([true, true]);
      const main = bus.sent[0]!.message as unknown as PlayNowCommand;
      expect(main).toMatchObject({
        v: 1,
        action: 'play-now',
        priority: 'normal',
        title: 'Họp thôn lúc 14 giờ',
        assets: [{ ...asAsset(SHA.rendered), data: inline(SHA.rendered) }],
      });
      expect(main.expiresAt - main.issuedAt).toBe(5 * MIN);
      expect(bus.sent[1]!.message).toMatchObject({
        title: 'Họp thôn lúc 14 giờ (Tiếng Khmer)',
        assets: [{ ...asAsset(SHA.km), data: inline(SHA.km) }],
      });

      const rows: {
        id: string;
        commune_id: string;
        text: string | null;
        sha256: string;
        engine: string | null;
        command_id: string | null;
        created_by: string | null;
        public_items: string | null;
        start_at: number;
      }[] = await target.db
        .selectFrom('occurrences')
        .select([
          'id',
          'commune_id',
          'text',
          'sha256',
          'engine',
          'command_id',
          'created_by',
          'public_items',
          'start_at',
        ])
        .where('id', 'in', [result.occurrenceId, kmId])
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(result.occurrenceId)).toMatchObject({
        commune_id: 'xa-a',
        text: 'Họp thôn lúc 14 giờ\nTại nhà văn hoá.',
        sha256: SHA.rendered,
        engine: 'espeak',
        command_id: main.commandId,
        created_by: 'can-bo',
      });
      expect(JSON.parse(byId.get(result.occurrenceId)!.public_items!)).toEqual([
        {
          title: 'Họp thôn lúc 14 giờ',
          text: 'Họp thôn lúc 14 giờ\nTại nhà văn hoá.',
          sha256: SHA.rendered,
          durationMs: 5_000,
          language: 'vi',
        },
      ]);
      expect(byId.get(kmId)).toMatchObject({
        sha256: SHA.km,
        engine: null,
        command_id: bus.sent[1]!.message.commandId,
      });
      expect(JSON.parse(byId.get(kmId)!.public_items!)[0]).toMatchObject({ sha256: SHA.km, language: 'km' });
      expect(byId.get(result.occurrenceId)!.start_at).toBeGreaterThanOrEqual(before);

      // Sent again to one device under the same command id, until the given instant: framed to an
      // agent that reads framed commands, JSON with the same audio to one that has not said so.
      bus.sent.length = 0;
      await broadcasts.resendPlayNow(result.occurrenceId, 'a-1', NOW);
      await broadcasts.resendPlayNow(result.occurrenceId, 'A-2', NOW);
      expect(bus.sent.map((s) => [s.topic, s.message.commandId, s.message.expiresAt, s.framed])).toEqual([
        [topics.deviceCmd('a-1'), main.commandId, NOW, true],
        [topics.deviceCmd('A-2'), main.commandId, NOW, false],
      ]);
      for (const s of bus.sent) expect(s.message.assets).toEqual(main.assets);
    });

    it('plans a notice at a set time for every loudspeaker of its commune, its version after it', async () => {
      bus.sent.length = 0;
      const at = new Date(Date.now() + HOUR);
      const result = await broadcasts.create({
        communeId: 'xa-a',
        text: 'Lịch tiêm phòng',
        zones: 'all',
        at,
        priority: 'priority',
        public: false,
        versions: [{ language: 'km', audio: SHA.km, title: 'Khmer', text: ' Ká ' }],
      });
      expect(result.deviceIds).toEqual(['A-2', 'a-1']);
      // Only z-a1 lists Khmer.
      expect(result.versions).toEqual([{ language: 'km', occurrenceId: expect.any(String), deviceIds: ['a-1'] }]);
      const kmId = result.versions[0]!.occurrenceId;
      const rows: {
        id: string;
        start_at: number;
        command_id: string | null;
        public_items: string | null;
        title: string;
        text: string | null;
      }[] = await target.db
        .selectFrom('occurrences')
        .select(['id', 'start_at', 'command_id', 'public_items', 'title', 'text'])
        .where('id', 'in', [result.occurrenceId, kmId])
        .orderBy('start_at')
        .execute();
      // The version starts when the notice (5 s) has ended, a second later.
      expect(rows).toEqual([
        {
          id: result.occurrenceId,
          start_at: at.getTime(),
          command_id: null,
          public_items: null,
          title: 'Lịch tiêm phòng',
          text: 'Lịch tiêm phòng',
        },
        {
          id: kmId,
          start_at: at.getTime() + 5_000 + 1_000,
          command_id: null,
          public_items: null,
          title: 'Khmer',
          text: 'Ká',
        },
      ]);
      // No command: a new plan for each loudspeaker, retained, holding what it plays.
      expect(bus.sent.map((s) => s.topic).sort()).toEqual([topics.devicePlan('A-2'), topics.devicePlan('a-1')].sort());
      const planOf = (id: string) =>
        (bus.sent.find((s) => s.topic === topics.devicePlan(id))!.message as unknown as PlanPayload).items.map((i) => [
          i.occurrenceId,
          i.startAt,
        ]);
      expect(planOf('A-2')).toEqual([[result.occurrenceId, at.getTime()]]);
      expect(planOf('a-1')).toEqual([
        [result.occurrenceId, at.getTime()],
        [kmId, at.getTime() + 6_000],
      ]);

      // Seen in its commune (deliveries in byte order), not from another.
      const view = await broadcasts.getOccurrence(communeScope('xa-a'), result.occurrenceId);
      expect(view).toEqual({
        id: result.occurrenceId,
        communeId: 'xa-a',
        title: 'Lịch tiêm phòng',
        priority: 'priority',
        startAt: at.toISOString(),
        durationMs: 5_000,
        sha256: SHA.rendered,
        engine: 'espeak',
        stoppedAt: null,
        stoppedBy: null,
        deliveries: [
          { deviceId: 'A-2', stage: 'pending', at: null, detail: null },
          { deviceId: 'a-1', stage: 'pending', at: null, detail: null },
        ],
      });
      expect(await broadcasts.getOccurrence(PROVINCE, result.occurrenceId)).toEqual(view);
      expect(await broadcasts.getOccurrence(communeScope('xa-b'), result.occurrenceId)).toBeNull();
      expect(await broadcasts.getOccurrence(PROVINCE, 'occ-none')).toBeNull();

      // Nothing to resend for a planned occurrence.
      bus.sent.length = 0;
      await broadcasts.resendPlayNow(result.occurrenceId, 'a-1', NOW);
      expect(bus.sent).toEqual([]);
    });

    it('refuses what it cannot send, with the same messages', async () => {
      const refusal = async (request: Partial<Parameters<BroadcastService['create']>[0]>) => {
        const err = await broadcasts.create({ communeId: 'xa-a', text: 'Tin', zones: ['z-a1'], ...request }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(BroadcastInputError);
        return [(err as BroadcastInputError).field, (err as BroadcastInputError).message];
      };
      // Another commune's zone is unknown here.
      expect(await refusal({ zones: ['z-b1', 'z-a1'] })).toEqual(['zones', 'zones: unknown zone(s) z-b1']);
      expect(await refusal({ zones: ['z-empty'] })).toEqual([
        'zones',
        'zones: there are no loudspeakers in the chosen zones',
      ]);
      expect(await refusal({ versions: [{ language: 'km', audio: SHA.missing }] })).toEqual([
        'versions[0].audio',
        `versions[0].audio: no uploaded audio ${SHA.missing}`,
      ]);
      expect(await refusal({ text: '  ' })).toEqual(['text', 'text: the notice is empty']);
    });

    it('airs an alert on the active loudspeakers of its commune only, each on its own topic', async () => {
      bus.sent.length = 0;
      const longTitle = 'B'.repeat(250);
      const occurrenceId = await broadcasts.airAlert({
        communeId: 'xa-a',
        alertId: 'alert-1',
        deviceIds: ['a-1', 'a-rev', 'b-1', 'A-2', 'nope'],
        title: longTitle,
        text: 'Bão số 3',
        audio: { ...fileAsset(SHA.main), engine: null },
      });
      expect(occurrenceId).not.toBeNull();
      // Sent together: in any order.
      expect(bus.sent.map((s) => [s.topic, s.message.priority, s.storedDeliveries, s.framed]).sort()).toEqual([
        [topics.deviceCmd('A-2'), 'emergency', 2, false],
        [topics.deviceCmd('a-1'), 'emergency', 2, true],
      ]);
      // Both carry the same audio: raw bytes to a-1, base64 to A-2.
      const [first, second] = bus.sent.map((s) => (s.message as unknown as PlayNowCommand).assets);
      expect(first).toEqual(second);
      expect(first).toEqual([expect.objectContaining({ data: inline(SHA.main) })]);
      const row: { alert_id: string; created_by: string; title: string; commune_id: string } = await target.db
        .selectFrom('occurrences')
        .select(['alert_id', 'created_by', 'title', 'commune_id'])
        .where('id', '=', occurrenceId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ alert_id: 'alert-1', created_by: 'cap', title: `${'B'.repeat(199)}…`, commune_id: 'xa-a' });
      expect(
        await broadcasts.airAlert({
          communeId: 'xa-a',
          alertId: 'alert-1',
          deviceIds: ['a-rev', 'b-1'],
          title: 'Bão',
          text: 'Bão',
          audio: { ...fileAsset(SHA.main), engine: null },
        }),
      ).toBeNull();
    });

    it('plays a file on devices of one commune, and refuses devices of two', async () => {
      bus.sent.length = 0;
      const occurrenceId = await broadcasts.playFile({
        title: 'Thử loa',
        audio: fileAsset(SHA.km),
        deviceIds: ['A-2'],
      });
      const view = await broadcasts.getOccurrence(communeScope('xa-a'), occurrenceId);
      expect(view?.deliveries.map((d) => d.deviceId)).toEqual(['A-2']);
      expect(bus.sent.map((s) => s.topic)).toEqual([topics.deviceCmd('A-2')]);
      await expect(
        broadcasts.playFile({ title: 'Thử loa', audio: fileAsset(SHA.km), deviceIds: ['a-1', 'b-1'] }),
      ).rejects.toThrow('the devices a-1, b-1 are in 2 communes, not one');
    });

    it('airs a bulletin in one commune, with its expiry', async () => {
      const input = {
        communeId: 'xa-a',
        bulletinId: 'bul-1',
        title: 'Bản tin tỉnh',
        text: null,
        priority: 'normal' as const,
        audio: { ...fileAsset(SHA.v3), engine: null },
        public: true,
        createdBy: 'tinh',
      };
      await expect(broadcasts.airBulletin({ ...input, zones: ['z-b1'] })).rejects.toThrow(
        'zones: unknown zone(s) z-b1',
      );
      expect(await broadcasts.airBulletin({ ...input, zones: ['z-empty'] })).toBeNull();
      bus.sent.length = 0;
      const aired = await broadcasts.airBulletin({ ...input, zones: ['z-a2'], expiresAt: NOW + DAY });
      expect(aired?.deviceIds).toEqual(['A-2']);
      // A-2's agent has not said it reads framed commands: z-a2 gets JSON.
      expect(bus.sent.map((s) => [s.topic, s.message.expiresAt, s.storedDeliveries, s.framed])).toEqual([
        [topics.zoneCmd('z-a2'), NOW + DAY, 1, false],
      ]);
      const row: { bulletin_id: string } = await target.db
        .selectFrom('occurrences')
        .select('bulletin_id')
        .where('id', '=', aired!.occurrenceId)
        .executeTakeFirstOrThrow();
      expect(row.bulletin_id).toBe('bul-1');
    });

    it('airs a live session, then records how long it lasted and its recording', async () => {
      await target.db
        .insertInto('live_sessions')
        .values({
          id: 'live-1',
          commune_id: 'xa-a',
          key: 7,
          title: 'Trực tiếp',
          priority: 'priority',
          zones: JSON.stringify(['z-a1']),
          latency_ms: 1000,
          max_ms: 60_000,
          started_by: 'can-bo',
          started_at: 0,
        })
        .execute();
      bus.sent.length = 0;
      const { occurrenceId, deviceIds } = await broadcasts.airLive({
        communeId: 'xa-a',
        liveSessionId: 'live-1',
        title: 'Trực tiếp',
        priority: 'priority',
        zones: ['z-a1'],
        createdBy: 'can-bo',
        placeholder: fileAsset(SHA.main),
        asset: (zoneId) => ({ kind: 'live', url: `live/${zoneId}`, durationMs: 60_000 }) as never,
      });
      expect(deviceIds).toEqual(['a-1']);
      expect(bus.sent.map((s) => [s.topic, s.message.occurrenceId, s.storedDeliveries])).toEqual([
        [topics.zoneCmd('z-a1'), occurrenceId, 1],
      ]);
      const read = async () =>
        (await target.db
          .selectFrom('occurrences')
          .select(['duration_ms', 'sha256', 'live_session_id', 'text'])
          .where('id', '=', occurrenceId)
          .executeTakeFirstOrThrow()) as { duration_ms: number; sha256: string; live_session_id: string; text: null };
      expect(await read()).toEqual({ duration_ms: 60_000, sha256: SHA.main, live_session_id: 'live-1', text: null });
      await broadcasts.endLive(occurrenceId, [], Date.now() - 4_000, 0);
      const ended = await read();
      expect(ended.duration_ms).toBeGreaterThanOrEqual(4_000);
      expect(ended.duration_ms).toBeLessThan(30_000);
      await broadcasts.liveRecorded([occurrenceId], fileAsset(SHA.km));
      expect(await read()).toMatchObject({ duration_ms: 7_000, sha256: SHA.km });
    });
  });
});
