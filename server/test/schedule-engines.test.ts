/**
 * The scheduling capability's queries (schedule/: content library, programmes, schedules with
 * their approval workflow, occurrence materialisation, the calendar, the roll-forward and the
 * retention clean-up) on each engine the server can use, over one small commune-and-province
 * story. Expected values are worked out by hand from the rows written here; the registry,
 * media store and planner are test doubles (the registry reads the same tables).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { SqlDb, Tables } from '../src/db/sql';
import type { DeviceRegistry } from '../src/devices/registry';
import { createLogger } from '../src/logger';
import type { MediaAsset, MediaStore } from '../src/media/store';
import type { Planner } from '../src/broadcasts/planner';
import type { NoticeRenderer } from '../src/tts/render';
import { ScheduleInputError } from '../src/schedule/errors';
import { Scheduling } from '../src/schedule/scheduling';
import type { Actor, ScheduleInput } from '../src/schedule/schedules';
import { communeScope, PROVINCE, type Scope } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Sunday 6 December 2026, 00:00 UTC (07:00 in Hanoi). */
const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);
const VN = 'Asia/Ho_Chi_Minh';
const A = communeScope('xa-a');
const B = communeScope('xa-b');
const NEWS = '1'.repeat(64);
const OLD = '3'.repeat(64);
const OLD_MP3 = '4'.repeat(64);
const RECENT = '5'.repeat(64);
const GENERATED = '6'.repeat(64);
const IN_VERSIONS = '7'.repeat(64);
const iso = (ms: number) => new Date(ms).toISOString();

const editor: Actor = { username: 'bien-tap', canApprove: false, canPublish: false };
const leader: Actor = { username: 'lanh-dao', canApprove: true, canPublish: false };

/** The registry's answers, read from the same tables the server's registry keeps. */
function tableRegistry(db: Kysely<Tables>): DeviceRegistry {
  const registry = {
    async devicesIn(zones: string[], scope: Scope = PROVINCE): Promise<string[]> {
      if (zones.length === 0) return [];
      const rows: { id: string }[] = await db
        .selectFrom('device_zones as dz')
        .innerJoin('devices as d', 'd.id', 'dz.device_id')
        .select('d.id')
        .distinct()
        .where('dz.zone_id', 'in', zones)
        .where('d.revoked_at', 'is', null)
        .$if(scope.communeId !== null, (q) => q.where('d.commune_id', '=', scope.communeId))
        .execute();
      return rows.map((r) => r.id).sort();
    },
    async unknownZones(zoneIds: string[], scope: Scope = PROVINCE): Promise<string[]> {
      if (zoneIds.length === 0) return [];
      const known: { id: string }[] = await db
        .selectFrom('zones')
        .select('id')
        .where('id', 'in', zoneIds)
        .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
        .execute();
      return zoneIds.filter((z) => !known.some((k) => k.id === z));
    },
    async getDevice(id: string, scope: Scope = PROVINCE): Promise<{ id: string } | null> {
      const row: { id: string } | undefined = await db
        .selectFrom('devices')
        .select('id')
        .where('id', '=', id)
        .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
        .executeTakeFirst();
      return row ?? null;
    },
    async zoneLanguages(zoneIds: readonly string[]): Promise<Map<string, string[]>> {
      if (zoneIds.length === 0) return new Map();
      const rows: { id: string; languages: string }[] = await db
        .selectFrom('zones')
        .select(['id', 'languages'])
        .where('id', 'in', [...zoneIds])
        .execute();
      return new Map(rows.map((r) => [r.id, JSON.parse(r.languages) as string[]]));
    },
  };
  return registry as unknown as DeviceRegistry;
}

/** The media store's answers from the media table; files in a temporary directory. */
function tableMedia(db: Kysely<Tables>, root: string): MediaStore {
  const media = {
    root,
    relativePath: (sha256: string, format: string) => `${sha256}.${format}`,
    async get(sha256: string): Promise<MediaAsset | null> {
      const row: { sha256: string; format: 'ogg' | 'mp3'; bytes: number; duration_ms: number } | undefined = await db
        .selectFrom('media')
        .select(['sha256', 'format', 'bytes', 'duration_ms'])
        .where('sha256', '=', sha256)
        .executeTakeFirst();
      return row ? { sha256: row.sha256, format: row.format, bytes: row.bytes, durationMs: row.duration_ms } : null;
    },
  };
  return media as unknown as MediaStore;
}

/** What a promise rejected with, as a ScheduleInputError. */
async function refusal(work: Promise<unknown>): Promise<ScheduleInputError> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(ScheduleInputError);
    return err as ScheduleInputError;
  }
  throw new Error('expected a refusal');
}

describe.each(engineCases('the scheduling queries on PostgreSQL'))('scheduling on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let scheduling: Scheduling;
  let mediaRoot: string;
  let clock = NOW;
  /** Each publishPlans call's devices, sorted. */
  const published: string[][] = [];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ target, close } = await open());
    const { db } = target;
    mediaRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-schedule-engines-'));
    await db
      .insertInto('communes')
      .values([
        { id: 'xa-a', name: 'Xã A', created_at: 0 },
        { id: 'xa-b', name: 'Xã B', created_at: 0 },
      ])
      .execute();
    await db
      .insertInto('zones')
      .values([
        { id: 'z-a1', commune_id: 'xa-a', name: 'Thôn 1', created_at: 0 },
        { id: 'z-b1', commune_id: 'xa-b', name: 'Thôn 1', created_at: 0 },
      ])
      .execute();
    const device = (id: string, communeId: string, revokedAt: number | null = null) => ({
      id,
      name: `Loa ${id}`,
      secret_hash: 'x',
      created_at: 0,
      commune_id: communeId,
      revoked_at: revokedAt,
    });
    await db
      .insertInto('devices')
      .values([
        device('a-1', 'xa-a'),
        device('a-2', 'xa-a'),
        device('a-3', 'xa-a', 1),
        device('a-4', 'xa-a'),
        device('b-1', 'xa-b'),
      ])
      .execute();
    await db
      .insertInto('device_zones')
      .values([
        { device_id: 'a-1', zone_id: 'z-a1' },
        { device_id: 'a-3', zone_id: 'z-a1' },
        { device_id: 'b-1', zone_id: 'z-b1' },
      ])
      .execute();
    const medium = (sha256: string, createdAt: number, format = 'ogg', durationMs = MIN) => ({
      sha256,
      format,
      bytes: 1000,
      duration_ms: durationMs,
      created_at: createdAt,
    });
    await db
      .insertInto('media')
      .values([
        medium(NEWS, NOW - 60 * DAY),
        medium(OLD, NOW - 60 * DAY),
        medium(OLD_MP3, NOW - 60 * DAY, 'mp3'),
        medium(RECENT, NOW - DAY),
        medium(GENERATED, NOW - 60 * DAY),
        medium(IN_VERSIONS, NOW - 60 * DAY),
      ])
      .execute();
    await db
      .insertInto('media_renditions')
      .values({ source_sha256: OLD, format: 'mp3', sha256: OLD_MP3, created_at: NOW - 60 * DAY })
      .execute();
    await db
      .insertInto('renders')
      .values({ cache_key: 'silence:v1:700', sha256: GENERATED, engine: 'silence', created_at: NOW - 60 * DAY })
      .execute();
    for (const sha of [OLD, OLD_MP3, RECENT]) {
      fs.writeFileSync(path.join(mediaRoot, `${sha}.${sha === OLD_MP3 ? 'mp3' : 'ogg'}`), 'x');
    }
    scheduling = new Scheduling({
      sql: target,
      registry: tableRegistry(db),
      media: tableMedia(db, mediaRoot),
      renderer: {} as NoticeRenderer,
      planner: {
        async publishPlans(devices: Iterable<string>) {
          published.push([...devices].sort());
        },
      } as unknown as Planner,
      logger: createLogger('silent'),
      timeZone: VN,
      horizonDays: 2,
      retentionDays: 30,
      now: () => clock,
    });
  }, 60_000);

  afterAll(async () => {
    await scheduling?.stop();
    await close?.();
    fs.rmSync(mediaRoot, { recursive: true, force: true });
  });

  it('keeps each commune’s library apart, searches it case-blind and by exact tag', async () => {
    const { content } = scheduling;
    clock = NOW + 1;
    const news = await content.create(
      'xa-a',
      { kind: 'audio', title: 'News at seven', sha256: NEWS, tags: ['news', 'Morning'] },
      'bien-tap',
    );
    clock = NOW + 2;
    const relay = await content.create(
      'xa-a',
      { kind: 'stream', title: 'Radio relay 50%', url: 'http://radio.example/live', durationMs: 2 * MIN },
      'bien-tap',
    );
    clock = NOW + 3;
    const theirs = await content.create(
      'xa-b',
      { kind: 'audio', title: 'Tin xã B', sha256: NEWS, tags: ['news'] },
      'bien-tap-b',
    );
    Object.assign(ids, { news: news.id, relay: relay.id, theirs: theirs.id });
    expect(news).toMatchObject({
      communeId: 'xa-a',
      kind: 'audio',
      sha256: NEWS,
      durationMs: MIN,
      public: false,
      tags: ['news', 'Morning'],
      revision: 1,
      createdAt: iso(NOW + 1),
    });
    expect(relay).toMatchObject({ url: 'http://radio.example/live', durationMs: 2 * MIN, sha256: null });

    expect(await content.get(A, theirs.id)).toBeNull();
    expect((await content.get(PROVINCE, theirs.id))?.title).toBe('Tin xã B');
    const titles = async (scope: Scope, filter: Parameters<typeof content.list>[1]) =>
      (await content.list(scope, filter)).map((c) => c.title);
    expect(await titles(A, {})).toEqual(['Radio relay 50%', 'News at seven']);
    expect(await titles(A, { q: 'NEWS' })).toEqual(['News at seven']);
    expect(await titles(A, { q: 'relay 50%' })).toEqual(['Radio relay 50%']);
    // An escaped wildcard: "5_%" matches no "5" followed by any character.
    expect(await titles(A, { q: '5_%' })).toEqual([]);
    expect(await titles(A, { tag: 'Morning' })).toEqual(['News at seven']);
    expect(await titles(A, { tag: 'morning' })).toEqual([]);
    expect(await titles(A, { kind: 'stream' })).toEqual(['Radio relay 50%']);
    expect(await titles(PROVINCE, { tag: 'news' })).toEqual(['Tin xã B', 'News at seven']);
    expect(await titles(B, { q: 'seven' })).toEqual([]);
  });

  it('changes an item by compare-and-set and answers 409 with the item as it is', async () => {
    const { content } = scheduling;
    clock = NOW + 10;
    const input = { kind: 'stream' as const, title: 'Radio relay 50%', url: 'http://radio.example/live' };
    const changed = await content.update(A, ids.relay!, { ...input, durationMs: 2 * MIN, revision: 1 });
    expect(changed).toMatchObject({ revision: 2, updatedAt: iso(NOW + 10), durationMs: 2 * MIN });
    const stale = await refusal(content.update(A, ids.relay!, { ...input, durationMs: 3 * MIN, revision: 1 }));
    expect(stale.status).toBe(409);
    expect(stale.field).toBe('revision');
    expect(stale.message).toBe(
      `the item changed meanwhile (now revision 2, ${iso(NOW + 10)}); reload it and try again`,
    );
    expect(stale.detail?.current).toMatchObject({ id: ids.relay, revision: 2, durationMs: 2 * MIN });
    // Another commune's item answers as an unknown one.
    expect((await refusal(content.update(A, ids.theirs!, { ...input, durationMs: MIN }))).status).toBe(404);
  });

  it('builds programmes from the commune’s items, with compare-and-set changes', async () => {
    const { programmes, content } = scheduling;
    clock = NOW + 20;
    const bad = await refusal(programmes.create('xa-a', { title: 'Lẫn', items: [{ contentId: ids.theirs! }] }, null));
    expect([bad.status, bad.field]).toEqual([400, 'items.0.contentId']);
    const morning = await programmes.create(
      'xa-a',
      { title: 'Morning', items: [{ contentId: ids.news!, repeat: 2 }, { contentId: ids.relay! }] },
      'bien-tap',
    );
    ids.programme = morning.id;
    // Two passes of a minute of news, then two minutes of relay.
    expect(morning).toMatchObject({ communeId: 'xa-a', durationMs: 4 * MIN, revision: 1, contentRevisions: [1, 2] });
    expect(morning.items.map((i) => [i.contentId, i.repeat, i.gapMs, i.durationMs])).toEqual([
      [ids.news, 2, 0, MIN],
      [ids.relay, 1, 0, 2 * MIN],
    ]);
    expect(await programmes.get(B, morning.id)).toBeNull();
    expect((await programmes.list(A)).map((p) => p.id)).toEqual([morning.id]);
    expect(await programmes.list(B)).toEqual([]);
    expect(await programmes.programmesUsing(ids.news!)).toEqual([morning.id]);

    clock = NOW + 30;
    const items = [{ contentId: ids.news!, repeat: 2 }, { contentId: ids.relay! }];
    expect((await programmes.update(A, morning.id, { title: 'Morning', items, revision: 1 })).revision).toBe(2);
    const stale = await refusal(programmes.update(A, morning.id, { title: 'Buổi sáng', items, revision: 1 }));
    expect([stale.status, stale.field]).toEqual([409, 'revision']);
    expect(stale.message).toBe(
      `the programme changed meanwhile (now revision 2, ${iso(NOW + 30)}); reload it and try again`,
    );
    expect(stale.detail?.current).toMatchObject({ id: morning.id, title: 'Morning', revision: 2 });

    const used = await refusal(content.remove(A, ids.news!));
    expect([used.status, used.message]).toEqual([409, 'the programme "Morning" still uses this item']);
  });

  it('takes a schedule from draft through approval, binding approval to what was reviewed', async () => {
    const { schedules } = scheduling;
    clock = NOW + 40;
    const input: ScheduleInput = {
      title: 'Morning daily',
      programmeId: ids.programme!,
      rule: { kind: 'daily', startDate: '2026-12-06', endDate: '2026-12-31', times: ['17:00'] },
      timezone: VN,
      zones: ['z-a1'],
      devices: ['a-2'],
    };
    const foreign = await refusal(schedules.create('xa-a', { ...input, zones: ['z-b1'] }, editor));
    expect([foreign.status, foreign.message]).toEqual([400, 'zones: unknown zone(s) z-b1']);
    const draft = await schedules.create('xa-a', input, editor);
    ids.schedule = draft.id;
    expect(draft).toMatchObject({
      communeId: 'xa-a',
      status: 'draft',
      zones: ['z-a1'],
      devices: ['a-2'],
      durationMs: 4 * MIN,
      revision: 1,
      createdBy: 'bien-tap',
      programmeTitle: 'Morning',
    });
    expect(await schedules.communeOf(A, draft.id)).toBe('xa-a');
    const hidden = await refusal(schedules.communeOf(B, draft.id));
    expect([hidden.status, hidden.message]).toEqual([404, `no schedule with id ${draft.id}`]);
    expect((await schedules.list(PROVINCE, { status: ['draft'] })).map((s) => s.id)).toEqual([draft.id]);
    expect(await schedules.list(PROVINCE, { status: ['approved', 'submitted'] })).toEqual([]);
    expect(await schedules.list(B)).toEqual([]);

    clock = NOW + 50;
    const submitted = await schedules.submit(A, draft.id, editor);
    expect([submitted.status, submitted.revision]).toEqual(['submitted', 2]);
    expect((await schedules.approvalQueue(A)).map((s) => s.id)).toEqual([draft.id]);
    expect(await schedules.approvalQueue(B)).toEqual([]);

    const wrong = await refusal(schedules.approve(A, draft.id, leader, 'not-what-is-there'));
    expect([wrong.status, wrong.field]).toEqual([409, 'revision']);
    expect(wrong.message).toBe(
      'the schedule, its programme or its content changed since it was reviewed ' +
        '(the schedule is now submitted, revision 2); reload it and try again',
    );
    expect(published).toEqual([]);

    clock = NOW + 60;
    const approved = await schedules.approve(A, draft.id, leader, submitted.reviewRevision);
    expect(approved).toMatchObject({
      status: 'approved',
      revision: 3,
      reviewedBy: 'lanh-dao',
      reviewedAt: iso(NOW + 60),
    });
    expect(await schedules.approvalQueue(A)).toEqual([]);
    // On air over a two-day horizon from 6 December 00:00 UTC: 17:00 in Hanoi (10:00 UTC) on the 6th
    // and the 7th, to the zone's active loudspeaker a-1 (a-3 is revoked) and to a-2, named.
    expect(published).toEqual([['a-1', 'a-2']]);
    const first = Date.UTC(2026, 11, 6, 10);
    const second = Date.UTC(2026, 11, 7, 10);
    ids.first = `occ-${draft.id}-${first.toString(36)}`;
    ids.second = `occ-${draft.id}-${second.toString(36)}`;
    const occurrences: { id: string; start_at: number; duration_ms: number; sha256: string; commune_id: string }[] =
      await target.db
        .selectFrom('occurrences')
        .select(['id', 'start_at', 'duration_ms', 'sha256', 'commune_id'])
        .where('schedule_id', '=', draft.id)
        .orderBy('start_at')
        .execute();
    expect(occurrences).toEqual([
      { id: ids.first, start_at: first, duration_ms: 4 * MIN, sha256: NEWS, commune_id: 'xa-a' },
      { id: ids.second, start_at: second, duration_ms: 4 * MIN, sha256: NEWS, commune_id: 'xa-a' },
    ]);
    const deliveries: { occurrence_id: string; device_id: string }[] = await target.db
      .selectFrom('deliveries')
      .select(['occurrence_id', 'device_id'])
      .execute();
    expect(deliveries.map((d) => `${d.occurrence_id === ids.first ? 1 : 2} ${d.device_id}`).sort()).toEqual([
      '1 a-1',
      '1 a-2',
      '2 a-1',
      '2 a-2',
    ]);
    // Materialising again changes nothing.
    expect([...(await scheduling.materialiser.materialiseSchedule(draft.id))]).toEqual([]);

    const stale = await refusal(schedules.update(A, draft.id, { ...input, revision: 1 }, leader));
    expect([stale.status, stale.field]).toEqual([409, 'revision']);
    expect(stale.message).toBe(
      'someone changed this schedule since you opened it (the schedule is now approved, revision 3); ' +
        'reload it and try again',
    );
  });

  it('lets one of two racing rejections land; the other answers 409 with the schedule as it is', async () => {
    const { schedules } = scheduling;
    clock = NOW + 70;
    const other = await schedules.create(
      'xa-a',
      {
        title: 'Họp thôn',
        programmeId: ids.programme!,
        rule: { kind: 'once', startDate: '2026-12-10', times: ['08:00'] },
        timezone: VN,
        devices: ['a-2'],
      },
      editor,
    );
    ids.other = other.id;
    await schedules.submit(A, other.id, editor);
    const results = await Promise.allSettled([
      schedules.reject(A, other.id, 'quá dài', leader),
      schedules.reject(A, other.id, 'trùng giờ', leader),
    ]);
    const landed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect([landed.length, refused.length]).toEqual([1, 1]);
    const error = refused[0]!.reason as ScheduleInputError;
    expect(error.status).toBe(409);
    expect(error.detail?.current).toMatchObject({ id: other.id, status: 'rejected', revision: 3 });
    expect((await schedules.get(A, other.id)).reviewReason).toBe(
      (landed[0] as PromiseFulfilledResult<{ reviewReason: string }>).value.reviewReason,
    );
  });

  it('cancels one occurrence in its commune only; materialising never undoes it', async () => {
    const { schedules, materialiser } = scheduling;
    clock = NOW + 80;
    published.length = 0;
    const hidden = await refusal(schedules.cancelOccurrence(B, ids.first!, leader));
    expect([hidden.status, hidden.message]).toEqual([404, `no occurrence with id ${ids.first}`]);
    expect((await refusal(schedules.cancelOccurrence(A, ids.first!, editor))).status).toBe(403);
    expect(await schedules.cancelOccurrence(A, ids.first!, leader)).toBe('xa-a');
    expect(published).toEqual([['a-1', 'a-2']]);
    // Cancelled already: nothing to re-plan.
    expect(await schedules.cancelOccurrence(A, ids.first!, leader)).toBe('xa-a');
    expect(published).toHaveLength(1);
    expect([...(await materialiser.materialiseSchedule(ids.schedule!))]).toEqual([]);
    const first: { cancelled_at: number | null } = await target.db
      .selectFrom('occurrences')
      .select('cancelled_at')
      .where('id', '=', ids.first!)
      .executeTakeFirstOrThrow();
    expect(first.cancelled_at).toBe(NOW + 80);
  });

  it('follows membership changes, found by zone and by delivery', async () => {
    const { db } = target;
    const { materialiser } = scheduling;
    expect([...(await materialiser.materialiseForDevices(['b-1']))]).toEqual([]);
    // a-1 leaves the zone: found by its delivery of the second play, which it loses; the cancelled
    // first play keeps its deliveries.
    await db.deleteFrom('device_zones').where('device_id', '=', 'a-1').execute();
    expect([...(await materialiser.materialiseForDevices(['a-1']))]).toEqual(['a-1']);
    // a-4 joins it: found by the zone, it gets the second play.
    await db.insertInto('device_zones').values({ device_id: 'a-4', zone_id: 'z-a1' }).execute();
    expect([...(await materialiser.materialiseForDevices(['a-4']))]).toEqual(['a-4']);
    const of = async (occurrenceId: string) =>
      (
        (await db.selectFrom('deliveries').select('device_id').where('occurrence_id', '=', occurrenceId).execute()) as {
          device_id: string;
        }[]
      )
        .map((d) => d.device_id)
        .sort();
    expect(await of(ids.first!)).toEqual(['a-1', 'a-2']);
    expect(await of(ids.second!)).toEqual(['a-2', 'a-4']);
  });

  it('shows the calendar of a scope with delivery counts and rule overrides', async () => {
    const { db } = target;
    await db
      .updateTable('deliveries')
      .set({ stage: 'finished', at: NOW })
      .where('occurrence_id', '=', ids.second!)
      .where('device_id', '=', 'a-2')
      .execute();
    await db
      .updateTable('deliveries')
      .set({ stage: 'failed', at: NOW })
      .where('occurrence_id', '=', ids.second!)
      .where('device_id', '=', 'a-4')
      .execute();
    await db
      .insertInto('audit_log')
      .values({
        at: NOW,
        actor: 'lanh-dao',
        action: 'rules.override',
        target: ids.schedule,
        detail: JSON.stringify({ reason: 'lễ hội' }),
        ip: null,
        commune_id: 'xa-a',
      })
      .execute();
    const week = await scheduling.calendar(A, NOW, NOW + 7 * DAY);
    expect(week).toEqual([
      {
        occurrenceId: ids.first,
        communeId: 'xa-a',
        scheduleId: ids.schedule,
        title: 'Morning daily',
        priority: 'normal',
        start: iso(Date.UTC(2026, 11, 6, 10)),
        end: iso(Date.UTC(2026, 11, 6, 10, 4)),
        cancelled: true,
        devices: 2,
        finished: 0,
        failed: 0,
        ruleBreaks: [],
        ruleOverride: { reason: 'lễ hội', by: 'lanh-dao' },
      },
      {
        occurrenceId: ids.second,
        communeId: 'xa-a',
        scheduleId: ids.schedule,
        title: 'Morning daily',
        priority: 'normal',
        start: iso(Date.UTC(2026, 11, 7, 10)),
        end: iso(Date.UTC(2026, 11, 7, 10, 4)),
        cancelled: false,
        devices: 2,
        finished: 1,
        failed: 1,
        ruleBreaks: [],
        ruleOverride: { reason: 'lễ hội', by: 'lanh-dao' },
      },
    ]);
    // Overlapping [from, to): the first play ends at 10:04, so from 10:04 on only the second shows.
    expect((await scheduling.calendar(PROVINCE, Date.UTC(2026, 11, 6, 10, 4), NOW + 7 * DAY)).length).toBe(1);
    expect(await scheduling.calendar(B, NOW, NOW + 7 * DAY)).toEqual([]);
  });

  it('rolls the horizon forward one roll at a time', async () => {
    const { db } = target;
    published.length = 0;
    // Nothing stored how far plans went: the second play (not cancelled) enters now; calls made
    // while that roll runs share one more roll after it, which finds nothing new.
    const rolls = [scheduling.rollForward(), scheduling.rollForward(), scheduling.rollForward()];
    expect(rolls[1]).toBe(rolls[2]);
    expect(await Promise.all(rolls)).toEqual([2, 0, 0]);
    expect(published).toEqual([['a-2', 'a-4']]);
    const through: { value: string } = await db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'plans_through')
      .executeTakeFirstOrThrow();
    expect(through.value).toBe(String(NOW + 80 + 2 * DAY));

    // A day later the 8 December play (10:00 UTC) enters the horizon for the zone's a-4 and for a-2.
    clock = NOW + DAY;
    expect(await scheduling.rollForward()).toBe(2);
    expect(published).toEqual([
      ['a-2', 'a-4'],
      ['a-2', 'a-4'],
    ]);
    const third: { devices: number } = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('devices'))
      .where('occurrence_id', '=', `occ-${ids.schedule}-${Date.UTC(2026, 11, 8, 10).toString(36)}`)
      .executeTakeFirstOrThrow();
    expect(third.devices).toBe(2);
  });

  it('trims history and the media nothing uses, keeping what a JSON column names', async () => {
    const { db } = target;
    clock = NOW + DAY;
    await db
      .updateTable('content_items')
      .set({
        versions: JSON.stringify([
          { language: 'en', sha256: IN_VERSIONS, durationMs: MIN, title: 'News (English)', text: null },
        ]),
      })
      .where('id', '=', ids.theirs!)
      .execute();
    await db
      .insertInto('occurrences')
      .values([
        {
          id: 'occ-long-ago',
          commune_id: 'xa-b',
          title: 'Cũ',
          priority: 'normal',
          start_at: NOW - 40 * DAY,
          duration_ms: MIN,
          sha256: NEWS,
          created_at: NOW - 40 * DAY,
        },
        {
          id: 'occ-within',
          commune_id: 'xa-b',
          title: 'Gần đây',
          priority: 'normal',
          start_at: NOW - 29 * DAY,
          duration_ms: MIN,
          sha256: NEWS,
          created_at: NOW - 29 * DAY,
        },
      ])
      .execute();
    await db
      .insertInto('deliveries')
      .values({ occurrence_id: 'occ-long-ago', device_id: 'b-1', stage: 'finished', at: NOW - 40 * DAY })
      .execute();
    await db
      .insertInto('acks')
      .values([
        {
          device_id: 'b-1',
          ref_id: 'occ-long-ago',
          stage: 'finished',
          at: NOW - 40 * DAY,
          received_at: NOW - 40 * DAY,
        },
        { device_id: 'b-1', ref_id: 'occ-within', stage: 'finished', at: NOW - 29 * DAY, received_at: NOW - 29 * DAY },
      ])
      .execute();

    // Retention 30 days before NOW: the play of 40 days ago and its ack go; the old unused file
    // goes with its MP3 copy (row and file); the recent one, the generated silence, the one a
    // content item's versions name and the one everything airs stay.
    expect(await scheduling.cleanup(NOW)).toEqual({ occurrences: 1, acks: 1, deviceStatus: 0, media: 2 });
    const media: { sha256: string }[] = await db.selectFrom('media').select('sha256').orderBy('sha256').execute();
    expect(media.map((m) => m.sha256)).toEqual([NEWS, RECENT, GENERATED, IN_VERSIONS]);
    expect(fs.existsSync(path.join(mediaRoot, `${OLD}.ogg`))).toBe(false);
    expect(fs.existsSync(path.join(mediaRoot, `${OLD_MP3}.mp3`))).toBe(false);
    expect(fs.existsSync(path.join(mediaRoot, `${RECENT}.ogg`))).toBe(true);
    const left: { id: string }[] = await db
      .selectFrom('occurrences')
      .select('id')
      .where('commune_id', '=', 'xa-b')
      .execute();
    expect(left.map((o) => o.id)).toEqual(['occ-within']);
    expect(await scheduling.cleanup(NOW)).toEqual({ occurrences: 0, acks: 0, deviceStatus: 0, media: 0 });
  });

  it('stops only after a running roll has finished', async () => {
    let finished = false;
    const rolling = scheduling.rollForward().then(() => {
      finished = true;
    });
    await scheduling.stop();
    expect(finished).toBe(true);
    await rolling;
    // Stopped: a later call rolls nothing.
    expect(await scheduling.rollForward()).toBe(0);
  });
});
