/**
 * The scheduling engine end to end: content → programme → schedule →
 * approval → occurrences → device plans → played, with the real server,
 * real Aedes, real SQLite or PostgreSQL, real espeak + ffmpeg and simulated loudspeakers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { startSimFleet } from '@loaxa/firmware-sim';
import { isStream } from '@loaxa/protocol';
import { row, rows, signIn as signInTo, sql, startTestServer, waitFor, type TestServer } from '../helpers';
import { PROVINCE } from '../../src/tenancy/scope';

const VN = 'Asia/Ho_Chi_Minh';
const DEVICES = [
  { id: 'loa-a1', zones: ['thon-a'] },
  { id: 'loa-a2', zones: ['thon-a'] },
  { id: 'loa-b1', zones: ['thon-b'] },
];

let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
type Api = TestServer['api'];
let editor: Api;
let approver: Api;

interface Schedule {
  id: string;
  status: string;
  reviewRevision: string;
  programmeChanged: boolean;
  durationMs: number;
}
interface ErrorBody {
  message: string;
  field?: string;
  conflicts?: { deviceIds: string[]; otherTitle: string; start: string }[];
  total?: number;
}

/** Signs in as another user and returns an api() bound to that session. */
const signIn = (username: string, password: string): Promise<Api> => signInTo(server, username, password);

/** A one-off rule `secondsAhead` from now, in the commune's wall-clock time. */
function onceIn(secondsAhead: number) {
  const t = DateTime.now().setZone(VN).plus({ seconds: secondsAhead });
  return {
    rule: { kind: 'once', startDate: t.toISODate()!, times: [t.toFormat('HH:mm:ss')] },
    at: t.startOf('second'),
  };
}

function dailyAt(hhmm: string) {
  return { kind: 'daily', startDate: DateTime.now().setZone(VN).plus({ days: 1 }).toISODate()!, times: [hhmm] };
}

async function createProgramme(api: Api, title: string, text: string): Promise<{ id: string; durationMs: number }> {
  const notice = await api<{ id: string; durationMs: number; sha256: string; engine: string }>(
    'POST',
    '/api/v1/content',
    { kind: 'notice', title, text, tags: ['test'] },
  );
  expect(notice.status).toBe(201);
  const programme = await api<{ id: string; durationMs: number }>('POST', '/api/v1/programmes', {
    title,
    items: [{ contentId: notice.body.id }],
  });
  expect(programme.status).toBe(201);
  return programme.body;
}

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['Thôn A', 'Thôn B']) {
    expect((await server.api('POST', '/api/v1/zones', { name })).status).toBe(201);
  }
  const secrets = await Promise.all(
    DEVICES.map(async (d) => ({
      deviceId: d.id,
      secret: (
        await server.services.registry.createDevice({
          communeId: 'default',
          id: d.id,
          name: `Loa ${d.id}`,
          zones: d.zones,
        })
      ).secret,
    })),
  );
  for (const [username, role] of [
    ['editor1', 'editor'],
    ['leader1', 'approver'],
  ] as const) {
    const res = await server.api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role });
    expect(res.status).toBe(201);
  }
  editor = await signIn('editor1', 'mat-khau-dai-du');
  approver = await signIn('leader1', 'mat-khau-dai-du');
  fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices: secrets });
  await waitFor('all devices online', async () => {
    const { body } = await server.api<{ online: boolean }[]>('GET', '/api/v1/devices');
    return body.length === DEVICES.length && body.every((d) => d.online);
  });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

describe('content library and programmes', () => {
  it('renders a notice, finds it by search, and computes a programme’s duration with repeats and gaps', async () => {
    const notice = await editor<{ id: string; durationMs: number; sha256: string; engine: string }>(
      'POST',
      '/api/v1/content',
      {
        kind: 'notice',
        title: 'Tiêm phòng dại',
        text: 'Sáng mai tiêm phòng dại cho chó mèo tại nhà văn hóa.',
        tags: ['y tế'],
      },
    );
    expect(notice.status).toBe(201);
    expect(notice.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(notice.body.durationMs).toBeGreaterThan(1000);
    const silence = await editor<{ id: string }>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Nghỉ 2 giây',
      durationMs: 2000,
    });
    expect(silence.status).toBe(201);

    const found = await editor<{ id: string }[]>('GET', `/api/v1/content?q=${encodeURIComponent('phòng dại')}`);
    expect(found.body.map((c) => c.id)).toEqual([notice.body.id]);
    const byTag = await editor<{ id: string }[]>('GET', `/api/v1/content?tag=${encodeURIComponent('y tế')}`);
    expect(byTag.body.map((c) => c.id)).toEqual([notice.body.id]);

    const programme = await editor<{ id: string; durationMs: number; items: unknown[] }>('POST', '/api/v1/programmes', {
      title: 'Bản tin y tế',
      items: [{ contentId: notice.body.id, repeat: 2, gapMs: 1000 }, { contentId: silence.body.id }],
    });
    expect(programme.status).toBe(201);
    expect(programme.body.durationMs).toBe(2 * (notice.body.durationMs + 1000) + 2000);
    // What a loudspeaker plays: notice, gap, notice — the trailing gap and silence are dead air, dropped.
    const played = await server.services.scheduling.programmes.assetsOf(PROVINCE, programme.body.id);
    expect(played.map((a) => a.durationMs)).toEqual([notice.body.durationMs, 1000, notice.body.durationMs]);

    const stream = await editor<{ id: string }>('POST', '/api/v1/content', {
      kind: 'stream',
      title: 'VOV1',
      url: 'https://example.invalid/vov1.mp3',
      durationMs: 60_000,
    });
    expect(stream.status).toBe(201);
    // A programme of a stream relay only: it opens with half a second of stored silence.
    const relay = await editor<{ id: string; durationMs: number }>('POST', '/api/v1/programmes', {
      title: 'Có luồng',
      items: [{ contentId: stream.body.id }],
    });
    expect(relay.status).toBe(201);
    expect(relay.body.durationMs).toBe(60_000);
    const relayed = await server.services.scheduling.programmes.assetsOf(PROVINCE, relay.body.id);
    expect(relayed.map((a) => (isStream(a) ? a.url : a.durationMs))).toEqual([500, 'https://example.invalid/vov1.mp3']);
    const shortStream = await editor<ErrorBody>('POST', '/api/v1/content', {
      kind: 'stream',
      title: 'x',
      url: 'https://example.invalid/a',
      durationMs: 500,
    });
    expect(shortStream.status).toBe(400);
    expect(shortStream.body.field).toBe('durationMs');

    const badStream = await editor<ErrorBody>('POST', '/api/v1/content', {
      kind: 'stream',
      title: 'x',
      url: 'ftp://example.invalid/a',
      durationMs: 1000,
    });
    expect(badStream.status).toBe(400);
    expect(badStream.body.field).toBe('url');
    const used = await editor<ErrorBody>('DELETE', `/api/v1/content/${notice.body.id}`);
    expect(used.status).toBe(409);
  });
});

describe('approval workflow, on air, conflicts', () => {
  it('plays only once approved, exactly once per device, at the scheduled second', async () => {
    const programme = await createProgramme(editor, 'Họp dân', 'Mời bà con dự họp tại nhà văn hóa thôn lúc 19 giờ.');
    const { rule, at } = onceIn(14);
    const created = await editor<Schedule>('POST', '/api/v1/schedules', {
      title: 'Họp dân thôn A',
      programmeId: programme.id,
      rule,
      zones: ['thon-a'],
      volume: 80,
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('draft');
    const id = created.body.id;

    // Nothing is planned for a draft.
    const drafted = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM occurrences WHERE schedule_id = ${id}`,
    );
    expect(Number(drafted!.n)).toBe(0);
    const selfApprove = await editor<ErrorBody>('POST', `/api/v1/schedules/${id}/approve`);
    expect(selfApprove.status).toBe(403);
    expect((await editor<Schedule>('POST', `/api/v1/schedules/${id}/submit`)).body.status).toBe('submitted');
    const queue = await approver<Schedule[]>('GET', '/api/v1/approvals');
    expect(queue.body.map((s) => s.id)).toContain(id);
    const noReason = await approver<ErrorBody>('POST', `/api/v1/schedules/${id}/reject`, { reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.field).toBe('reason');
    const reviewed = queue.body.find((s) => s.id === id)!.reviewRevision;
    const approved = await approver<Schedule>('POST', `/api/v1/schedules/${id}/approve`, { revision: reviewed });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    const occurrenceId = `occ-${id}-${at.toMillis().toString(36)}`;
    const plan = await server.services.planner.planForDevice('loa-a1');
    const item = plan.items.find((i) => i.occurrenceId === occurrenceId);
    expect(item).toMatchObject({ startAt: at.toMillis(), volume: 80 });
    expect((await server.services.planner.planForDevice('loa-b1')).items.map((i) => i.occurrenceId)).not.toContain(
      occurrenceId,
    );

    const finished = await waitFor(
      'both thon-a devices finished',
      async () => {
        const deliveries = await rows<{ device_id: string; stage: string }>(
          server,
          sql`SELECT device_id, stage FROM deliveries WHERE occurrence_id = ${occurrenceId} ORDER BY device_id`,
        );
        return deliveries.length === 2 && deliveries.every((r) => r.stage === 'finished') ? deliveries : null;
      },
      40_000,
    );
    expect(finished.map((r) => r.device_id)).toEqual(['loa-a1', 'loa-a2']);
    const started = await rows<{ device_id: string; at: number }>(
      server,
      sql`SELECT device_id, at FROM acks WHERE ref_id = ${occurrenceId} AND stage = 'started' ORDER BY device_id, at`,
    );
    expect(started).toHaveLength(2);
    for (const s of started) expect(Math.abs(s.at - at.toMillis())).toBeLessThan(200);
  }, 60_000);

  it('refuses an overlapping schedule with the list, accepts it by priority, and a shifted one', async () => {
    const programme = await createProgramme(editor, 'Thời tiết', 'Dự báo thời tiết: ngày mai có mưa rào.');
    const first = await editor<Schedule>('POST', '/api/v1/schedules', {
      title: 'Thời tiết sáng',
      programmeId: programme.id,
      rule: dailyAt('06:00'),
      zones: ['thon-a', 'thon-b'],
    });
    expect(first.status).toBe(201);
    expect((await editor<Schedule>('POST', `/api/v1/schedules/${first.body.id}/submit`)).body.status).toBe('submitted');

    const overlapping = { title: 'Loa riêng', programmeId: programme.id, rule: dailyAt('06:00'), devices: ['loa-b1'] };
    const clash = await editor<ErrorBody>('POST', '/api/v1/schedules', overlapping);
    expect(clash.status).toBe(409);
    expect(clash.body.total).toBeGreaterThan(300);
    expect(clash.body.conflicts![0]).toMatchObject({ deviceIds: ['loa-b1'], otherTitle: 'Thời tiết sáng' });
    expect(clash.body.message).toContain('Thời tiết sáng');

    const preview = await editor<{ total: number }>('POST', '/api/v1/schedules/conflicts', overlapping);
    expect(preview.status).toBe(200);
    expect(preview.body.total).toBe(clash.body.total);
    // Checking an edit of the first schedule leaves the schedule itself out.
    const asEdited = { title: 'Thời tiết sáng', programmeId: programme.id, rule: dailyAt('06:00'), zones: ['thon-a'] };
    const self = await editor<{ total: number }>('POST', '/api/v1/schedules/conflicts', {
      ...asEdited,
      id: first.body.id,
    });
    expect(self.status).toBe(200);
    expect(self.body.total).toBe(0);
    expect(
      (await editor<{ total: number }>('POST', '/api/v1/schedules/conflicts', asEdited)).body.total,
    ).toBeGreaterThan(300);

    const byPriority = await editor<Schedule>('POST', '/api/v1/schedules', { ...overlapping, onConflict: 'priority' });
    expect(byPriority.status).toBe(201);
    const shifted = await editor<Schedule>('POST', '/api/v1/schedules', { ...overlapping, rule: dailyAt('06:30') });
    expect(shifted.status).toBe(201);

    const emergency = await editor<ErrorBody>('POST', '/api/v1/schedules', {
      ...overlapping,
      rule: dailyAt('07:30'),
      priority: 'emergency',
    });
    expect(emergency.status).toBe(403);
    expect(emergency.body.field).toBe('priority');
  });
});

describe('re-planning', () => {
  it('follows zone membership, one-off cancellation, programme changes and whole-schedule cancellation', async () => {
    const programme = await createProgramme(approver, 'Lịch thu gom rác', 'Xe thu gom rác đến vào sáng thứ bảy.');
    const created = await approver<Schedule>('POST', '/api/v1/schedules', {
      title: 'Thu gom rác',
      programmeId: programme.id,
      rule: { ...dailyAt('17:15'), endDate: DateTime.now().setZone(VN).plus({ days: 5 }).toISODate()! },
      zones: ['thon-a'],
    });
    const id = created.body.id;
    // A publisher's submission goes on air at once.
    expect((await approver<Schedule>('POST', `/api/v1/schedules/${id}/submit`)).body.status).toBe('approved');
    const occurrences = () =>
      rows<{ id: string; assets: string; cancelled_at: number | null }>(
        server,
        sql`SELECT id, assets, cancelled_at FROM occurrences WHERE schedule_id = ${id} ORDER BY start_at`,
      );
    expect(await occurrences()).toHaveLength(5); // tomorrow … five days ahead, all inside the 7-day horizon
    const firstId = (await occurrences())[0]!.id;
    const planned = async (deviceId: string) =>
      (await server.services.planner.planForDevice(deviceId)).items.filter((i) => i.occurrenceId.includes(id)).length;
    expect(await planned('loa-b1')).toBe(0);

    // Move loa-b1 into thon-a: it receives the schedule's plan items (acked "received" by the device).
    const moved = await server.api<{ zones: string[] }>('PUT', '/api/v1/devices/loa-b1/zones', {
      zones: ['thon-a', 'thon-b'],
    });
    expect(moved.status).toBe(200);
    expect(await planned('loa-b1')).toBe(5);
    await waitFor('loa-b1 acknowledged the new plan item', () =>
      row(
        server,
        sql`SELECT 1 AS one FROM acks WHERE device_id = 'loa-b1' AND ref_id = ${firstId} AND stage = 'received'`,
      ),
    );
    // Out of the zone again: the items leave its plan; back in: they return.
    expect((await server.api('PUT', '/api/v1/devices/loa-b1/zones', { zones: ['thon-b'] })).status).toBe(200);
    expect(await planned('loa-b1')).toBe(0);
    expect((await server.api('PUT', '/api/v1/devices/loa-b1/zones', { zones: ['thon-a', 'thon-b'] })).status).toBe(200);
    expect(await planned('loa-b1')).toBe(5);

    // Cancel one occurrence (on air: the approver's call): it leaves every plan and a roll-forward does not bring it back.
    expect((await editor('DELETE', `/api/v1/occurrences/${firstId}`)).status).toBe(403);
    expect((await approver('DELETE', `/api/v1/occurrences/${firstId}`)).status).toBe(204);
    await server.services.scheduling.rollForward();
    expect(await planned('loa-a1')).toBe(4);
    expect((await occurrences())[0]!.cancelled_at).not.toBeNull();

    // An editor's change to the programme waits for approval; the frozen version keeps airing.
    const before = (await occurrences())[1]!.assets;
    const extra = await editor<{ id: string }>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Nghỉ',
      durationMs: 1500,
    });
    const p = await editor<{ items: { contentId: string }[] }>('GET', `/api/v1/programmes/${programme.id}`);
    const edit = await editor('PUT', `/api/v1/programmes/${programme.id}`, {
      title: 'Lịch thu gom rác',
      items: [{ contentId: extra.body.id }, ...p.body.items.map((i) => ({ contentId: i.contentId }))],
    });
    expect(edit.status).toBe(200);
    const waiting = await approver<Schedule>('GET', `/api/v1/schedules/${id}`);
    expect(waiting.body).toMatchObject({ status: 'approved', programmeChanged: true });
    expect((await occurrences())[1]!.assets).toBe(before);
    expect(
      (await approver('POST', `/api/v1/schedules/${id}/approve`, { revision: waiting.body.reviewRevision })).status,
    ).toBe(200);
    const after = JSON.parse((await occurrences())[1]!.assets) as unknown[];
    expect(after.length).toBe((JSON.parse(before) as unknown[]).length + 1);

    // Cancelling the schedule empties every plan of it; it is on air, so it is the approver's to cancel.
    expect((await editor('POST', `/api/v1/schedules/${id}/cancel`)).status).toBe(403);
    expect((await approver<Schedule>('POST', `/api/v1/schedules/${id}/cancel`)).body.status).toBe('cancelled');
    expect(await planned('loa-a1')).toBe(0);
    expect(await planned('loa-b1')).toBe(0);
  });
});
