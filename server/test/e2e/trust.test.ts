/**
 * What airs is exactly what was approved, and a stop sticks. On the real
 * server (SQLite or PostgreSQL, the embedded broker, espeak + ffmpeg): state changes are
 * compare-and-set, so a cancel that lands while an approval prepares its audio
 * wins; approval binds to the reviewed revision of the schedule, its
 * programme and its content; a stopped occurrence leaves every plan, the
 * retained plan of an offline loudspeaker and the plan of one added later
 * included; one horizon for materialising and planning, rolled forward by a
 * moved clock; a plan too long for one message is said out loud.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_PLAN_ITEMS, topics, type PlanPayload } from '@loaxa/protocol';
import type { Actor } from '../../src/schedule/schedules';
import { PROVINCE } from '../../src/tenancy/scope';
import { row, rows, signIn as signInTo, sql, startTestServer, type TestServer } from '../helpers';

const VN = 'Asia/Ho_Chi_Minh';
const DAY = 24 * 3600_000;
let server: TestServer;
/** The test's clock offset: the server's plans and schedules follow Date.now() + shift. */
let shift = 0;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];
type Api = TestServer['api'];
let editor: Api;
let approver: Api;

const ADMIN: Actor = { username: 'admin', canApprove: true, canPublish: true };

interface Schedule {
  id: string;
  status: string;
  revision: number;
  reviewRevision: string;
  programmeChanged: boolean;
}
interface ErrorBody {
  message: string;
  field?: string;
  current?: Schedule;
}

const signIn = (username: string, password: string): Promise<Api> => signInTo(server, username, password);

beforeAll(async () => {
  server = await startTestServer({}, { now: () => Date.now() + shift });
  const { registry } = server.services;
  await registry.createZone('Thôn Một', 'default', 'thon-1');
  await registry.createZone('Thôn Hai', 'default', 'thon-2');
  for (const [id, zone] of [
    ['loa-on', 'thon-1'],
    ['loa-off', 'thon-1'],
    ['loa-later', 'thon-2'],
    ['loa-far', 'thon-2'],
  ] as const) {
    secrets.set(id, (await registry.createDevice({ communeId: 'default', id, zones: [zone] })).secret);
  }
  for (const [username, role] of [
    ['bien-tap', 'editor'],
    ['lanh-dao', 'approver'],
  ] as const) {
    const created = await server.api('POST', '/api/v1/users', { username, password: `${username}-pass-123`, role });
    expect(created.status).toBe(201);
  }
  editor = await signIn('bien-tap', 'bien-tap-pass-123');
  approver = await signIn('lanh-dao', 'lanh-dao-pass-123');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server?.close();
});

/** Connects as the device and returns the retained plan the broker holds for it. */
async function retainedPlan(id: string): Promise<PlanPayload> {
  const client = await mqtt.connectAsync(server.mqttUrl, {
    clientId: id,
    username: id,
    password: secrets.get(id)!,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const plan = new Promise<PlanPayload>((resolve) =>
    client.on('message', (topic, payload) => {
      if (topic === topics.devicePlan(id) && payload.length > 0) resolve(JSON.parse(payload.toString()) as PlanPayload);
    }),
  );
  await client.subscribeAsync(topics.devicePlan(id), { qos: 1 });
  const got = await plan;
  await client.endAsync(true);
  return got;
}

const planned = async (id: string) =>
  (await server.services.planner.planForDevice(id)).items.map((i) => i.occurrenceId);

async function programme(api: Api, text: string): Promise<{ programmeId: string; contentId: string }> {
  const notice = await api<{ id: string }>('POST', '/api/v1/content', { kind: 'notice', title: 'Thông báo', text });
  expect(notice.status).toBe(201);
  const p = await api<{ id: string }>('POST', '/api/v1/programmes', {
    title: 'Chương trình',
    items: [{ contentId: notice.body.id }],
  });
  expect(p.status).toBe(201);
  return { programmeId: p.body.id, contentId: notice.body.id };
}

function onceAt(ms: number) {
  const t = DateTime.fromMillis(ms).setZone(VN);
  return { kind: 'once' as const, startDate: t.toISODate()!, times: [t.toFormat('HH:mm:ss')] };
}

async function draft(api: Api, programmeId: string, zone: string, startMs: number): Promise<Schedule> {
  const created = await api<Schedule>('POST', '/api/v1/schedules', {
    title: `Lịch ${startMs}`,
    programmeId,
    rule: onceAt(startMs),
    zones: [zone],
    onConflict: 'priority',
  });
  expect(created.status).toBe(201);
  return created.body;
}

describe('schedule transitions are compare-and-set', () => {
  it('a cancel that lands while the approval freezes its audio wins; the schedule never airs', async () => {
    const { programmeId } = await programme(editor, 'Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi.');
    const s = await draft(editor, programmeId, 'thon-1', Date.now() + 2 * 3600_000);
    expect((await editor('POST', `/api/v1/schedules/${s.id}/submit`)).status).toBe(200);
    const { schedules, programmes } = server.services.scheduling;
    const reviewed = (await schedules.get(PROVINCE, s.id)).reviewRevision;

    // The approval reads the schedule, then freezes its audio (the programme's assets are read
    // then); the cancel lands in that wait. Inside it, not beside it: a warm machine froze the
    // audio before a cancel started alongside got its turn (the approval won, seen in CI).
    const assetsOf = programmes.assetsOf.bind(programmes);
    vi.spyOn(programmes, 'assetsOf').mockImplementationOnce(async (...args) => {
      await schedules.cancel(PROVINCE, s.id, ADMIN);
      return assetsOf(...args);
    });
    await expect(schedules.approve(PROVINCE, s.id, ADMIN, reviewed)).rejects.toMatchObject({
      status: 409,
      field: 'revision',
    });

    expect((await schedules.get(PROVINCE, s.id)).status).toBe('cancelled');
    const occurrences = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM occurrences WHERE schedule_id = ${s.id}`,
    );
    expect(Number(occurrences!.n)).toBe(0);
  });

  it('a programme changed while a publisher’s edit freezes its audio refuses the edit (409)', async () => {
    const { programmeId, contentId } = await programme(server.api, 'Thông báo thu thuế phi nông nghiệp.');
    const s = await draft(server.api, programmeId, 'thon-2', Date.now() + 3 * 3600_000);
    expect((await server.api<Schedule>('POST', `/api/v1/schedules/${s.id}/submit`)).body.status).toBe('approved');
    const { schedules, programmes } = server.services.scheduling;
    const current = await schedules.get(PROVINCE, s.id);
    // Someone reorders the programme while the edit waits for its audio (its assets are read then).
    const assetsOf = programmes.assetsOf.bind(programmes);
    vi.spyOn(programmes, 'assetsOf').mockImplementationOnce(async (...args) => {
      await programmes.update(PROVINCE, programmeId, {
        title: 'Chương trình mới',
        items: [{ contentId }, { contentId }],
      });
      return assetsOf(...args);
    });
    const editing = schedules.update(
      PROVINCE,
      s.id,
      {
        title: 'Lịch đổi tên',
        programmeId,
        rule: onceAt(Date.now() + 4 * 3600_000),
        zones: ['thon-2'],
        onConflict: 'priority',
        revision: current.revision,
      },
      ADMIN,
    );
    await expect(editing).rejects.toMatchObject({ status: 409 });
    expect((await schedules.get(PROVINCE, s.id)).title).toBe(current.title);
  });

  it('an edit made from a stale copy answers 409 with the schedule as it is now', async () => {
    const { programmeId } = await programme(editor, 'Thông báo họp tổ dân phố.');
    const s = await draft(editor, programmeId, 'thon-1', Date.now() + 5 * 3600_000);
    const body = { title: 'Lần một', programmeId, rule: onceAt(Date.now() + 5 * 3600_000), zones: ['thon-1'] };
    expect((await editor('PUT', `/api/v1/schedules/${s.id}`, { ...body, revision: s.revision })).status).toBe(200);
    const stale = await editor<ErrorBody>('PUT', `/api/v1/schedules/${s.id}`, {
      ...body,
      title: 'Lần hai',
      revision: s.revision,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.field).toBe('revision');
    expect(stale.body.current).toMatchObject({ id: s.id, title: 'Lần một', revision: s.revision + 1 });
  });
});

describe('approval binds to what was reviewed', () => {
  it('refuses an approval of a version that changed since, and sends edited approved schedules back', async () => {
    const { programmeId, contentId } = await programme(editor, 'Mời bà con đi bầu cử vào chủ nhật.');
    const s = await draft(editor, programmeId, 'thon-1', Date.now() + 6 * 3600_000);
    expect((await editor('POST', `/api/v1/schedules/${s.id}/submit`)).status).toBe(200);
    const queue = await approver<Schedule[]>('GET', '/api/v1/approvals');
    const seen = queue.body.find((q) => q.id === s.id)!.reviewRevision;

    // The editor changes the notice's text after the leader opened the queue.
    const content = await editor<{ revision: number }>('GET', `/api/v1/content/${contentId}`);
    const changed = await editor('PUT', `/api/v1/content/${contentId}`, {
      kind: 'notice',
      title: 'Thông báo',
      text: 'Mời bà con đi bầu cử vào thứ bảy.',
      revision: content.body.revision,
    });
    expect(changed.status).toBe(200);
    const refused = await approver<ErrorBody>('POST', `/api/v1/schedules/${s.id}/approve`, { revision: seen });
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe('revision');
    expect(refused.body.current?.reviewRevision).not.toBe(seen);
    expect(refused.body.current?.status).toBe('submitted');
    const noRevision = await approver<ErrorBody>('POST', `/api/v1/schedules/${s.id}/approve`, {});
    expect(noRevision.status).toBe(400);

    // Approving what is there now works, and airs that.
    const fresh = refused.body.current!.reviewRevision;
    expect((await approver<Schedule>('POST', `/api/v1/schedules/${s.id}/approve`, { revision: fresh })).status).toBe(
      200,
    );
    const occurrence = async () =>
      (await row<{ id: string; assets: string }>(
        server,
        sql`SELECT id, assets FROM occurrences WHERE schedule_id = ${s.id}`,
      ))!;
    const aired = (await occurrence()).assets;
    expect(await planned('loa-on')).toContain((await occurrence()).id);

    // An editor's later change does not reach the air: back to the queue (audited), the approved version airs.
    const again = await editor<{ revision: number }>('GET', `/api/v1/content/${contentId}`);
    expect(
      (
        await editor('PUT', `/api/v1/content/${contentId}`, {
          kind: 'notice',
          title: 'Thông báo',
          text: 'Mời bà con đi bầu cử sớm vào thứ bảy.',
          revision: again.body.revision,
        })
      ).status,
    ).toBe(200);
    const back = await approver<Schedule>('GET', `/api/v1/schedules/${s.id}`);
    expect(back.body).toMatchObject({ status: 'approved', programmeChanged: true });
    expect((await occurrence()).assets).toBe(aired);
    expect((await approver<Schedule[]>('GET', '/api/v1/approvals')).body.map((q) => q.id)).toContain(s.id);
    const audit = await rows<{ action: string }>(
      server,
      sql`SELECT action FROM audit_log WHERE target = ${s.id} ORDER BY id`,
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['schedule.changed_in_review', 'schedule.back_to_approval']),
    );

    // A content change from a stale copy is refused with the item as it is now.
    const stale = await editor<{ field: string; current: { revision: number } }>(
      'PUT',
      `/api/v1/content/${contentId}`,
      {
        kind: 'notice',
        title: 'Thông báo',
        text: 'Bản cũ.',
        revision: again.body.revision,
      },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.current.revision).toBe(again.body.revision + 1);
  });

  it('a content change racing its delete answers 404, not 500', async () => {
    const notice = await editor<{ id: string }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: 'Sắp xoá',
      text: 'Thông báo sẽ bị xoá trong lúc sửa.',
    });
    const { content } = server.services.scheduling;
    const updating = content.update(PROVINCE, notice.body.id, {
      kind: 'notice',
      title: 'Sửa',
      text: 'Một câu khác hẳn, để máy phải đọc lại từ đầu.',
    });
    const removing = content.remove(PROVINCE, notice.body.id); // lands while the new text renders
    await expect(updating).rejects.toMatchObject({ status: 404 });
    await removing;
    expect((await editor('GET', `/api/v1/content/${notice.body.id}`)).status).toBe(404);
  });
});

describe('a stop sticks', () => {
  it('leaves every plan — an offline loudspeaker’s retained plan and one added to the zone later included', async () => {
    const { programmeId } = await programme(server.api, 'Thông báo cắt điện để sửa đường dây.');
    const s = await draft(server.api, programmeId, 'thon-1', Date.now() + 3600_000);
    expect((await server.api<Schedule>('POST', `/api/v1/schedules/${s.id}/submit`)).body.status).toBe('approved');
    const { id: occurrenceId } = (await row<{ id: string }>(
      server,
      sql`SELECT id FROM occurrences WHERE schedule_id = ${s.id}`,
    ))!;
    expect((await retainedPlan('loa-off')).items.map((i) => i.occurrenceId)).toContain(occurrenceId);

    const stopped = await server.api<{ devices: string[] }>('POST', `/api/v1/occurrences/${occurrenceId}/stop`);
    expect(stopped.status).toBe(202);
    expect(stopped.body.devices.sort()).toEqual(['loa-off', 'loa-on']);
    const twice = await server.api<ErrorBody>('POST', `/api/v1/occurrences/${occurrenceId}/stop`);
    expect(twice.status).toBe(409);
    expect(twice.body.message).toMatch(/already stopped by admin/);

    // The loudspeaker that was offline finds a plan without it when it comes back.
    expect((await retainedPlan('loa-off')).items.map((i) => i.occurrenceId)).not.toContain(occurrenceId);
    expect(await planned('loa-on')).not.toContain(occurrenceId);
    // A loudspeaker added to the village afterwards never gets it, nor does a roll-forward bring it back.
    expect((await server.api('PUT', '/api/v1/devices/loa-later/zones', { zones: ['thon-1'] })).status).toBe(200);
    await server.services.scheduling.rollForward();
    expect(await planned('loa-later')).not.toContain(occurrenceId);
    expect((await retainedPlan('loa-later')).items.map((i) => i.occurrenceId)).not.toContain(occurrenceId);
    expect(await planned('loa-on')).not.toContain(occurrenceId);

    // The deliveries say so.
    const recent = await server.api<{ id: string; stoppedAt: string | null; stoppedBy: string | null }[]>(
      'GET',
      `/api/v1/occurrences?from=${new Date(Date.now() - DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}`,
    );
    expect(recent.status).toBe(200);
    expect(recent.body.find((o) => o.id === occurrenceId)).toMatchObject({ stoppedBy: 'admin' });
    expect(recent.body.find((o) => o.id === occurrenceId)?.stoppedAt).toEqual(expect.any(String));
    const detail = await server.api<{ stoppedAt: string | null }>('GET', `/api/v1/occurrences/${occurrenceId}`);
    expect(detail.body.stoppedAt).toEqual(expect.any(String));
    expect((await server.api('PUT', '/api/v1/devices/loa-later/zones', { zones: ['thon-2'] })).status).toBe(200);
  });
});

describe('one horizon, rolled forward', () => {
  it('a broadcast and a once-only schedule beyond the horizon reach the plan as the clock moves', async () => {
    const horizon = server.services.config.horizonDays * DAY;
    const at = Date.now() + horizon + DAY; // a day beyond the horizon
    const broadcast = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo lịch nghỉ lễ.',
      zones: ['thon-2'],
      at: new Date(at).toISOString(),
    });
    expect(broadcast.status).toBe(201);
    const { programmeId } = await programme(server.api, 'Thông báo khám sức khoẻ định kỳ.');
    const s = await draft(server.api, programmeId, 'thon-2', at + 3600_000);
    expect((await server.api<Schedule>('POST', `/api/v1/schedules/${s.id}/submit`)).body.status).toBe('approved');
    const scheduledId = async () =>
      (await row<{ id: string }>(server, sql`SELECT id FROM occurrences WHERE schedule_id = ${s.id}`))?.id;
    expect(await scheduledId()).toBeUndefined(); // beyond the horizon: not materialised yet
    expect((await retainedPlan('loa-far')).items.map((i) => i.occurrenceId)).not.toContain(broadcast.body.occurrenceId);

    shift = 2 * DAY + 3600_000; // both are now inside the horizon
    await server.services.scheduling.rollForward();
    const plan = (await retainedPlan('loa-far')).items.map((i) => i.occurrenceId);
    expect(plan).toContain(broadcast.body.occurrenceId);
    expect(await scheduledId()).toBeDefined();
    expect(plan).toContain(await scheduledId());
    shift = 0;
  });
});

describe('a plan longer than one message carries', () => {
  it('sends the earliest items and counts the rest in a metric', async () => {
    const { registry, metrics } = server.services;
    await registry.createZone('Thôn Đông Đúc', 'default', 'thon-dong-duc');
    await registry.createDevice({ communeId: 'default', id: 'loa-busy', zones: ['thon-dong-duc'] });
    const { sha256 } = (await row<{ sha256: string }>(server, sql`SELECT sha256 FROM media ORDER BY sha256 LIMIT 1`))!;
    const extra = 7;
    const first = Date.now() + 3600_000;
    const ids = Array.from({ length: MAX_PLAN_ITEMS + extra }, (_, i) => `occ-busy-${i}`);
    const now = Date.now();
    const occurrences = ids.map(
      (id, i) => sql`(${id}, 'Bận', 'normal', ${first + i * 60_000}, 1000, ${sha256}, ${now})`,
    );
    const deliveries = ids.map((id) => sql`(${id}, 'loa-busy')`);
    await server.services.sql.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO occurrences (id, title, priority, start_at, duration_ms, sha256, created_at)
                VALUES ${sql.join(occurrences)}`.execute(tx);
      await sql`INSERT INTO deliveries (occurrence_id, device_id) VALUES ${sql.join(deliveries)}`.execute(tx);
    });
    const before = (await metrics.planItemsLeftOut.get()).values[0]?.value ?? 0;
    const plan = await server.services.planner.planForDevice('loa-busy');
    expect(plan.items).toHaveLength(MAX_PLAN_ITEMS);
    expect(plan.items[0]!.occurrenceId).toBe('occ-busy-0');
    expect((await metrics.planItemsLeftOut.get()).values[0]?.value).toBe(before + extra);
  });
});

describe('a schedule that would never play', () => {
  it('is refused at save, and at approval once its time has passed', async () => {
    const { programmeId } = await programme(editor, 'Thông báo đã qua.');
    const past = await editor<ErrorBody>('POST', '/api/v1/schedules', {
      title: 'Năm 2020',
      programmeId,
      rule: { kind: 'once', startDate: '2020-01-01', times: ['07:00'] },
      zones: ['thon-1'],
    });
    expect(past.status).toBe(400);
    expect(past.body.field).toBe('rule');
    expect(past.body.message).toMatch(/already past/);
    const earlierToday = await editor<ErrorBody>('POST', '/api/v1/schedules', {
      title: 'Sáng nay',
      programmeId,
      rule: onceAt(Date.now() - 60_000),
      zones: ['thon-1'],
    });
    expect(earlierToday.status).toBe(400);
    const ended = await editor<ErrorBody>('POST', '/api/v1/schedules', {
      title: 'Hằng ngày năm ngoái',
      programmeId,
      rule: { kind: 'daily', startDate: '2024-01-01', endDate: '2024-12-31', times: ['07:00'] },
      zones: ['thon-1'],
    });
    expect(ended.status).toBe(400);

    // Saved in time, submitted, and its time passes before the leader gets to it.
    const s = await draft(editor, programmeId, 'thon-1', Date.now() + 3600_000);
    expect((await editor('POST', `/api/v1/schedules/${s.id}/submit`)).status).toBe(200);
    const { reviewRevision } = (await approver<Schedule>('GET', `/api/v1/schedules/${s.id}`)).body;
    shift = 2 * 3600_000;
    try {
      const late = await approver<ErrorBody>('POST', `/api/v1/schedules/${s.id}/approve`, {
        revision: reviewRevision,
      });
      expect(late.status).toBe(409);
      expect(late.body.field).toBe('rule');
      expect(late.body.message).toMatch(/never play/);
    } finally {
      shift = 0;
    }
  });
});
