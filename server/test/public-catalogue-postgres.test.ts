/**
 * The villagers' public page reads the same notices from PostgreSQL as from
 * SQLite (public/catalogue.ts on the shared query layer): the same history is
 * written into both, and every question the page, widget and podcast ask gets
 * the same answer — checked against what the history says by hand, too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database';
import { migratePostgres, postgresSql, sqliteSql, type SqlDb } from '../src/db/sql';
import type { MediaAsset } from '../src/media/store';
import { EMERGENCY_BANNER_MS, PublicCatalogue } from '../src/public/catalogue';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the public page on PostgreSQL');

const HOUR = 3600_000;
/** 2026-12-06 09:00 in Ha Noi. */
const NOW = Date.UTC(2026, 11, 6, 2, 0, 0);
const sha = (n: number) => n.toString(16).padStart(64, '0');
const item = (n: number, title: string) => ({
  title,
  text: `${title}.`,
  sha256: sha(n),
  durationMs: 4000,
  language: 'vi',
});

/** The same history for both engines, written by the same code. */
async function writeHistory(target: SqlDb): Promise<void> {
  const { db } = target;
  await db.insertInto('communes').values({ id: 'tan-lap', name: 'Xã Tân Lập', created_at: 0 }).execute();
  await db
    .insertInto('zones')
    .values([
      { id: 'thon-dong', commune_id: 'default', name: 'Thôn Đông', created_at: 0 },
      { id: 'thon-tay', commune_id: 'default', name: 'Thôn Tây', created_at: 0 },
      { id: 'thon-bac', commune_id: 'tan-lap', name: 'Thôn Bắc', created_at: 0 },
    ])
    .execute();
  await db
    .insertInto('devices')
    .values(
      ['loa-1', 'loa-2', 'loa-3'].map((id, i) => ({
        id,
        name: id,
        secret_hash: 'x',
        created_at: 0,
        commune_id: i < 2 ? 'default' : 'tan-lap',
      })),
    )
    .execute();
  await db
    .insertInto('device_zones')
    .values([
      { device_id: 'loa-1', zone_id: 'thon-dong' },
      { device_id: 'loa-2', zone_id: 'thon-tay' },
      { device_id: 'loa-3', zone_id: 'thon-bac' },
    ])
    .execute();
  await db
    .insertInto('media')
    .values(
      [1, 2, 3, 4, 5].map((n) => ({ sha256: sha(n), format: 'ogg', bytes: 100, duration_ms: 4000, created_at: 0 })),
    )
    .execute();
  const occurrence = (
    id: string,
    startAt: number,
    items: ReturnType<typeof item>[] | null,
    extra: Record<string, unknown> = {},
  ) => ({
    id,
    title: id,
    priority: 'normal',
    start_at: startAt,
    duration_ms: 4000,
    sha256: items?.[0]?.sha256 ?? sha(5),
    created_at: 0,
    commune_id: 'default',
    public_items: items ? JSON.stringify(items) : null,
    ...extra,
  });
  await db
    .insertInto('occurrences')
    .values([
      // The same notice aired twice (both villages, then one), a second notice, one never aired,
      // one cancelled, one private, one of another commune, and an emergency 30 minutes ago.
      occurrence('o-a1', NOW - 48 * HOUR, [item(1, 'Lịch tiêm phòng')]),
      occurrence('o-a2', NOW - 24 * HOUR, [item(1, 'Lịch tiêm phòng')]),
      occurrence('o-b', NOW - 3 * HOUR, [item(2, 'Họp dân'), item(3, 'Họp dân (H’Mông)')]),
      occurrence('o-unaired', NOW - 2 * HOUR, [item(4, 'Chưa phát')]),
      occurrence('o-cancelled', NOW - 5 * HOUR, [item(4, 'Đã huỷ')], { cancelled_at: NOW - 6 * HOUR }),
      occurrence('o-private', NOW - 4 * HOUR, null),
      occurrence('o-other', NOW - 4 * HOUR, [item(5, 'Xã khác')], { commune_id: 'tan-lap' }),
      occurrence('o-emergency', NOW - 30 * 60_000, [item(5, 'Lũ về')], { priority: 'emergency' }),
    ])
    .execute();
  const delivered = (occurrenceId: string, deviceId: string, stage: string) => ({
    occurrence_id: occurrenceId,
    device_id: deviceId,
    stage,
    at: NOW - HOUR,
  });
  await db
    .insertInto('deliveries')
    .values([
      delivered('o-a1', 'loa-1', 'finished'),
      delivered('o-a1', 'loa-2', 'started'),
      delivered('o-a2', 'loa-1', 'finished'),
      delivered('o-a2', 'loa-2', 'failed'),
      delivered('o-b', 'loa-2', 'finished'),
      delivered('o-unaired', 'loa-1', 'pending'),
      delivered('o-cancelled', 'loa-1', 'finished'),
      delivered('o-private', 'loa-1', 'finished'),
      delivered('o-other', 'loa-3', 'finished'),
      delivered('o-emergency', 'loa-1', 'finished'),
    ])
    .execute();
}

/** Every answer the public routes ask the catalogue for. */
async function answers(target: SqlDb) {
  const media = {
    get: async (sha256: string) => ({ sha256, format: 'ogg' }) as MediaAsset,
    mp3Rendition: async (source: MediaAsset) => ({ ...source, format: 'mp3' }) as MediaAsset,
  };
  const catalogue = new PublicCatalogue(target, media);
  const window = { since: NOW - 7 * 24 * HOUR, now: NOW };
  return {
    defaultCommune: await catalogue.commune(),
    tanLap: await catalogue.commune('tan-lap'),
    unknown: await catalogue.commune('khong-co'),
    notices: await catalogue.notices('default', { ...window, limit: 10 }),
    firstOnly: await catalogue.notices('default', { ...window, limit: 1 }),
    otherCommune: await catalogue.notices('tan-lap', { ...window, limit: 10 }),
    emergency: await catalogue.currentEmergency('default', NOW),
    emergencyOver: await catalogue.currentEmergency('default', NOW + EMERGENCY_BANNER_MS),
    audio: {
      aired: (await catalogue.audio('default', sha(1), 'mp3'))?.format ?? null,
      secondVersion: (await catalogue.audio('default', sha(3), 'ogg'))?.format ?? null,
      neverAired: await catalogue.audio('default', sha(4), 'ogg'),
      elsewhere: await catalogue.audio('default', sha(99), 'ogg'),
      otherCommunes: await catalogue.audio('tan-lap', sha(1), 'ogg'),
    },
  };
}

describe.skipIf(!hasPostgres)('the public catalogue on PostgreSQL and SQLite', () => {
  let server: TestPostgres;
  let postgres: SqlDb;
  let sqlite: SqlDb;

  beforeAll(async () => {
    server = await startPostgres();
    postgres = postgresSql(server.url, { poolSize: 2 });
    await migratePostgres(postgres);
    sqlite = sqliteSql(openDatabase(fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-catalogue-'))));
    await writeHistory(sqlite);
    await writeHistory(postgres);
  }, 60_000);

  afterAll(async () => {
    await postgres?.close();
    await sqlite?.close();
    await server?.close();
  });

  it('answers the same on both, and as the history says', async () => {
    const [fromSqlite, fromPostgres] = [await answers(sqlite), await answers(postgres)];
    expect(fromPostgres).toEqual(fromSqlite);

    expect(fromSqlite.defaultCommune).toEqual({ id: 'default', name: 'Xã' });
    expect(fromSqlite.tanLap).toEqual({ id: 'tan-lap', name: 'Xã Tân Lập' });
    expect(fromSqlite.unknown).toBeNull();
    // Newest first: the emergency, the meeting (two languages), the vaccination aired twice.
    expect(fromSqlite.notices.map((n) => [n.title, n.airedAt, n.villages])).toEqual([
      ['Lũ về', [NOW - 30 * 60_000], ['Thôn Đông']],
      ['Họp dân', [NOW - 3 * HOUR], ['Thôn Tây']],
      ['Họp dân (H’Mông)', [NOW - 3 * HOUR], ['Thôn Tây']],
      ['Lịch tiêm phòng', [NOW - 24 * HOUR, NOW - 48 * HOUR], ['Thôn Đông', 'Thôn Tây']],
    ]);
    expect(fromSqlite.firstOnly.map((n) => n.title)).toEqual(['Lũ về']);
    expect(fromSqlite.otherCommune.map((n) => n.title)).toEqual(['Xã khác']);
    expect(fromSqlite.emergency).toEqual({ title: 'Lũ về', text: 'Lũ về.', startAt: NOW - 30 * 60_000 });
    expect(fromSqlite.emergencyOver).toBeNull();
    expect(fromSqlite.audio).toEqual({
      aired: 'mp3',
      secondVersion: 'ogg',
      neverAired: null,
      elsewhere: null,
      otherCommunes: null,
    });
  });
});
