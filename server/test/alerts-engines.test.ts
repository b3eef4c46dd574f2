/**
 * The disaster alert service's storage (alerts/service.ts) on each engine the server can use:
 * an alert matched to loudspeakers by position, drawn zone and geocode (no SQLite JSON functions),
 * decided per commune and listed per scope; a leader's decision as compare-and-set on revision;
 * repeats, a Cancel's all-clear and an expiry from the tick; the feeds saved in Settings. Every
 * expected value is worked out by hand from the fixtures below.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log';
import type { FeedReader } from '../src/alerts/feed';
import { AlertService, type AlertCommuneView, type AlertError } from '../src/alerts/service';
import type { AlertRule } from '../src/alerts/rules';
import type { SqlDb } from '../src/db/sql';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const NOW = Date.UTC(2026, 9, 12, 1, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const SHA = 'b'.repeat(64);
const iso = (ms: number) => new Date(ms).toISOString();
const SENDER = 'canhbao@example.vn';
const ENV_FEED = 'http://env.example/cap.xml';
const SAVED_FEED = 'http://saved.example/index.xml';
const B = communeScope('xa-b');

/** A square around 10.5°N 106.5°E. */
const SQUARE = '10,106 10,107 11,107 11,106 10,106';

function capXml(options: {
  identifier: string;
  msgType?: 'Alert' | 'Cancel';
  references?: string;
  expires?: string;
  geocodes?: [string, string][];
  headline: string;
}): string {
  const geocodes = (options.geocodes ?? [])
    .map(([name, value]) => `<geocode><valueName>${name}</valueName><value>${value}</value></geocode>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${options.identifier}</identifier>
  <sender>${SENDER}</sender>
  <sent>2026-10-12T07:30:00+07:00</sent>
  <status>Actual</status>
  <msgType>${options.msgType ?? 'Alert'}</msgType>
  <scope>Public</scope>
  ${options.references ? `<references>${options.references}</references>` : ''}
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Lũ</event>
    <urgency>${options.msgType === 'Cancel' ? 'Past' : 'Immediate'}</urgency>
    <severity>${options.msgType === 'Cancel' ? 'Minor' : 'Severe'}</severity>
    <certainty>${options.msgType === 'Cancel' ? 'Observed' : 'Likely'}</certainty>
    ${options.expires ? `<expires>${options.expires}</expires>` : ''}
    <headline>${options.headline}</headline>
    <description>Nước lên nhanh</description>
    <instruction>Sơ tán khỏi vùng trũng</instruction>
    <area>
      <areaDesc>Vùng thử</areaDesc>
      <polygon>${SQUARE}</polygon>
      ${geocodes}
    </area>
  </info>
</alert>`;
}

const FLOOD = capXml({
  identifier: 'LU.0001',
  expires: '2026-10-13T08:00:00+07:00', // NOW + 1 day
  geocodes: [
    ['MA_DVHC', '137'],
    ['X', '555'],
  ],
  headline: 'Lũ trên sông',
});
const CANCEL = capXml({
  identifier: 'LU.0002',
  msgType: 'Cancel',
  references: `${SENDER},LU.0001,2026-10-12T07:30:00+07:00`,
  geocodes: [
    ['MA_DVHC', '137'],
    ['X', '555'],
  ],
  headline: 'Hủy cảnh báo lũ',
});
/** In force one hour (from NOW); the polygon only: no geocodes. */
const SHORT = capXml({ identifier: 'LU.0003', expires: '2026-10-12T09:00:00+07:00', headline: 'Lũ ngắn' });

describe.each(engineCases('the alert service on PostgreSQL'))('disaster alerts on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  let service: AlertService;
  let audit: AuditLog;
  let now = NOW;
  const aired: { communeId: string; alertId: string; deviceIds: string[]; title: string; text: string }[] = [];
  const rendered: { text: string; chime: string }[] = [];
  /** Set to hold the next render until released. */
  let gate: Promise<void> | null = null;

  beforeAll(async () => {
    ({ target, close } = await open());
    const { db } = target;
    await db
      .insertInto('communes')
      .values([
        { id: 'xa-b', name: 'Xã B', created_at: 0, geocodes: '["MA_DVHC=137"]' },
        { id: 'xa-c', name: 'Xã C', created_at: 0, geocodes: '[]' },
      ])
      .execute();
    const device = (
      id: string,
      communeId: string,
      at: [number, number] | null,
      revoked = false,
    ): Record<string, unknown> => ({
      id,
      name: `Loa ${id}`,
      secret_hash: 'x',
      created_at: 0,
      commune_id: communeId,
      latitude: at?.[0] ?? null,
      longitude: at?.[1] ?? null,
      revoked_at: revoked ? 1 : null,
    });
    await db
      .insertInto('devices')
      .values([
        device('d1', 'default', [10.5, 106.5]), // inside the square
        device('d2', 'default', [20, 106]), // outside, though in a reached zone: its position decides
        device('d3', 'default', null), // no position, in a zone drawn inside the square
        device('d4', 'default', [10.5, 106.5], true), // revoked
        device('d6', 'default', [20, 106]), // outside, in a zone carrying code 555
        device('d9', 'default', null), // in a zone far away with another code
        device('b1', 'xa-b', null), // its commune carries MA_DVHC=137
        device('b2', 'xa-b', null, true), // revoked
        device('c1', 'xa-c', [20, 106]), // outside, nothing else
      ])
      .execute();
    await db
      .insertInto('zones')
      .values([
        {
          id: 'z1',
          commune_id: 'default',
          name: 'Ven sông',
          created_at: 0,
          geocodes: '[]',
          area: '[[10.2,106.2],[10.2,106.4],[10.4,106.4],[10.4,106.2]]',
        },
        { id: 'z2', commune_id: 'default', name: 'Thôn 555', created_at: 0, geocodes: '["555"]', area: null },
        {
          id: 'z3',
          commune_id: 'default',
          name: 'Xa',
          created_at: 0,
          geocodes: '["777"]',
          area: '[[30,100],[30,101],[31,101]]',
        },
      ])
      .execute();
    await db
      .insertInto('device_zones')
      .values([
        { device_id: 'd2', zone_id: 'z1' },
        { device_id: 'd3', zone_id: 'z1' },
        { device_id: 'd6', zone_id: 'z2' },
        { device_id: 'd9', zone_id: 'z3' },
      ])
      .execute();
    await db
      .insertInto('media')
      .values({ sha256: SHA, format: 'ogg', bytes: 1, duration_ms: 30_000, created_at: 0 })
      .execute();
    audit = new AuditLog(target);
    const rules: Record<string, AlertRule[]> = {
      // Every alert waits for a leader, is repeated after 0 then 10 minutes, and a Cancel is followed by an all-clear.
      'xa-b': [{ decision: 'confirm', repeatsMinutes: [0, 10], allClear: true }],
    };
    let plays = 0;
    service = new AlertService({
      sqlDb: target,
      feeds: [ENV_FEED],
      reader: { read: async () => ({ kind: 'failed', error: 'down' }) } as unknown as FeedReader,
      renderer: {
        async render(request) {
          rendered.push(request);
          if (gate) await gate;
          return { sha256: SHA, format: 'ogg', bytes: 1, durationMs: 30_000, engine: 'test' };
        },
      },
      airing: {
        async air(input) {
          aired.push({
            communeId: input.communeId,
            alertId: input.alertId,
            deviceIds: input.deviceIds,
            title: input.title,
            text: input.text,
          });
          const id = `occ-${++plays}`;
          await target.db
            .insertInto('occurrences')
            .values({
              id,
              title: input.title,
              priority: 'emergency',
              start_at: now,
              duration_ms: 30_000,
              sha256: SHA,
              created_at: now,
              commune_id: input.communeId,
              alert_id: input.alertId,
            })
            .execute();
          return id;
        },
      },
      rules: (communeId) => rules[communeId] ?? [],
      audit,
      logger: pino({ level: 'silent' }),
      pollMs: MIN,
      repeatsMs: [0, 5 * MIN],
      now: () => now,
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await close?.();
  });

  const rejection = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return err as AlertError;
    }
    throw new Error('expected a rejection');
  };

  let floodId: string;

  it('matches by position, drawn zone and geocode, and decides per commune', async () => {
    floodId = (await service.ingest(FLOOD, 'http://feed.example/lu.xml'))!;
    expect(floodId).toMatch(/^al-/);
    // The same alert again (sender, identifier) is not taken in twice.
    expect(await service.ingest(FLOOD, 'http://feed.example/lu.xml')).toBeNull();

    const [flood, ...others] = await service.list(PROVINCE);
    expect(others).toEqual([]);
    expect(flood).toMatchObject({
      id: floodId,
      sender: SENDER,
      identifier: 'LU.0001',
      msgType: 'Alert',
      state: 'active',
      level: 3, // Severe, no level parameter
      categories: ['Met'],
      expiresAt: iso(NOW + 24 * HOUR),
      replaces: null,
    });
    expect(flood!.communes).toEqual([
      {
        communeId: 'default',
        communeName: 'Xã',
        decision: 'auto', // the default rule: Severe, Immediate, Likely
        rule: null,
        allClear: false,
        status: 'airing',
        devices: 3, // d1, d3, d6
        repeatsDone: 0,
        nextAt: iso(NOW), // the first gap is 0
        decidedBy: null,
        revision: 1,
        occurrences: [],
      },
      {
        communeId: 'xa-b',
        communeName: 'Xã B',
        decision: 'confirm',
        rule: 0,
        allClear: true,
        status: 'waiting',
        devices: 1, // b1
        repeatsDone: 0,
        nextAt: null,
        decidedBy: null,
        revision: 1,
        occurrences: [],
      },
    ]);
    const received = await audit.list(PROVINCE, { action: 'alert.received' });
    expect(received.map((e) => e.detail)).toEqual([
      {
        sender: SENDER,
        identifier: 'LU.0001',
        msgType: 'Alert',
        status: 'Actual',
        state: 'active',
        references: [],
        communes: {
          default: { devices: 3, decision: 'auto', rule: null },
          'xa-b': { devices: 1, decision: 'confirm', rule: 0 },
        },
      },
    ]);
  });

  it('shows a commune only its own rows, and nothing it was not reached by', async () => {
    const seen = await service.list(B);
    expect(seen.map((a) => a.id)).toEqual([floodId]);
    expect(seen[0]!.communes.map((c) => c.communeId)).toEqual(['xa-b']);
    expect(await service.list(communeScope('xa-c'))).toEqual([]);
  });

  it('airs what is due, one tick at a time', async () => {
    const first = service.tick();
    expect(service.tick()).toBe(first);
    await first;
    expect(aired).toEqual([
      {
        communeId: 'default',
        alertId: floodId,
        deviceIds: ['d1', 'd3', 'd6'],
        title: 'Lũ trên sông',
        text: 'Cảnh báo thiên tai cấp độ 3. Lũ trên sông. Nước lên nhanh. Sơ tán khỏi vùng trũng.',
      },
    ]);
    expect(rendered).toEqual([{ text: aired[0]!.text, chime: 'alert-3' }]);
    const row = (await service.list(PROVINCE))[0]!.communes[0]!;
    expect(row).toMatchObject({
      status: 'airing',
      repeatsDone: 1,
      // From the end of the 30 s airing, the install's second gap (5 min).
      nextAt: iso(NOW + 30_000 + 5 * MIN),
      revision: 2,
      occurrences: [{ id: 'occ-1', startAt: iso(NOW) }],
    });
    // Nothing else is due yet.
    await service.tick();
    expect(aired).toHaveLength(1);
  });

  it('takes a leader’s decision as compare-and-set on revision', async () => {
    const outside = await rejection(service.decideFor(communeScope('default'), floodId, 'xa-b', 'confirm', 1, 'x'));
    expect([outside.statusCode, outside.message]).toEqual([404, `no alert ${floodId} for this commune`]);
    const missing = await rejection(service.decideFor(PROVINCE, 'al-none', 'xa-b', 'confirm', 1, 'x'));
    expect([missing.statusCode, missing.message]).toEqual([404, 'no alert al-none for commune xa-b']);

    const stale = await rejection(service.decideFor(B, floodId, 'xa-b', 'confirm', 7, 'chu-tich'));
    expect([stale.statusCode, stale.field, stale.message]).toEqual([409, 'revision', 'someone decided meanwhile']);
    expect((stale.extra as { current: AlertCommuneView }).current).toMatchObject({ status: 'waiting', revision: 1 });

    now = NOW + MIN;
    const decided = await service.decideFor(B, floodId, 'xa-b', 'confirm', 1, 'chu-tich');
    expect(decided).toMatchObject({ status: 'airing', decidedBy: 'chu-tich', nextAt: iso(NOW + MIN), revision: 2 });

    // The confirmation starts a tick; waiting for the one running airs it once.
    await service.tick();
    expect(aired.map((a) => [a.communeId, a.deviceIds])).toEqual([
      ['default', ['d1', 'd3', 'd6']],
      ['xa-b', ['b1']],
    ]);
    const row = (await service.list(B))[0]!.communes[0]!;
    // The rule's second gap: 10 minutes after the airing's end.
    expect(row).toMatchObject({ repeatsDone: 1, nextAt: iso(NOW + MIN + 30_000 + 10 * MIN), revision: 3 });

    const again = await rejection(service.decideFor(B, floodId, 'xa-b', 'dismiss', 2, 'pho-chu-tich'));
    expect([again.statusCode, again.field, again.message]).toEqual([
      409,
      'status',
      'nothing waits for a decision (it is airing)',
    ]);
    expect((again.extra as { current: AlertCommuneView }).current).toMatchObject({ status: 'airing', revision: 3 });
  });

  it('ends the cancelled alert and airs the all-clear once where the rule asks for it', async () => {
    now = NOW + 2 * MIN;
    const cancelId = (await service.ingest(CANCEL, null))!;
    const [cancel, flood] = await service.list(PROVINCE);
    expect(cancel!.id).toBe(cancelId);
    expect(cancel).toMatchObject({ msgType: 'Cancel', state: 'cancelled', replaces: floodId });
    expect(flood).toMatchObject({ id: floodId, state: 'cancelled' });
    expect(flood!.communes.map((c) => [c.communeId, c.status, c.revision, c.nextAt])).toEqual([
      ['default', 'done', 3, null],
      ['xa-b', 'done', 4, null],
    ]);
    expect(cancel!.communes.map((c) => [c.communeId, c.decision, c.status, c.allClear, c.devices, c.rule])).toEqual([
      ['default', 'show', 'done', false, 3, null],
      ['xa-b', 'auto', 'airing', true, 1, 0],
    ]);
    const received = (await audit.list(PROVINCE, { action: 'alert.received' }))[0]!;
    expect(received.detail).toMatchObject({
      references: [floodId],
      communes: {
        default: { devices: 3, decision: 'show', rule: null },
        'xa-b': { devices: 1, decision: 'all-clear', rule: 0 },
      },
    });

    await service.tick();
    expect(aired.slice(2)).toEqual([
      {
        communeId: 'xa-b',
        alertId: cancelId,
        deviceIds: ['b1'],
        title: 'Kết thúc cảnh báo: Lũ trên sông',
        text: 'Thông báo kết thúc cảnh báo thiên tai. Cảnh báo Lũ trên sông đã được hủy bỏ. Hủy cảnh báo lũ. Nước lên nhanh. Sơ tán khỏi vùng trũng.',
      },
    ]);
    expect(rendered.at(-1)!.chime).toBe('all-clear');
    const allClear = (await service.list(B))[0]!.communes[0]!;
    expect(allClear).toMatchObject({ status: 'done', repeatsDone: 1, nextAt: null, revision: 2 });
    expect((await audit.list(B, { action: 'alert.all-clear' })).map((e) => e.target)).toEqual([cancelId]);
    // Nothing more is due: the cancelled alert's rows are done.
    now = NOW + HOUR;
    await service.tick();
    expect(aired).toHaveLength(3);
  });

  it('ends an alert that expired before its next airing', async () => {
    now = NOW;
    const shortId = (await service.ingest(SHORT, null))!;
    const short = (await service.list(PROVINCE)).find((a) => a.id === shortId)!;
    // The polygon alone: d1 by position, d3 by its drawn zone; no geocode, so not d6 nor xa-b.
    expect(short.communes.map((c) => [c.communeId, c.devices, c.status])).toEqual([['default', 2, 'airing']]);
    now = NOW + 2 * HOUR;
    await service.tick();
    expect(aired).toHaveLength(3);
    const ended = (await service.list(PROVINCE)).find((a) => a.id === shortId)!;
    expect(ended.state).toBe('expired');
    expect(ended.communes[0]).toMatchObject({ status: 'done', nextAt: null, revision: 2, repeatsDone: 0 });
    const entries = await audit.list(communeScope('default'), { action: 'alert.ended' });
    expect(entries.map((e) => [e.target, e.detail])).toEqual([[shortId, { state: 'active' }]]);
  });

  it('lists the refused files from the audit log', async () => {
    expect(await service.ingest('<alert', 'http://bad.example/x.xml')).toBeNull();
    const refused = await service.refused();
    expect(refused).toHaveLength(1);
    expect(refused[0]!.source).toBe('http://bad.example/x.xml');
    expect(refused[0]!.reason).not.toBe('');
  });

  it('saves, lists and removes feeds; the environment’s stay', async () => {
    now = NOW + 3 * HOUR;
    const added = await service.addFeed(SAVED_FEED, 'admin');
    expect(added).toMatchObject({ url: SAVED_FEED, source: 'saved', savedBy: 'admin', savedAt: iso(now) });
    await service.poll();
    // Both read once and failed: the next read after 2 × the poll period.
    expect(await service.feeds()).toEqual([
      {
        url: ENV_FEED,
        source: 'environment',
        savedBy: null,
        savedAt: null,
        polledAt: iso(now),
        okAt: null,
        error: 'down',
        failures: 1,
        nextAt: iso(now + 2 * MIN),
      },
      {
        url: SAVED_FEED,
        source: 'saved',
        savedBy: 'admin',
        savedAt: iso(now),
        polledAt: iso(now),
        okAt: null,
        error: 'down',
        failures: 1,
        nextAt: iso(now + 2 * MIN),
      },
    ]);

    const twice = await rejection(service.addFeed(SAVED_FEED, 'other'));
    expect([twice.statusCode, twice.message]).toEqual([409, 'this feed is already polled']);
    expect((twice.extra as { feed: { savedBy: string } }).feed.savedBy).toBe('admin');
    const env = await rejection(service.removeFeed(ENV_FEED));
    expect([env.statusCode, env.message]).toEqual([409, 'this feed comes from LOAXA_CAP_FEEDS; remove it there']);

    await service.removeFeed(SAVED_FEED);
    expect((await service.feeds()).map((f) => f.url)).toEqual([ENV_FEED]);
    const gone = await rejection(service.removeFeed(SAVED_FEED));
    expect([gone.statusCode, gone.message]).toEqual([404, 'no such feed']);

    // Saved again: its failures start over (0, then this poll's 1), the environment's feed still backs off.
    now += MIN;
    expect(await service.addFeed(SAVED_FEED, 'other')).toMatchObject({ source: 'saved', savedBy: 'other' });
    await service.poll();
    expect((await service.feeds()).map((f) => [f.url, f.failures, f.savedBy])).toEqual([
      [ENV_FEED, 1, null],
      [SAVED_FEED, 1, 'other'],
    ]);
  });

  it('stop() waits for the running tick', async () => {
    now = NOW + 4 * HOUR;
    await service.ingest(capXml({ identifier: 'LU.0004', headline: 'Lũ muộn' }), null);
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const ticking = service.tick();
    while (rendered.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    let stopped = false;
    const stopping = service.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    gate = null;
    await Promise.all([ticking, stopping]);
    expect(stopped).toBe(true);
    // The airing that was rendering finished and was recorded; after stop() nothing more runs.
    expect(aired.at(-1)!.title).toBe('Lũ muộn');
    const count = aired.length;
    await service.tick();
    expect(aired).toHaveLength(count);
  });
});
