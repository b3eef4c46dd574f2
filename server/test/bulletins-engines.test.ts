/**
 * The province's bulletins (bulletins/bulletins.ts) on each engine the server can use: writing,
 * approving and rejecting with compare-and-set on the bulletin's revision; the three priorities
 * (a normal one waits in the inbox, a priority one goes ahead of each commune's next programme,
 * an emergency one plays at once and reaches a loudspeaker back online); a commune placing or
 * declining with compare-and-set on its own row; and what a commune sees (its own row only).
 * The plays are a fake airing that stores occurrences and pending deliveries like the real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BulletinError,
  BulletinService,
  DEFAULT_EMERGENCY_TTL_MS,
  type BulletinAiringInput,
  type BulletinView,
} from '../src/bulletins/bulletins';
import type { SqlDb } from '../src/db/sql';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const NOW = Date.UTC(2026, 2, 10, 8, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SHA = 'b'.repeat(64);
const UPLOADED = 'c'.repeat(64);
const iso = (ms: number) => new Date(ms).toISOString();
const A = communeScope('xa-a');
const D = communeScope('xa-d');
const E = communeScope('xa-e');
/** The loudspeakers of each commune, as the fake airing finds them (xa-e and default have none). */
const DEVICES: Record<string, string[]> = { 'xa-a': ['a-2', 'A-1'], 'xa-d': ['d-1'] };
const NO_PROGRAMME = 'chưa có chương trình sắp tới; xã xếp lịch / no programme ahead: the commune places it';
const NO_LOUDSPEAKERS = 'không có loa nào / no loudspeakers';

/** What a call threw, to look at its status, field, message and current state. */
async function failure(promise: Promise<unknown>): Promise<BulletinError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BulletinError) return err;
    throw err;
  }
  throw new Error('expected a BulletinError');
}

describe.each(engineCases('the bulletins on PostgreSQL'))('bulletins on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let service: BulletinService;
  let now = NOW;
  const aired: BulletinAiringInput[] = [];
  const resent: [string, string, number][] = [];
  const changed: [string, string[]][] = [];

  beforeAll(async () => {
    ({ target, close } = await open());
    const { db } = target;
    // Names whose order by bytes ('Xã Em' < 'Xã Đông') differs from most locales' (Đ with the Ds).
    await db
      .insertInto('communes')
      .values([
        { id: 'xa-d', name: 'Xã Đông', created_at: 0 },
        { id: 'xa-e', name: 'Xã Em', created_at: 0 },
        { id: 'xa-a', name: 'Xã An', created_at: 0 },
      ])
      .execute();
    await db
      .insertInto('devices')
      .values(
        Object.entries(DEVICES).flatMap(([communeId, ids]) =>
          ids.map((id) => ({ id, name: `Loa ${id}`, secret_hash: 'x', created_at: 0, commune_id: communeId })),
        ),
      )
      .execute();
    await db
      .insertInto('media')
      .values([
        { sha256: SHA, format: 'ogg', bytes: 4_000, duration_ms: 30_000, created_at: 0 },
        { sha256: UPLOADED, format: 'mp3', bytes: 9_000, duration_ms: 45_000, created_at: 0 },
      ])
      .execute();
    await db
      .insertInto('programmes')
      .values({ id: 'prog', title: 'Chương trình', created_at: 0, updated_at: 0, commune_id: 'xa-a' })
      .execute();
    await db
      .insertInto('schedules')
      .values({
        id: 'sched',
        title: 'Hằng ngày',
        programme_id: 'prog',
        rule: 'FREQ=DAILY',
        timezone: 'Asia/Ho_Chi_Minh',
        priority: 'normal',
        status: 'approved',
        created_at: 0,
        updated_at: 0,
        commune_id: 'xa-a',
      })
      .execute();
    const slot = (id: string, communeId: string, startAt: number, extra: Record<string, unknown> = {}) => ({
      id,
      title: `Chương trình ${id}`,
      priority: 'normal',
      start_at: startAt,
      duration_ms: 600_000,
      sha256: SHA,
      created_at: 0,
      commune_id: communeId,
      schedule_id: 'sched',
      ...extra,
    });
    // The next programme a priority bulletin goes ahead of: xa-a's at +1 h (the others are too soon,
    // cancelled, stopped, not normal or not from a schedule), xa-d's at +3 h (its +8 days is too far),
    // xa-e's at +30 min; the default commune has none.
    await db
      .insertInto('occurrences')
      .values([
        slot('slot-a-soon', 'xa-a', NOW + MIN),
        slot('slot-a-cancelled', 'xa-a', NOW + 30 * MIN, { cancelled_at: NOW - HOUR }),
        slot('slot-a-stopped', 'xa-a', NOW + 40 * MIN, { stopped_at: NOW - HOUR }),
        slot('slot-a-priority', 'xa-a', NOW + 50 * MIN, { priority: 'priority' }),
        slot('slot-a-own', 'xa-a', NOW + 20 * MIN, { schedule_id: null }),
        slot('slot-a', 'xa-a', NOW + HOUR),
        slot('slot-a-later', 'xa-a', NOW + 2 * HOUR),
        slot('slot-d', 'xa-d', NOW + 3 * HOUR),
        slot('slot-d-far', 'xa-d', NOW + 8 * DAY),
        slot('slot-e', 'xa-e', NOW + 30 * MIN),
      ])
      .execute();

    service = new BulletinService({
      sqlDb: target,
      airing: {
        // Like the broadcast service: an occurrence and a pending delivery per loudspeaker, none without any.
        async air(input) {
          aired.push(input);
          if (input.zones !== 'all' && input.zones.includes('no-such-zone')) throw new Error('zones: no-such-zone');
          const devices = DEVICES[input.communeId] ?? [];
          if (devices.length === 0) return null;
          const occurrenceId = `${input.bulletinId}/${input.communeId}`;
          await db
            .insertInto('occurrences')
            .values({
              id: occurrenceId,
              title: input.title,
              priority: input.priority,
              start_at: input.at?.getTime() ?? now,
              duration_ms: input.audio.durationMs,
              sha256: input.audio.sha256,
              created_at: now,
              commune_id: input.communeId,
              bulletin_id: input.bulletinId,
            })
            .execute();
          await db
            .insertInto('deliveries')
            .values(devices.map((d) => ({ occurrence_id: occurrenceId, device_id: d, stage: 'pending' })))
            .execute();
          return { occurrenceId, deviceIds: devices };
        },
        async resend(occurrenceId, deviceId, expiresAt) {
          resent.push([occurrenceId, deviceId, expiresAt]);
        },
      },
      render: async () => ({ sha256: SHA, format: 'ogg', bytes: 4_000, durationMs: 30_000, engine: 'piper' }),
      media: {
        get: async (sha256) =>
          sha256 === UPLOADED ? { sha256, format: 'mp3', bytes: 9_000, durationMs: 45_000 } : null,
      },
      now: () => now,
      changed: (bulletinId, communeIds) => changed.push([bulletinId, communeIds]),
    });
  }, 60_000);

  afterAll(async () => {
    await close?.();
  });

  // Filled as the tests go, in order.
  let normal: BulletinView;
  let priority: BulletinView;
  let emergency: BulletinView;
  let rejected: BulletinView;
  let draftId: string;
  let sharedId: string;

  it('refuses a bulletin without what it needs', async () => {
    const refused = async (input: Parameters<BulletinService['create']>[0]) => {
      const err = await failure(service.create(input, 'editor', false));
      return [err.statusCode, err.field, err.message];
    };
    expect(await refused({ priority: 'normal', communes: 'all' })).toEqual([
      400,
      'text',
      'text: write the bulletin, or give `audio` (an uploaded file)',
    ]);
    expect(await refused({ text: 'x', audio: UPLOADED, priority: 'normal', communes: 'all' })).toEqual([
      400,
      'audio',
      'audio: give either `text` or `audio`, not both',
    ]);
    expect(await refused({ text: 'x', priority: 'normal', communes: [] })).toEqual([
      400,
      'communes',
      'communes: choose at least one commune, or "all"',
    ]);
    expect(await refused({ text: 'x', priority: 'normal', communes: ['xa-a', 'nowhere', 'XA-A'] })).toEqual([
      404,
      'communes',
      'communes: no commune with id nowhere, XA-A',
    ]);
    expect(await refused({ text: 'x', priority: 'normal', communes: 'all', expiresAt: new Date(NOW + HOUR) })).toEqual([
      400,
      'expiresAt',
      'expiresAt: only an emergency bulletin has an expiry',
    ]);
    expect(await refused({ text: 'x', priority: 'emergency', communes: 'all', expiresAt: new Date(NOW) })).toEqual([
      400,
      'expiresAt',
      `expiresAt: ${iso(NOW)} is already past`,
    ]);
    expect(await refused({ audio: 'd'.repeat(64), priority: 'normal', communes: 'all' })).toEqual([
      404,
      'audio',
      `audio: no uploaded audio ${'d'.repeat(64)}`,
    ]);
    expect((await target.db.selectFrom('bulletins').select('id').execute()).length).toBe(0);
  });

  it('keeps an editor’s bulletin for approval, with its communes by name and none told yet', async () => {
    normal = await service.create(
      {
        text: '  Họp dân tối nay\nlúc 19 giờ tại nhà văn hoá  ',
        priority: 'normal',
        communes: ['xa-e', 'xa-a', 'xa-e'],
      },
      'editor',
      false,
    );
    const received = (communeId: string, name: string) => ({
      communeId,
      name,
      status: 'received',
      declineReason: null,
      detail: null,
      handledBy: null,
      handledAt: null,
      revision: 1,
      occurrences: [],
      devices: 0,
      played: 0,
      failed: 0,
      deliveries: [],
    });
    expect(normal).toEqual({
      id: expect.stringMatching(/^bt-[0-9a-z]+-[0-9a-f]{8}$/),
      title: 'Họp dân tối nay',
      text: 'Họp dân tối nay\nlúc 19 giờ tại nhà văn hoá',
      priority: 'normal',
      status: 'submitted',
      allCommunes: false,
      sha256: SHA,
      durationMs: 30_000,
      expiresAt: null,
      public: true,
      reviewReason: null,
      reviewedBy: null,
      sentAt: null,
      createdBy: 'editor',
      createdAt: iso(NOW),
      revision: 1,
      communes: [received('xa-a', 'Xã An'), received('xa-e', 'Xã Em')],
    });
    expect(changed.at(-1)).toEqual([normal.id, []]);
    // A commune sees nothing of a bulletin not sent yet.
    expect(await service.get(A, normal.id)).toBeNull();
    expect(await service.list(A)).toEqual([]);
    expect(await service.get(PROVINCE, 'bt-nowhere')).toBeNull();
  });

  it('approves with compare-and-set on the revision, and a normal bulletin waits in the inboxes', async () => {
    now = NOW + MIN;
    const stale = await failure(service.approve(normal.id, 2, 'approver'));
    expect([stale.statusCode, stale.field, stale.message]).toEqual([
      409,
      'revision',
      'revision: someone changed this bulletin first (now revision 1)',
    ]);
    expect(stale.extra?.current).toEqual(normal);
    const missing = await failure(service.approve('bt-nowhere', 1, 'approver'));
    expect([missing.statusCode, missing.field, missing.message]).toEqual([404, 'id', 'no bulletin with id bt-nowhere']);

    normal = await service.approve(normal.id, 1, 'approver');
    expect(normal).toMatchObject({
      status: 'sent',
      revision: 2,
      reviewedBy: 'approver',
      sentAt: iso(NOW + MIN),
      expiresAt: null,
    });
    expect(normal.communes.map((c) => [c.communeId, c.status, c.revision, c.detail])).toEqual([
      ['xa-a', 'received', 1, null],
      ['xa-e', 'received', 1, null],
    ]);
    expect(aired).toEqual([]);
    expect(changed.at(-1)).toEqual([normal.id, ['xa-a', 'xa-e']]);

    const again = await failure(service.approve(normal.id, 2, 'approver'));
    expect([again.statusCode, again.field, again.message]).toEqual([
      409,
      'status',
      'status: cannot approve a bulletin that is sent',
    ]);
    expect(again.extra?.current).toEqual(normal);
    const late = await failure(service.reject(normal.id, 1, 'trùng', 'approver'));
    expect([late.statusCode, late.message]).toEqual([
      409,
      'revision: someone changed this bulletin first (now revision 2)',
    ]);
  });

  it('lets exactly one of two approvers at once send it', async () => {
    const draft = await service.create({ audio: UPLOADED, priority: 'normal', communes: ['xa-d'] }, 'editor', false);
    draftId = draft.id;
    expect(draft).toMatchObject({ title: 'Bản tin của tỉnh', text: null, public: false, sha256: UPLOADED });
    const results = await Promise.allSettled([
      service.approve(draft.id, 1, 'approver-1'),
      service.approve(draft.id, 1, 'approver-2'),
    ]);
    const sent = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(sent).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(BulletinError);
    expect([lost[0]!.reason.statusCode, lost[0]!.reason.field]).toEqual([409, 'revision']);
    const stored = await service.get(PROVINCE, draft.id);
    expect([stored?.status, stored?.revision]).toEqual(['sent', 2]);
    // It goes to xa-d only: xa-a's inbox does not hold it.
    expect((await service.get(D, draft.id))?.communes.map((c) => c.communeId)).toEqual(['xa-d']);
    expect(await service.get(A, draft.id)).toBeNull();
  });

  it('rejects with a reason, and a commune never sees a rejected bulletin', async () => {
    now = NOW + 2 * MIN;
    rejected = await service.create({ text: 'Bản nháp', priority: 'priority', communes: ['xa-a'] }, 'editor', false);
    const noReason = await failure(service.reject(rejected.id, 1, '   ', 'approver'));
    expect([noReason.statusCode, noReason.field, noReason.message]).toEqual([
      400,
      'reason',
      'reason: say why the bulletin is rejected',
    ]);
    rejected = await service.reject(rejected.id, 1, '  Sai thông tin  ', 'approver');
    expect(rejected).toMatchObject({
      status: 'rejected',
      reviewReason: 'Sai thông tin',
      reviewedBy: 'approver',
      revision: 2,
      sentAt: null,
    });
    const twice = await failure(service.reject(rejected.id, 2, 'lần nữa', 'approver'));
    expect([twice.statusCode, twice.field, twice.message]).toEqual([
      409,
      'status',
      'status: cannot reject a bulletin that is rejected',
    ]);
    expect(await service.get(A, rejected.id)).toBeNull();
    expect(aired).toEqual([]);
  });

  it('lets a commune decline from its own inbox only, with compare-and-set on its row', async () => {
    now = NOW + 3 * MIN;
    const noReason = await failure(service.decline(E, normal.id, 'xa-e', { reason: ' ', revision: 1 }, 'can-bo-e'));
    expect([noReason.statusCode, noReason.message]).toEqual([400, 'reason: say why the commune declines the bulletin']);
    // Another commune acting for xa-e, and a commune the bulletin did not go to.
    for (const [scope, communeId] of [
      [A, 'xa-e'],
      [D, 'xa-d'],
    ] as const) {
      const hidden = await failure(service.decline(scope, normal.id, communeId, { reason: 'không', revision: 1 }, 'x'));
      expect([hidden.statusCode, hidden.field, hidden.message]).toEqual([
        404,
        'id',
        `no bulletin with id ${normal.id} for commune ${communeId}`,
      ]);
    }
    const stale = await failure(service.decline(E, normal.id, 'xa-e', { reason: 'không', revision: 2 }, 'can-bo-e'));
    expect([stale.statusCode, stale.field, stale.message]).toEqual([
      409,
      'revision',
      'revision: someone handled this bulletin first (now revision 1)',
    ]);
    expect(stale.extra?.current).toMatchObject({ communeId: 'xa-e', status: 'received', revision: 1 });

    const declined = await service.decline(
      E,
      normal.id,
      'xa-e',
      { reason: '  Trùng lịch họp  ', revision: 1 },
      'can-bo-e',
    );
    // The commune's view: its own row only.
    expect(declined.communes).toEqual([
      {
        communeId: 'xa-e',
        name: 'Xã Em',
        status: 'declined',
        declineReason: 'Trùng lịch họp',
        detail: null,
        handledBy: 'can-bo-e',
        handledAt: iso(NOW + 3 * MIN),
        revision: 2,
        occurrences: [],
        devices: 0,
        played: 0,
        failed: 0,
        deliveries: [],
      },
    ]);
    expect(declined.revision).toBe(2);
    expect(changed.at(-1)).toEqual([normal.id, ['xa-e']]);
    const again = await failure(service.decline(E, normal.id, 'xa-e', { reason: 'lại', revision: 2 }, 'can-bo-e'));
    expect([again.statusCode, again.field, again.message]).toEqual([
      409,
      'status',
      'status: cannot decline a bulletin that is already declined',
    ]);
    expect(again.extra?.current).toMatchObject({ status: 'declined', revision: 2 });
  });

  it('lets a commune place it in a slot, back in the inbox when the play cannot be planned', async () => {
    now = NOW + 4 * MIN;
    const at = new Date(NOW + 5 * HOUR);
    const past = await failure(
      service.place(A, normal.id, 'xa-a', { at: new Date(NOW), zones: 'all', revision: 1 }, 'can-bo-a'),
    );
    expect([past.statusCode, past.field, past.message]).toEqual([400, 'at', `at: ${iso(NOW)} is in the past`]);
    await expect(
      service.place(A, normal.id, 'xa-a', { at, zones: ['no-such-zone'], revision: 1 }, 'can-bo-a'),
    ).rejects.toThrow('zones: no-such-zone');
    const back = (await service.get(A, normal.id))!.communes[0]!;
    expect([back.status, back.revision, back.handledBy, back.handledAt]).toEqual(['received', 1, null, null]);

    const placed = await service.place(A, normal.id, 'xa-a', { at, zones: ['thon-1'], revision: 1 }, 'can-bo-a');
    expect(aired.at(-1)).toMatchObject({
      communeId: 'xa-a',
      bulletinId: normal.id,
      priority: 'normal',
      zones: ['thon-1'],
      at,
      checkRules: true,
      public: true,
      createdBy: 'can-bo-a',
      audio: { sha256: SHA, format: 'ogg', bytes: 0, durationMs: 30_000, engine: 'piper' },
    });
    const occurrenceId = `${normal.id}/xa-a`;
    // Claimed (revision 2), then told where it went (3); deliveries by device id in byte order.
    expect(placed.communes).toEqual([
      {
        communeId: 'xa-a',
        name: 'Xã An',
        status: 'scheduled',
        declineReason: null,
        detail: `lúc ${iso(NOW + 5 * HOUR)}`,
        handledBy: 'can-bo-a',
        handledAt: iso(NOW + 4 * MIN),
        revision: 3,
        occurrences: [{ id: occurrenceId, startAt: iso(NOW + 5 * HOUR) }],
        devices: 2,
        played: 0,
        failed: 0,
        deliveries: [
          { deviceId: 'A-1', occurrenceId, stage: 'pending', at: null, detail: null },
          { deviceId: 'a-2', occurrenceId, stage: 'pending', at: null, detail: null },
        ],
      },
    ]);
    const twice = await failure(service.place(A, normal.id, 'xa-a', { at, zones: 'all', revision: 3 }, 'can-bo-a'));
    expect([twice.statusCode, twice.field, twice.message]).toEqual([
      409,
      'status',
      'status: cannot place a bulletin that is already scheduled',
    ]);
    // The province sees both communes' handling, by name.
    expect((await service.get(PROVINCE, normal.id))!.communes.map((c) => [c.communeId, c.status, c.revision])).toEqual([
      ['xa-a', 'scheduled', 3],
      ['xa-e', 'declined', 2],
    ]);
  });

  it('lets exactly one of two officers at once handle a commune’s row', async () => {
    const both = await service.create({ text: 'Tin chung', priority: 'normal', communes: ['xa-d'] }, 'approver', true);
    sharedId = both.id;
    const results = await Promise.allSettled([
      service.decline(D, both.id, 'xa-d', { reason: 'một', revision: 1 }, 'can-bo-1'),
      service.decline(D, both.id, 'xa-d', { reason: 'hai', revision: 1 }, 'can-bo-2'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect([lost.reason.statusCode, lost.reason.field]).toEqual([409, 'revision']);
    const row = (await service.get(D, both.id))!.communes[0]!;
    expect([row.status, row.revision]).toEqual(['declined', 2]);
  });

  it('puts a priority bulletin ahead of each commune’s next programme', async () => {
    now = NOW + 5 * MIN;
    aired.length = 0;
    priority = await service.create(
      { title: 'Lịch tiêm chủng', text: 'Tiêm chủng ngày mai', priority: 'priority', communes: 'all' },
      'approver',
      true,
    );
    // Communes in byte order of their ids; the slot of each found from now + 2 min on, for 7 days.
    expect(aired.map((a) => [a.communeId, a.priority, a.zones, a.at?.toISOString(), a.createdBy])).toEqual([
      ['xa-a', 'priority', 'all', iso(NOW + HOUR - 1), 'approver'],
      ['xa-d', 'priority', 'all', iso(NOW + 3 * HOUR - 1), 'approver'],
      ['xa-e', 'priority', 'all', iso(NOW + 30 * MIN - 1), 'approver'],
    ]);
    expect(changed.at(-1)).toEqual([priority.id, ['default', 'xa-a', 'xa-d', 'xa-e']]);
    expect(priority).toMatchObject({
      title: 'Lịch tiêm chủng',
      status: 'sent',
      allCommunes: true,
      revision: 2,
      sentAt: iso(NOW + 5 * MIN),
    });
    const ahead = (at: number) => `trước chương trình lúc ${iso(at)} / ahead of the programme at that time`;
    expect(
      priority.communes.map((c) => [
        c.communeId,
        c.name,
        c.status,
        c.detail,
        c.handledBy,
        c.revision,
        c.occurrences.map((o) => o.startAt),
        c.devices,
      ]),
    ).toEqual([
      ['default', 'Xã', 'received', NO_PROGRAMME, null, 2, [], 0],
      ['xa-a', 'Xã An', 'scheduled', ahead(NOW + HOUR), 'approver', 2, [iso(NOW + HOUR - 1)], 2],
      ['xa-e', 'Xã Em', 'scheduled', NO_LOUDSPEAKERS, 'approver', 2, [], 0],
      ['xa-d', 'Xã Đông', 'scheduled', ahead(NOW + 3 * HOUR), 'approver', 2, [iso(NOW + 3 * HOUR - 1)], 1],
    ]);
    expect(priority.communes[0]!.handledAt).toBeNull();
    expect(priority.communes[1]!.handledAt).toBe(iso(NOW + 5 * MIN));
  });

  it('plays an emergency at once everywhere and catches up a loudspeaker back online', async () => {
    now = NOW + 6 * MIN;
    aired.length = 0;
    emergency = await service.create(
      { text: 'Bão số 3 đổ bộ', priority: 'emergency', communes: ['xa-e', 'xa-d', 'xa-a'] },
      'approver',
      true,
    );
    const expiresAt = NOW + 6 * MIN + DEFAULT_EMERGENCY_TTL_MS;
    expect(emergency).toMatchObject({ status: 'sent', revision: 2, expiresAt: iso(expiresAt) });
    expect(aired.map((a) => [a.communeId, a.priority, a.zones, a.at, a.expiresAt]).sort()).toEqual([
      ['xa-a', 'emergency', 'all', undefined, expiresAt],
      ['xa-d', 'emergency', 'all', undefined, expiresAt],
      ['xa-e', 'emergency', 'all', undefined, expiresAt],
    ]);
    expect(emergency.communes.map((c) => [c.communeId, c.status, c.detail, c.revision, c.devices])).toEqual([
      ['xa-a', 'aired', null, 2, 2],
      ['xa-e', 'aired', NO_LOUDSPEAKERS, 2, 0],
      ['xa-d', 'aired', null, 2, 1],
    ]);

    // a-2 played it, d-1 failed; A-1 is still pending (offline), and so is its normal bulletin.
    const { db } = target;
    const stage = (occurrenceId: string, deviceId: string, s: string, at: number) =>
      db
        .updateTable('deliveries')
        .set({ stage: s, at })
        .where('occurrence_id', '=', occurrenceId)
        .where('device_id', '=', deviceId)
        .execute();
    await stage(`${emergency.id}/xa-a`, 'a-2', 'finished', NOW + 7 * MIN);
    await stage(`${emergency.id}/xa-d`, 'd-1', 'failed', NOW + 7 * MIN);
    const seen = (await service.get(PROVINCE, emergency.id))!.communes;
    expect(seen.map((c) => [c.communeId, c.devices, c.played, c.failed])).toEqual([
      ['xa-a', 2, 1, 0],
      ['xa-e', 0, 0, 0],
      ['xa-d', 1, 0, 1],
    ]);
    expect(seen[0]!.deliveries).toEqual([
      { deviceId: 'A-1', occurrenceId: `${emergency.id}/xa-a`, stage: 'pending', at: null, detail: null },
      {
        deviceId: 'a-2',
        occurrenceId: `${emergency.id}/xa-a`,
        stage: 'finished',
        at: iso(NOW + 7 * MIN),
        detail: null,
      },
    ]);

    now = NOW + 10 * MIN;
    expect(await service.deviceOnline('A-1')).toBe(1);
    expect(resent).toEqual([[`${emergency.id}/xa-a`, 'A-1', expiresAt]]);
    expect(await service.deviceOnline('a-2')).toBe(0);
    expect(await service.deviceOnline('d-1')).toBe(0);
    // Once stopped, or once expired, it is not sent again.
    await db.updateTable('occurrences').set({ stopped_at: now }).where('id', '=', `${emergency.id}/xa-a`).execute();
    expect(await service.deviceOnline('A-1')).toBe(0);
    await db.updateTable('occurrences').set({ stopped_at: null }).where('id', '=', `${emergency.id}/xa-a`).execute();
    now = expiresAt;
    expect(await service.deviceOnline('A-1')).toBe(0);
    expect(resent).toHaveLength(1);
  });

  it('lists newest first for the province, and a commune’s inbox with its own row only', async () => {
    const province = await service.list(PROVINCE);
    // Written at +6, +5, +4, +2, +1 and +0 minutes.
    expect(province.map((b) => b.id)).toEqual([emergency.id, priority.id, sharedId, rejected.id, draftId, normal.id]);
    expect(province.map((b) => b.status)).toEqual(['sent', 'sent', 'sent', 'rejected', 'sent', 'sent']);
    expect(province.every((b) => b.communes.every((c) => c.deliveries === undefined))).toBe(true);
    expect((await service.list(PROVINCE, { limit: 2 })).map((b) => b.id)).toEqual([emergency.id, priority.id]);

    const inbox = await service.list(A);
    expect(inbox.map((b) => [b.id, b.communes.map((c) => [c.communeId, c.status, c.devices])])).toEqual([
      [emergency.id, [['xa-a', 'aired', 2]]],
      [priority.id, [['xa-a', 'scheduled', 2]]],
      [normal.id, [['xa-a', 'scheduled', 2]]],
    ]);
    expect((await service.list(communeScope('default'))).map((b) => b.id)).toEqual([priority.id]);
    expect((await service.list(communeScope('nowhere'))).map((b) => b.id)).toEqual([]);
    for (const b of inbox) {
      expect(typeof b.revision).toBe('number');
      expect(typeof b.durationMs).toBe('number');
      for (const c of b.communes) expect(typeof c.revision).toBe('number');
    }
  });

  it('ties by id, greater first, between bulletins written in the same millisecond', async () => {
    now = NOW + DAY;
    const first = await service.create({ text: 'Một', priority: 'normal', communes: ['xa-a'] }, 'editor', false);
    const second = await service.create({ text: 'Hai', priority: 'normal', communes: ['xa-a'] }, 'editor', false);
    // Ids are ASCII: their order by bytes is JavaScript's.
    const expected = [first.id, second.id].sort().reverse();
    expect((await service.list(PROVINCE, { limit: 2 })).map((b) => b.id)).toEqual(expected);
  });
});
