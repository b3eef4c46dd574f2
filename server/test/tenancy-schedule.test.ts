/**
 * Communes as tenants, for scheduling: each commune sees and changes only its
 * own content, programmes, schedules and occurrences (another commune's id
 * answers exactly like an unknown one), a programme or schedule refers only to
 * its own commune's content, programme, zones and loudspeakers, and a province
 * user sees every commune and names the one a new row belongs to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { communeWithUser, row, rows, signInProvince, sql, startTestServer, type TestServer } from './helpers';

type Api = TestServer['api'];
interface Row {
  id: string;
  communeId: string;
}
interface Schedule extends Row {
  status: string;
  reviewRevision: string;
}
interface ErrorBody {
  message: string;
  field?: string;
}

const VN = 'Asia/Ho_Chi_Minh';
const HOUR = 3600_000;
let server: TestServer;
let a: { id: string; api: Api };
let b: { id: string; api: Api };
let province: Api;
/** Commune B's rows, which commune A must not see or touch. */
const theirs = { content: '', programme: '', schedule: '', occurrence: '' };
const ours = { content: '', programme: '' };

function onceAt(ms: number) {
  const t = DateTime.fromMillis(ms).setZone(VN);
  return { kind: 'once' as const, startDate: t.toISODate()!, times: [t.toFormat('HH:mm:ss')] };
}

/** A silence item and a programme of it, in the caller's commune (or `commune`). */
async function programme(api: Api, title: string, commune?: string): Promise<{ content: Row; programme: Row }> {
  const content = await api<Row>('POST', '/api/v1/content', {
    kind: 'silence',
    title,
    durationMs: 1500,
    ...(commune ? { commune } : {}),
  });
  expect(content.status).toBe(201);
  const p = await api<Row>('POST', '/api/v1/programmes', {
    title,
    items: [{ contentId: content.body.id }],
    ...(commune ? { commune } : {}),
  });
  expect(p.status).toBe(201);
  return { content: content.body, programme: p.body };
}

const scheduleBody = (programmeId: string, target: { zones?: string[]; devices?: string[] }, hours = 2) => ({
  title: `Lịch ${programmeId}`,
  programmeId,
  rule: onceAt(Date.now() + hours * HOUR),
  onConflict: 'priority',
  ...target,
});

/** The message for an unknown id, with the id taken out (to compare with another commune's). */
const unknownMessage = async (api: Api, method: string, url: string, id: string, body?: unknown) => {
  const res = await api<ErrorBody>(method, url.replace(':id', id), body);
  return { status: res.status, field: res.body?.field, message: res.body?.message.replace(id, '<id>') };
};

beforeAll(async () => {
  server = await startTestServer();
  a = await communeWithUser(server, 'Xã An Phú', 'admin');
  b = await communeWithUser(server, 'Xã Bình Minh', 'admin');
  province = await signInProvince(server);
  const { registry } = server.services;
  await registry.createZone('Thôn Một', a.id, 'a-thon-1');
  await registry.createZone('Thôn Một', b.id, 'b-thon-1');
  await registry.createDevice({ communeId: a.id, id: 'loa-a', zones: ['a-thon-1'] });
  await registry.createDevice({ communeId: b.id, id: 'loa-b', zones: ['b-thon-1'] });

  const mine = await programme(a.api, 'Thông báo của xã An Phú');
  ours.content = mine.content.id;
  ours.programme = mine.programme.id;
  const other = await programme(b.api, 'Thông báo của xã Bình Minh');
  theirs.content = other.content.id;
  theirs.programme = other.programme.id;
  const s = await b.api<Schedule>('POST', '/api/v1/schedules', scheduleBody(theirs.programme, { zones: ['b-thon-1'] }));
  expect(s.status).toBe(201);
  theirs.schedule = s.body.id;
  // B's admin publishes: approved at once, its occurrence materialised.
  expect((await b.api<Schedule>('POST', `/api/v1/schedules/${s.body.id}/submit`)).body.status).toBe('approved');
  const occurrence = (await row<{ id: string; commune_id: string }>(
    server,
    sql`SELECT id, commune_id FROM occurrences WHERE schedule_id = ${s.body.id} ORDER BY start_at, id LIMIT 1`,
  ))!;
  expect(occurrence.commune_id).toBe(b.id);
  theirs.occurrence = occurrence.id;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('lists show only the commune’s own rows', () => {
  it('content, programmes, schedules, the approval queue and the calendar', async () => {
    const mine = await a.api<Schedule>(
      'POST',
      '/api/v1/schedules',
      scheduleBody(ours.programme, { devices: ['loa-a'] }),
    );
    expect(mine.status).toBe(201);
    expect(mine.body.communeId).toBe(a.id);
    expect((await a.api<Schedule>('POST', `/api/v1/schedules/${mine.body.id}/submit`)).body.status).toBe('approved');

    const from = new Date(Date.now() - HOUR).toISOString();
    const to = new Date(Date.now() + 24 * HOUR).toISOString();
    for (const [api, own, other] of [
      [a.api, a.id, b.id],
      [b.api, b.id, a.id],
    ] as const) {
      for (const url of [
        '/api/v1/content',
        '/api/v1/programmes',
        '/api/v1/schedules',
        `/api/v1/calendar?from=${from}&to=${to}`,
      ]) {
        const { status, body } = await api<Row[]>('GET', url);
        expect(status).toBe(200);
        expect(body.length, url).toBeGreaterThan(0);
        expect(new Set(body.map((r) => r.communeId)), url).toEqual(new Set([own]));
      }
      // Naming another commune in a list's filter is answered as an unknown commune.
      const filtered = await api<ErrorBody>('GET', `/api/v1/schedules?commune=${other}`);
      expect(filtered.status).toBe(404);
      expect(filtered.body.field).toBe('commune');
      expect((await api<Row[]>('GET', `/api/v1/schedules?commune=${own}`)).body.length).toBeGreaterThan(0);
    }
    const calendar = await a.api<{ occurrenceId: string }[]>('GET', `/api/v1/calendar?from=${from}&to=${to}`);
    expect(calendar.body.map((o) => o.occurrenceId)).not.toContain(theirs.occurrence);
  });

  it('the approval queue holds only the commune’s submissions', async () => {
    const editor = await communeWithUser(server, 'Xã Cát Tiên', 'editor');
    const { programme: p } = await programme(editor.api, 'Bản tin chờ duyệt');
    const zone = await server.services.registry.createZone('Thôn Hai', editor.id, 'c-thon-2');
    const s = await editor.api<Schedule>('POST', '/api/v1/schedules', scheduleBody(p.id, { zones: [zone.id] }));
    expect((await editor.api<Schedule>('POST', `/api/v1/schedules/${s.body.id}/submit`)).body.status).toBe('submitted');
    expect((await a.api<Row[]>('GET', '/api/v1/approvals')).body.map((q) => q.id)).not.toContain(s.body.id);
    expect((await province<Row[]>('GET', '/api/v1/approvals')).body.map((q) => q.id)).toContain(s.body.id);
    // Another commune's admin cannot approve it, nor reject it.
    const approve = await a.api<ErrorBody>('POST', `/api/v1/schedules/${s.body.id}/approve`, {
      revision: s.body.reviewRevision,
    });
    expect(approve.status).toBe(404);
    expect((await a.api('POST', `/api/v1/schedules/${s.body.id}/reject`, { reason: 'không' })).status).toBe(404);
    expect((await province<Schedule>('GET', `/api/v1/schedules/${s.body.id}`)).body.status).toBe('submitted');
  });
});

describe('another commune’s id answers exactly like an unknown one', () => {
  it.each([
    ['GET', '/api/v1/content/:id', 'content', undefined],
    ['DELETE', '/api/v1/content/:id', 'content', undefined],
    ['PUT', '/api/v1/content/:id', 'content', { kind: 'silence', title: 'Đổi', durationMs: 1000 }],
    ['GET', '/api/v1/programmes/:id', 'programme', undefined],
    ['DELETE', '/api/v1/programmes/:id', 'programme', undefined],
    ['PUT', '/api/v1/programmes/:id', 'programme', { title: 'Đổi', items: [{ contentId: 'x' }] }],
    ['GET', '/api/v1/schedules/:id', 'schedule', undefined],
    ['POST', '/api/v1/schedules/:id/submit', 'schedule', undefined],
    ['POST', '/api/v1/schedules/:id/approve', 'schedule', { revision: 'r' }],
    ['POST', '/api/v1/schedules/:id/reject', 'schedule', { reason: 'không' }],
    ['POST', '/api/v1/schedules/:id/cancel', 'schedule', undefined],
    ['DELETE', '/api/v1/occurrences/:id', 'occurrence', undefined],
    ['POST', '/api/v1/occurrences/:id/stop', 'occurrence', undefined],
  ] as const)('%s %s', async (method, url, kind, body) => {
    const id = theirs[kind];
    const unknown = await unknownMessage(a.api, method, url, `${kind}-khong-co`, body);
    const foreign = await unknownMessage(a.api, method, url, id, body);
    expect(foreign.status).toBe(404);
    expect(foreign).toEqual(unknown);
  });

  it('a schedule change naming another commune’s schedule is refused, and nothing of B’s changed', async () => {
    const put = await a.api(
      'PUT',
      `/api/v1/schedules/${theirs.schedule}`,
      scheduleBody(ours.programme, { zones: ['a-thon-1'] }),
    );
    expect(put.status).toBe(404);
    const conflicts = await a.api('POST', '/api/v1/schedules/conflicts', {
      ...scheduleBody(ours.programme, { zones: ['a-thon-1'] }),
      id: theirs.schedule,
    });
    expect(conflicts.status).toBe(404);
    const s = await b.api<Schedule & { title: string }>('GET', `/api/v1/schedules/${theirs.schedule}`);
    expect(s.body).toMatchObject({ status: 'approved', title: `Lịch ${theirs.programme}` });
    const o = await row<{ cancelled_at: number | null; stopped_at: number | null }>(
      server,
      sql`SELECT cancelled_at, stopped_at FROM occurrences WHERE id = ${theirs.occurrence}`,
    );
    expect(o).toEqual({ cancelled_at: null, stopped_at: null });
    expect((await b.api('GET', `/api/v1/content/${theirs.content}`)).status).toBe(200);
    expect((await b.api('GET', `/api/v1/programmes/${theirs.programme}`)).status).toBe(200);
  });
});

describe('references stay inside one commune', () => {
  it('a programme cannot use another commune’s content', async () => {
    const res = await a.api<ErrorBody>('POST', '/api/v1/programmes', {
      title: 'Mượn',
      items: [{ contentId: ours.content }, { contentId: theirs.content }],
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('items.1.contentId');
    const unknown = await a.api<ErrorBody>('POST', '/api/v1/programmes', {
      title: 'Mượn',
      items: [{ contentId: ours.content }, { contentId: 'ct-khong-co' }],
    });
    expect(res.body.message.replace(theirs.content, '<id>')).toBe(unknown.body.message.replace('ct-khong-co', '<id>'));
    const update = await a.api<ErrorBody>('PUT', `/api/v1/programmes/${ours.programme}`, {
      title: 'Mượn',
      items: [{ contentId: theirs.content }],
    });
    expect(update.status).toBe(400);
    expect(update.body.field).toBe('items.0.contentId');
  });

  it.each([
    ['programmeId', () => scheduleBody(theirs.programme, { zones: ['a-thon-1'] })],
    ['zones', () => scheduleBody(ours.programme, { zones: ['a-thon-1', 'b-thon-1'] })],
    ['devices', () => scheduleBody(ours.programme, { devices: ['loa-b'] })],
  ] as const)('a schedule cannot use another commune’s %s', async (field, body) => {
    const created = await a.api<ErrorBody>('POST', '/api/v1/schedules', body());
    expect(created.status).toBe(400);
    expect(created.body.field).toBe(field);
    const checked = await a.api<ErrorBody>('POST', '/api/v1/schedules/conflicts', body());
    expect(checked.status).toBe(400);
    expect(checked.body.field).toBe(field);
  });

  it('a commune user creates only in their own commune', async () => {
    const res = await a.api<ErrorBody>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Sang xã khác',
      durationMs: 1000,
      commune: b.id,
    });
    expect(res.status).toBe(404);
    expect(res.body.field).toBe('commune');
    const own = await a.api<Row>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Của mình',
      durationMs: 1000,
      commune: a.id,
    });
    expect(own.status).toBe(201);
    expect(own.body.communeId).toBe(a.id);
    // A notice renders with its own commune's settings (voice, loudness, engines).
    const notice = await a.api<Row & { sha256: string }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: 'Thông báo',
      text: 'Mời bà con họp thôn tối nay.',
    });
    expect(notice.status).toBe(201);
    expect(notice.body).toMatchObject({ communeId: a.id, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe('a province user', () => {
  it('sees every commune, and filters by one', async () => {
    const all = await province<Row[]>('GET', '/api/v1/schedules');
    expect(all.body.map((s) => s.communeId)).toEqual(expect.arrayContaining([a.id, b.id]));
    const content = await province<Row[]>('GET', '/api/v1/content');
    expect(content.body.map((c) => c.id)).toEqual(expect.arrayContaining([ours.content, theirs.content]));
    const onlyB = await province<Row[]>('GET', `/api/v1/programmes?commune=${b.id}`);
    expect(onlyB.body.map((p) => p.id)).toContain(theirs.programme);
    expect(new Set(onlyB.body.map((p) => p.communeId))).toEqual(new Set([b.id]));
    expect((await province<Schedule>('GET', `/api/v1/schedules/${theirs.schedule}`)).body.communeId).toBe(b.id);
  });

  it('names the commune when creating, while there are several', async () => {
    const unnamed = await province<ErrorBody>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Của tỉnh',
      durationMs: 1000,
    });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.field).toBe('commune');
    const { content, programme: p } = await programme(province, 'Bản tin của tỉnh cho xã B', b.id);
    expect([content.communeId, p.communeId]).toEqual([b.id, b.id]);

    const noCommune = await province<ErrorBody>(
      'POST',
      '/api/v1/schedules',
      scheduleBody(p.id, { zones: ['b-thon-1'] }),
    );
    expect(noCommune.status).toBe(400);
    expect(noCommune.body.field).toBe('commune');
    // B's programme and zone, but created in A: refused as unknown there.
    const wrong = await province<ErrorBody>('POST', '/api/v1/schedules', {
      ...scheduleBody(p.id, { zones: ['b-thon-1'] }),
      commune: a.id,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('programmeId');
    const s = await province<Schedule>('POST', '/api/v1/schedules', {
      ...scheduleBody(p.id, { zones: ['b-thon-1'] }, 3),
      commune: b.id,
    });
    expect(s.status).toBe(201);
    expect(s.body.communeId).toBe(b.id);
    expect((await province<Schedule>('POST', `/api/v1/schedules/${s.body.id}/submit`)).body.status).toBe('approved');
    const occurrences = await rows<{ commune_id: string }>(
      server,
      sql`SELECT commune_id FROM occurrences WHERE schedule_id = ${s.body.id} ORDER BY start_at, id`,
    );
    expect(occurrences).toEqual([{ commune_id: b.id }]);
    // B's own admin sees it; A's does not; a change cannot move it to another commune.
    expect((await b.api('GET', `/api/v1/schedules/${s.body.id}`)).status).toBe(200);
    expect((await a.api('GET', `/api/v1/schedules/${s.body.id}`)).status).toBe(404);
    const moved = await province<ErrorBody>('PUT', `/api/v1/schedules/${s.body.id}`, {
      ...scheduleBody(p.id, { zones: ['b-thon-1'] }, 3),
      commune: a.id,
    });
    expect(moved.status).toBe(400);
    expect(moved.body.field).toBe('commune');
    expect((await province('POST', `/api/v1/schedules/${s.body.id}/cancel`)).status).toBe(200);
  });
});
