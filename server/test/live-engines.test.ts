/**
 * Live broadcast's sessions (live/service.ts), the render cache (tts/render.ts) and the
 * broadcast rules' count of a day's plays (rules/guard.ts) on each engine the server can use,
 * from small hand-made histories: the floor per commune, compare-and-set on a stop, a group
 * seen from each commune, the recording set on every session of a voice; a render served from
 * its cache row and written again when its file is gone; the sessions of a local day, counted
 * per commune, without emergencies, language versions, cancelled or stopped plays; the commune
 * of what a console event is about.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log';
import { EventCommunes } from '../src/http/routes/events';
import type { SqlDb } from '../src/db/sql';
import { LiveError, LiveService, type LiveAiring, type LiveRecorder, type LiveStart } from '../src/live/service';
import { MediaStore, type MediaAsset } from '../src/media/store';
import { NO_RULES, type BroadcastRules } from '../src/rules/broadcast-rules';
import { RuleBreakError, RulesGuard } from '../src/rules/guard';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import type { TtsAdapter } from '../src/tts/adapter';
import { testAudio } from '../src/tts/adapters/test-support';
import { NoticeRenderer } from '../src/tts/render';
import { engineCases } from './engine-cases';

const ZONE = 'Asia/Ho_Chi_Minh';
const A = communeScope('xa-a');
const B = communeScope('xa-b');
const PLACEHOLDER: MediaAsset = { sha256: 'b'.repeat(64), format: 'ogg', bytes: 10, durationMs: 1000 };
const RECORDING: MediaAsset = { sha256: 'c'.repeat(64), format: 'ogg', bytes: 20, durationMs: 1500 };
/** A local time on the rules' day (10 March 2031, UTC+7), as epoch ms. */
const at = (time: string, day = '2031-03-10') => DateTime.fromISO(`${day}T${time}`, { zone: ZONE }).toMillis();

/** Each commune's rules, set by each part below. */
const rules = new Map<string, BroadcastRules>();

describe.each(engineCases('live sessions, the render cache and the rules on PostgreSQL'))(
  'live, renders and rules on %s',
  (_engine, open) => {
    let target: SqlDb;
    let close: (() => Promise<void>) | undefined;
    let guard: RulesGuard;

    beforeAll(async () => {
      ({ target, close } = await open());
      const { db } = target;
      await db
        .insertInto('communes')
        .values([
          { id: 'xa-a', name: 'Xã A', created_at: 0 },
          { id: 'xa-b', name: 'Xã B', created_at: 0 },
        ])
        .execute();
      const device = (id: string, communeId: string) => ({
        id,
        name: `Loa ${id}`,
        secret_hash: 'x',
        created_at: 0,
        commune_id: communeId,
      });
      await db
        .insertInto('devices')
        .values([device('a-1', 'xa-a'), device('a-2', 'xa-a'), device('a-3', 'xa-a'), device('b-1', 'xa-b')])
        .execute();
      await db
        .insertInto('media')
        .values(
          [PLACEHOLDER, RECORDING].map((m) => ({
            sha256: m.sha256,
            format: m.format,
            bytes: m.bytes,
            duration_ms: m.durationMs,
            created_at: 0,
          })),
        )
        .execute();
      guard = new RulesGuard({ sqlDb: target, rules: (communeId) => rules.get(communeId) ?? NO_RULES, timeZone: ZONE });
    });
    afterAll(async () => {
      await close?.();
    });

    describe('live sessions', () => {
      const devicesOfZone: Record<string, string[]> = {
        'xa-a z1': ['a-1', 'a-2'],
        'xa-a z2': ['a-3'],
        'xa-b zb': ['b-1'],
      };
      const recorded: { occurrenceIds: string[]; sha256: string }[] = [];
      let live: LiveService;

      beforeAll(async () => {
        const { db } = target;
        rules.set('xa-a', { ...NO_RULES, maxSessionMinutes: 10 });
        rules.delete('xa-b');
        // Left on air by a crash: the start ends it.
        await db
          .insertInto('live_sessions')
          .values({
            id: 'live-stale',
            commune_id: 'xa-a',
            key: 7,
            title: 'Cũ',
            priority: 'normal',
            zones: '["z9"]',
            latency_ms: 400,
            max_ms: 60_000,
            started_by: 'lan',
            started_at: 1000,
          })
          .execute();
        const airing = {
          // What BroadcastService.airLive leaves in the database: the occurrence and one delivery per loudspeaker.
          async airLive(input: {
            communeId: string;
            liveSessionId: string;
            title: string;
            priority: string;
            zones: string[];
          }) {
            const occurrenceId = `occ-${input.liveSessionId}`;
            const deviceIds = input.zones.flatMap((z) => devicesOfZone[`${input.communeId} ${z}`] ?? []);
            await db
              .insertInto('occurrences')
              .values({
                id: occurrenceId,
                title: input.title,
                priority: input.priority,
                start_at: Date.now(),
                duration_ms: 1000,
                sha256: PLACEHOLDER.sha256,
                created_at: Date.now(),
                commune_id: input.communeId,
                live_session_id: input.liveSessionId,
              })
              .execute();
            for (const deviceId of deviceIds) {
              await db.insertInto('deliveries').values({ occurrence_id: occurrenceId, device_id: deviceId }).execute();
            }
            return { occurrenceId, deviceIds };
          },
          async endLive() {},
          async liveRecorded(occurrenceIds: string[], recording: MediaAsset) {
            recorded.push({ occurrenceIds, sha256: recording.sha256 });
          },
        } as unknown as LiveAiring;
        const recorder: LiveRecorder = {
          write() {},
          skip() {},
          close: async () => ({ durationMs: RECORDING.durationMs, bytes: RECORDING.bytes }),
        };
        const media = {
          tempPath: (ext: string) => path.join(os.tmpdir(), `loaxa-live-engines.${ext}`),
          adopt: async () => RECORDING,
          get: async (sha256: string) => [PLACEHOLDER, RECORDING].find((m) => m.sha256 === sha256) ?? null,
        } as unknown as MediaStore;
        live = new LiveService({
          sqlDb: target,
          bus: { publish: async () => {} } as never,
          audit: new AuditLog(target),
          media,
          airing,
          guard,
          placeholder: async () => PLACEHOLDER,
          recorder: async () => recorder,
          logger: pino({ level: 'silent' }),
          latencyMs: 400,
          maxDurationMs: 30 * 60_000,
          silenceEndMs: 60 * 60_000,
          // Still: the watchdog never finds a voice silent or dropped.
          now: () => 5_000_000,
        });
        await live.start();
      });
      afterAll(async () => {
        await live.stop();
      });

      const normal = (communeId: string, zones: string[], startedBy = 'lan'): LiveStart => ({
        communes: [{ communeId, zones }],
        priority: 'normal',
        startedBy,
        mayOverride: false,
      });
      const refusal = async (work: Promise<unknown>) => {
        const err = await work.then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(LiveError);
        return err as LiveError;
      };
      let first: string;

      it('ends what a crash left on air, at the start', async () => {
        expect(await live.get(PROVINCE, 'live-stale')).toMatchObject({
          endReason: 'restart',
          endedBy: null,
          revision: 2,
          devices: 0,
          occurrenceId: null,
        });
        expect(await live.active(PROVINCE)).toEqual([]);
      });

      it('goes live in a commune: its loudspeakers counted, its rules’ longest session', async () => {
        const view = await live.begin(normal('xa-a', ['z1', 'z1']), A);
        first = view.id;
        expect(view).toMatchObject({
          communeId: 'xa-a',
          title: 'Phát trực tiếp',
          priority: 'normal',
          zones: ['z1'],
          source: 'browser',
          latencyMs: 400,
          maxDurationMs: 10 * 60_000,
          startedBy: 'lan',
          endedAt: null,
          occurrenceId: `occ-${view.id}`,
          devices: 2,
          frames: 0,
          recording: null,
          groupId: null,
          group: [],
          revision: 1,
        });
        expect((await live.active(PROVINCE)).map((s) => s.id)).toEqual([first]);
        expect((await live.active(A)).map((s) => s.id)).toEqual([first]);
        expect(await live.active(B)).toEqual([]);
        const hidden = await refusal(live.get(B, first));
        expect([hidden.statusCode, hidden.message]).toEqual([404, `no live session ${first}`]);
      });

      it('keeps the floor: a normal session is refused in a zone on air, with the session there', async () => {
        const clash = await refusal(live.begin(normal('xa-a', ['z2', 'z1']), A));
        expect(clash.statusCode).toBe(409);
        expect(clash.message).toBe(
          'another live session is on air in these zones (Phát trực tiếp, by lan); only an emergency may cut in',
        );
        expect(clash.extra?.current).toMatchObject({ id: first, revision: 1, devices: 2 });
        // Another commune's zone of the same name is another floor.
        const elsewhere = await live.begin(normal('xa-b', ['z1']), B);
        expect(elsewhere).toMatchObject({ communeId: 'xa-b', devices: 0, maxDurationMs: 30 * 60_000 });
        await live.stopBy(B, elsewhere.id, 1, 'hoa');
      });

      it('stops by compare-and-set on the revision, and once', async () => {
        const second = await live.begin(normal('xa-a', ['z2']), A);
        expect(second.devices).toBe(1);
        expect((await live.active(A)).map((s) => s.id).sort()).toEqual([first, second.id].sort());

        const stale = await refusal(live.stopBy(A, second.id, 5, 'lan'));
        expect([stale.statusCode, stale.field, stale.message]).toEqual([409, 'revision', 'someone changed it first']);
        expect(stale.extra?.current).toMatchObject({ id: second.id, revision: 1, endedAt: null });

        const stopped = await live.stopBy(A, second.id, 1, 'lan');
        expect(stopped).toMatchObject({
          endReason: 'stopped',
          endedBy: 'lan',
          frames: 0,
          recording: null,
          revision: 2,
        });
        expect(stopped.endedAt).not.toBeNull();

        const again = await refusal(live.stopBy(A, second.id, 2, 'lan'));
        expect([again.statusCode, again.message]).toEqual([409, 'this live session has already ended']);
        expect(again.extra?.current).toMatchObject({ endReason: 'stopped', revision: 2 });
      });

      it('an emergency cuts in: the session ends preempted, with its recording', async () => {
        live.frame(first, Uint8Array.of(0xf8, 0xff, 0xfe));
        expect((await live.get(A, first)).frames).toBe(1);

        const emergency = await live.begin(
          {
            communes: [{ communeId: 'xa-a', zones: ['z1'] }],
            priority: 'emergency',
            startedBy: 'minh',
            mayOverride: false,
          },
          A,
        );
        // An emergency is not held to the commune's rules: the install's longest session.
        expect(emergency).toMatchObject({ priority: 'emergency', maxDurationMs: 30 * 60_000, devices: 2 });
        // Ended (revision 2), then given the recording (revision 3).
        expect(await live.get(A, first)).toMatchObject({
          endReason: 'preempted',
          endedBy: 'minh',
          frames: 1,
          recording: { sha256: RECORDING.sha256, url: `/media/${RECORDING.sha256}.ogg`, durationMs: 1500 },
          revision: 3,
        });
        expect(recorded).toEqual([{ occurrenceIds: [`occ-${first}`], sha256: RECORDING.sha256 }]);
        expect((await live.active(A)).map((s) => s.id)).toEqual([emergency.id]);
      });

      it('a province officer’s group: one session per commune, each commune sees its own', async () => {
        const lead = await live.begin(
          {
            communes: [
              { communeId: 'xa-a', communeName: 'Xã A', zones: ['z2'] },
              { communeId: 'xa-b', communeName: 'Xã B', zones: ['zb'] },
            ],
            priority: 'normal',
            startedBy: 'tinh',
            mayOverride: false,
          },
          PROVINCE,
        );
        expect(lead).toMatchObject({ communeId: 'xa-a', devices: 1, maxDurationMs: 10 * 60_000 });
        expect(lead.groupId).not.toBeNull();
        expect(lead.group).toEqual([
          {
            id: expect.any(String),
            communeId: 'xa-b',
            zones: ['zb'],
            devices: 1,
            endedAt: null,
            endReason: null,
            endedBy: null,
          },
        ]);
        const other = lead.group[0]!.id;
        expect(await live.get(B, other)).toMatchObject({
          groupId: lead.groupId,
          group: [],
          maxDurationMs: 30 * 60_000,
        });
        expect((await live.get(A, lead.id)).group).toEqual([]);
        expect((await live.get(PROVINCE, other)).group.map((m) => [m.id, m.devices])).toEqual([[lead.id, 1]]);

        const ended = await live.stopBy(PROVINCE, lead.id, 1, 'tinh', { group: true });
        expect(ended).toMatchObject({ endReason: 'stopped', endedBy: 'tinh', revision: 2 });
        expect(ended.group).toMatchObject([{ id: other, endReason: 'stopped', endedBy: 'tinh' }]);
        expect(await live.active(B)).toEqual([]);
      });

      it('audits every start and end in its commune, before answering', async () => {
        const rows: { action: string; target: string; commune_id: string }[] = await target.db
          .selectFrom('audit_log')
          .select(['action', 'target', 'commune_id'])
          .where('action', 'like', 'live.%')
          .orderBy('id')
          .execute();
        const count = (action: string, communeId: string) =>
          rows.filter((r) => r.action === action && r.commune_id === communeId).length;
        // xa-a: first, second, the emergency, the group's lead; xa-b: its own and the group's.
        expect([count('live.start', 'xa-a'), count('live.start', 'xa-b')]).toEqual([4, 2]);
        // All but the emergency, still on air.
        expect([count('live.end', 'xa-a'), count('live.end', 'xa-b')]).toEqual([3, 2]);
      });
    });

    describe('the render cache', () => {
      let dir: string;
      let media: MediaStore;
      let renderer: NoticeRenderer;
      const tone: TtsAdapter = {
        id: 'tone',
        synthesize: async () => ({ wav: testAudio().wav, sampleRate: 22_050 }),
        voices: async () => [],
        health: async () => ({ ok: true }),
      };

      beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-live-engines-'));
        media = new MediaStore(dir, target);
        renderer = new NoticeRenderer(target, media, tone);
      });
      afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
      });

      it('serves a notice from its cache row, with the loudness stored there', async () => {
        const sha256 = 'd'.repeat(64);
        const file = path.join(media.root, media.relativePath(sha256, 'ogg'));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, 'seeded');
        await target.db
          .insertInto('media')
          .values({ sha256, format: 'ogg', bytes: 6, duration_ms: 4200, created_at: 0 })
          .execute();
        const request = { text: 'Họp thôn lúc 7 giờ.', chime: false };
        // Left out, the commune is the install's first ('default'): the same key.
        expect(await renderer.cacheKey(request)).toBe(await renderer.cacheKey(request, 'default'));
        await target.db
          .insertInto('renders')
          .values({
            cache_key: await renderer.cacheKey(request),
            sha256,
            engine: 'seeded',
            created_at: 0,
            integrated_lufs: -17.5,
            true_peak_dbtp: -2.25,
          })
          .execute();
        expect(await renderer.render(request)).toEqual({
          sha256,
          format: 'ogg',
          bytes: 6,
          durationMs: 4200,
          engine: 'seeded',
          fallback: false,
          cached: true,
          loudness: { integratedLufs: -17.5, truePeakDbtp: -2.25 },
        });
      });

      it('renders once, serves the cache after, and writes the row again when its file is gone', async () => {
        const request = { text: 'Mất điện chiều nay.', chime: false };
        const first = await renderer.render(request, 'xa-a');
        expect(first).toMatchObject({ engine: 'tone', cached: false, fallback: false });
        const again = await renderer.render(request, 'xa-a');
        expect(again).toMatchObject({ sha256: first.sha256, engine: 'tone', cached: true });
        expect(again.loudness.integratedLufs).toBeCloseTo(first.loudness.integratedLufs, 6);
        const key = await renderer.cacheKey(request, 'xa-a');
        const rowsOf = () =>
          target.db
            .selectFrom('renders')
            .select(['sha256', 'engine'])
            .where('cache_key', '=', key)
            .execute() as Promise<{ sha256: string; engine: string }[]>;
        expect(await rowsOf()).toEqual([{ sha256: first.sha256, engine: 'tone' }]);

        // The file is gone: rendered again and the same row rewritten (ON CONFLICT … DO UPDATE).
        // (On PostgreSQL every instance's copy comes from the database: gone means gone there too.)
        fs.rmSync(path.join(media.root, media.relativePath(first.sha256, first.format)));
        await target.db.deleteFrom('media_blobs').where('sha256', '=', first.sha256).execute();
        const redone = await renderer.render(request, 'xa-a');
        expect(redone).toMatchObject({ engine: 'tone', cached: false });
        expect(await rowsOf()).toEqual([{ sha256: redone.sha256, engine: 'tone' }]);
        expect((await renderer.render(request, 'xa-a')).cached).toBe(true);
      });
    });

    describe('the rules’ count of a day’s sessions', () => {
      beforeAll(async () => {
        const { db } = target;
        rules.set('xa-a', { ...NO_RULES, maxSessionsPerDay: 3 });
        rules.set('xa-b', { ...NO_RULES, maxSessionsPerDay: 1 });
        await db
          .insertInto('programmes')
          .values({ id: 'pg-1', title: 'Chương trình', created_at: 0, updated_at: 0, commune_id: 'xa-a' })
          .execute();
        await db
          .insertInto('schedules')
          .values({
            id: 'sc-1',
            title: 'Hằng ngày',
            programme_id: 'pg-1',
            rule: '{}',
            timezone: ZONE,
            priority: 'normal',
            status: 'approved',
            created_at: 0,
            updated_at: 0,
            commune_id: 'xa-a',
          })
          .execute();
        const occurrence = (
          id: string,
          communeId: string,
          startAt: number,
          extra: { priority?: string; cancelled_at?: number; stopped_at?: number; schedule_id?: string } = {},
        ) => ({
          id,
          title: id,
          priority: 'normal',
          start_at: startAt,
          duration_ms: 60_000,
          sha256: PLACEHOLDER.sha256,
          created_at: 0,
          commune_id: communeId,
          ...extra,
        });
        await db
          .insertInto('occurrences')
          .values([
            // Counted on the 10th in xa-a: 08:00, the schedule's 11:00, and 23:30 (16:30 UTC, still the 10th there).
            occurrence('o-1', 'xa-a', at('08:00')),
            occurrence('o-sc', 'xa-a', at('11:00'), { schedule_id: 'sc-1' }),
            occurrence('o-late', 'xa-a', at('23:30'), { priority: 'priority' }),
            // Not counted: a language version, an emergency, a cancelled and a stopped play.
            occurrence('o-1:en', 'xa-a', at('08:00')),
            occurrence('o-em', 'xa-a', at('09:00'), { priority: 'emergency' }),
            occurrence('o-cx', 'xa-a', at('10:00'), { cancelled_at: 1 }),
            occurrence('o-st', 'xa-a', at('10:30'), { stopped_at: 1 }),
            // The 11th, at 00:30 local (the 10th in UTC).
            occurrence('o-next', 'xa-a', at('00:30', '2031-03-11')),
            // Another commune's.
            occurrence('o-b', 'xa-b', at('12:00')),
          ])
          .execute();
      });

      const play = (time: string, day?: string) => ({ startAt: at(time, day), durationMs: 60_000 });

      it('refuses a fourth session on a day that has three', async () => {
        const err = await guard.check('xa-a', [play('15:00')], 'normal').then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(RuleBreakError);
        expect((err as RuleBreakError).statusCode).toBe(409);
        expect((err as RuleBreakError).message).toContain('at most 3 sessions a day: 10/03/2031 would have 4');
        expect(await guard.breaks('xa-a', [play('15:00')], 'emergency')).toEqual([]);
      });

      it('leaves out the schedule being changed, and counts each local day apart', async () => {
        expect(await guard.breaks('xa-a', [play('15:00')], 'normal', 'sc-1')).toEqual([]);
        expect(await guard.breaks('xa-a', [play('15:00', '2031-03-11')], 'normal')).toEqual([]);
        const breaks = await guard.breaks(
          'xa-a',
          [play('15:00'), play('09:00', '2031-03-11'), play('10:00', '2031-03-11'), play('11:00', '2031-03-11')],
          'normal',
        );
        // The 10th: 3 + 1; the 11th: 1 + 1, + 2, + 3 (the third one too many).
        expect(breaks.map((b) => [b.rule, b.startAt])).toEqual([
          ['maxSessionsPerDay', at('15:00')],
          ['maxSessionsPerDay', at('11:00', '2031-03-11')],
        ]);
      });

      it('counts only the commune’s own plays', async () => {
        // xa-b allows one a day and has o-b: a second breaks it, whatever xa-a has.
        const breaks = await guard.breaks('xa-b', [play('15:00')], 'normal');
        expect(breaks.map((b) => b.message)).toEqual([
          'tối đa 1 buổi phát mỗi ngày: ngày 10/03/2031 sẽ có 2 / at most 1 sessions a day: 10/03/2031 would have 2',
        ]);
        expect(await guard.breaks('xa-b', [play('15:00', '2031-03-11')], 'normal')).toEqual([]);
      });

      it('reviews the week with the plays before `from` counted', async () => {
        // Before 11:00 only o-1 is counted: 1 + 1.
        expect(await guard.review('xa-a', [play('15:00')], at('11:00'))).toEqual([]);
        // Before 23:59 all three: 3 + 1.
        expect((await guard.review('xa-a', [play('15:00')], at('23:59'))).map((b) => b.rule)).toEqual([
          'maxSessionsPerDay',
        ]);
      });

      it('lets a leader override one play with a reason; refuses anyone else', async () => {
        const override = { reason: 'Họp khẩn' };
        const through = await guard.check('xa-a', [play('15:00')], 'normal', { override, mayOverride: true });
        expect(through.map((b) => b.startAt)).toEqual([at('15:00')]);
        const refused = await guard.check('xa-a', [play('15:00')], 'normal', { override, mayOverride: false }).then(
          () => null,
          (e: unknown) => e as RuleBreakError,
        );
        expect(refused?.statusCode).toBe(403);
      });
    });

    describe('the commune of an event’s subject', () => {
      it('is looked up by kind, remembered a while, and null for what does not exist', async () => {
        let clock = 0;
        const communes = new EventCommunes(target, () => clock);
        const [device, occurrence, schedule, none] = await Promise.all([
          communes.device({ id: 'a-1' } as never),
          communes.delivery({ occurrenceId: 'o-b' } as never),
          communes.approval({ scheduleId: 'sc-1' } as never),
          communes.of('device', 'nope'),
        ]);
        expect([device, occurrence, schedule, none]).toEqual(['xa-a', 'xa-b', 'xa-a', null]);
        // The loudspeaker moves: its events follow within the 10 s it is remembered.
        await target.db.updateTable('devices').set({ commune_id: 'xa-b' }).where('id', '=', 'a-1').execute();
        clock = 9_999;
        expect(await communes.of('device', 'a-1')).toBe('xa-a');
        clock = 10_000;
        expect(await communes.of('device', 'a-1')).toBe('xa-b');
        await target.db.updateTable('devices').set({ commune_id: 'xa-a' }).where('id', '=', 'a-1').execute();
      });
    });
  },
);
