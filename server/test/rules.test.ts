/**
 * A commune's broadcast rules (issue 20): quiet hours, the longest session,
 * sessions a day and a volume ceiling by time of day — the pure check, then
 * through the real API: a normal schedule at 03:15 is refused naming the quiet
 * hours, the same emergency is accepted, a leader's override of one play is
 * audited with its reason, and the volume ceiling lands in the plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { checkRules, NO_RULES, volumeCeiling, type BroadcastRules } from '../src/rules/broadcast-rules';
import { row, rows, signIn, signInProvince, sql, startTestServer, type TestServer } from './helpers';

const VN = 'Asia/Ho_Chi_Minh';
const QUIET: BroadcastRules = { ...NO_RULES, quietHours: { start: '21:30', end: '05:30' } };
/** Tomorrow at `hhmm` in the commune's time zone. */
const tomorrowAt = (hhmm: string) =>
  DateTime.now()
    .setZone(VN)
    .plus({ days: 1 })
    .set({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3)), second: 0, millisecond: 0 });
const play = (hhmm: string, minutes = 5) => ({ startAt: tomorrowAt(hhmm).toMillis(), durationMs: minutes * 60_000 });

describe('checkRules', () => {
  it.each([
    ['03:15', 5, true],
    ['23:00', 5, true],
    ['21:00', 40, true], // starts before, runs into them
    ['21:00', 20, false],
    ['05:30', 5, false],
    ['12:00', 60, false],
    ['05:00', 10, true],
  ])('quiet hours 21:30–05:30: a play at %s for %i min breaks them: %s', (at, minutes, breaks) => {
    const found = checkRules(QUIET, [play(at, minutes)], VN);
    expect(found.map((b) => b.rule)).toEqual(breaks ? ['quietHours'] : []);
    if (breaks) expect(found[0]!.message).toContain(`giờ yên tĩnh 21:30–05:30: buổi phát lúc ${at}`);
  });

  it('a window that does not cross midnight, the longest session and sessions a day', () => {
    const lunch: BroadcastRules = { ...NO_RULES, quietHours: { start: '11:30', end: '13:30' } };
    expect(checkRules(lunch, [play('12:00')], VN)).toHaveLength(1);
    expect(checkRules(lunch, [play('23:00')], VN)).toEqual([]);
    const limits: BroadcastRules = { ...NO_RULES, maxSessionMinutes: 30, maxSessionsPerDay: 2 };
    expect(checkRules(limits, [play('08:00', 31)], VN).map((b) => b.rule)).toEqual(['maxSessionMinutes']);
    const day = tomorrowAt('00:00').toFormat('yyyy-MM-dd');
    const three = checkRules(limits, [play('08:00'), play('10:00')], VN, (d) => (d === day ? 1 : 0));
    expect(three.map((b) => [b.rule, b.startAt])).toEqual([['maxSessionsPerDay', play('10:00').startAt]]);
  });

  it('lowers the volume only inside its window', () => {
    const morning: BroadcastRules = { ...NO_RULES, volumeByTime: [{ from: '05:30', to: '06:30', volume: 70 }] };
    expect(volumeCeiling(morning, play('06:00').startAt, VN)).toBe(70);
    expect(volumeCeiling(morning, play('06:30').startAt, VN)).toBeNull();
    expect(volumeCeiling(NO_RULES, play('06:00').startAt, VN)).toBeNull();
  });
});

describe('the rules through the API', () => {
  let server: TestServer;
  let programmeId: string;
  const audited = async (action: string) =>
    (
      await rows<{ target: string; detail: string }>(
        server,
        sql`SELECT target, detail FROM audit_log WHERE action = ${action} ORDER BY id`,
      )
    ).map((r) => ({ target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  const once = (hhmm: string) => ({
    kind: 'once',
    startDate: tomorrowAt(hhmm).toISODate(),
    times: [`${hhmm}:00`],
  });

  beforeAll(async () => {
    // The install's default quiet hours, as production has them (the test helper turns them off).
    server = await startTestServer({ LOAXA_QUIET_HOURS: '21:30-05:30' });
    expect((await server.api('POST', '/api/v1/zones', { name: 'Thôn Yên' })).status).toBe(201);
    await server.services.registry.createDevice({
      id: 'loa-yen',
      name: 'Loa',
      zones: ['thon-yen'],
      communeId: 'default',
    });
    const notice = await server.api<{ id: string }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: 'Tiếp sóng',
      text: 'Tiếp sóng đài tỉnh.',
    });
    programmeId = (
      await server.api<{ id: string }>('POST', '/api/v1/programmes', {
        title: 'Tiếp sóng',
        items: [{ contentId: notice.body.id }],
      })
    ).body.id;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('refuses a normal schedule at 03:15 naming the quiet hours, and accepts the same as an emergency', async () => {
    const body = { title: 'Phát đêm', programmeId, rule: once('03:15'), zones: ['thon-yen'] };
    const refused = await server.api<{ field: string; message: string; ruleBreaks: { rule: string }[] }>(
      'POST',
      '/api/v1/schedules',
      body,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe('rules');
    expect(refused.body.message).toMatch(/^giờ yên tĩnh 21:30–05:30: buổi phát lúc 03:15 /);
    expect(refused.body.ruleBreaks.map((b) => b.rule)).toEqual(['quietHours']);
    // The calendar's preview shows the break beside the overlaps, before saving.
    const preview = await server.api<{ total: number; ruleBreaks: { rule: string; message: string }[] }>(
      'POST',
      '/api/v1/schedules/conflicts',
      body,
    );
    expect(preview.status).toBe(200);
    expect(preview.body.ruleBreaks.map((b) => b.rule)).toEqual(['quietHours']);
    expect(preview.body.ruleBreaks[0]!.message).toBe(refused.body.message.split('; ')[0]);
    const emergency = await server.api<{ status: string }>('POST', '/api/v1/schedules', {
      ...body,
      priority: 'emergency',
    });
    expect(emergency.status).toBe(201);
    const emergencyPreview = await server.api<{ ruleBreaks: unknown[] }>('POST', '/api/v1/schedules/conflicts', {
      ...body,
      priority: 'emergency',
    });
    expect(emergencyPreview.body.ruleBreaks).toEqual([]);
    // A daily one at 22:00 cannot be let through by an override: it would break them every night.
    const daily = await server.api<{ message: string }>('POST', '/api/v1/schedules', {
      ...body,
      rule: { kind: 'daily', startDate: tomorrowAt('00:00').toISODate(), times: ['22:00'] },
      overrideRules: { reason: 'Bầu cử: phát kết quả kiểm phiếu' },
    });
    expect(daily.status).toBe(409);
    expect(daily.body.message).toContain('an override lets one play through');
  });

  it('lets a leader override one play with a written reason, audited; an editor may not', async () => {
    const user = { username: 'bientap', password: 'bientap-mat-khau-1', role: 'editor' };
    expect((await server.api('POST', '/api/v1/users', user)).status).toBe(201);
    const editor = await signIn(server, user.username, user.password);
    const body = {
      title: 'Kết quả bầu cử',
      programmeId,
      rule: once('22:15'),
      zones: ['thon-yen'],
      overrideRules: { reason: 'Công bố kết quả bầu cử ngay trong đêm' },
    };
    expect((await editor('POST', '/api/v1/schedules', body)).status).toBe(403);
    const created = await server.api<{ id: string }>('POST', '/api/v1/schedules', body);
    expect(created.status).toBe(201);
    const entry = (await audited('rules.override')).find((e) => e.target === created.body.id)!;
    expect(entry.detail.reason).toBe('Công bố kết quả bầu cử ngay trong đêm');
    expect(entry.detail.breaks).toEqual([{ rule: 'quietHours', startAt: tomorrowAt('22:15').toUTC().toISO() }]);

    const at = tomorrowAt('04:45').toUTC().toISO();
    const broadcast = { text: 'Thông báo sơ tán sớm.', zones: ['thon-yen'], at };
    expect((await server.api('POST', '/api/v1/broadcasts', broadcast)).status).toBe(409);
    const overridden = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      ...broadcast,
      overrideRules: { reason: 'Lũ về sớm, cần báo trước giờ dậy' },
    });
    expect(overridden.status).toBe(201);
    expect(
      (await audited('rules.override')).find((e) => e.target === overridden.body.occurrenceId)?.detail.reason,
    ).toBe('Lũ về sớm, cần báo trước giờ dậy');
    // The week view shows the break beside the play, and who let it through and why.
    const from = tomorrowAt('00:00').toUTC().toISO()!;
    const to = tomorrowAt('00:00').plus({ days: 1 }).toUTC().toISO()!;
    const week = await server.api<
      {
        occurrenceId: string;
        ruleBreaks: { rule: string; message: string }[];
        ruleOverride: { reason: string; by: string } | null;
      }[]
    >('GET', `/api/v1/calendar?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(week.status).toBe(200);
    const shown = week.body.find((e) => e.occurrenceId === overridden.body.occurrenceId)!;
    expect(shown.ruleBreaks.map((b) => b.rule)).toEqual(['quietHours']);
    expect(shown.ruleBreaks[0]!.message).toMatch(/^giờ yên tĩnh 21:30–05:30: buổi phát lúc 04:45 /);
    expect(shown.ruleOverride).toEqual({ reason: 'Lũ về sớm, cần báo trước giờ dậy', by: 'admin' });
    // The emergency at 03:15 breaks nothing: emergencies are never held to the rules.
    const emergencies = week.body.filter((e) => e.occurrenceId !== overridden.body.occurrenceId);
    expect(emergencies.every((e) => e.ruleBreaks.length === 0 || e.ruleOverride !== null)).toBe(true);
  });

  it('refuses placing a province bulletin in the quiet hours, and leaves it in the inbox', async () => {
    const province = await signInProvince(server);
    const sent = await province<{ id: string }>('POST', '/api/v1/bulletins', {
      text: 'Bản tin của tỉnh về phòng chống rét đậm cho gia súc.',
      priority: 'normal',
      communes: ['default'],
    });
    expect(sent.status).toBe(201);
    const mine = await server.api<{ communes: { communeId: string; revision: number; status: string }[] }>(
      'GET',
      `/api/v1/bulletins/${sent.body.id}`,
    );
    const row = mine.body.communes.find((c) => c.communeId === 'default')!;
    const place = (hhmm: string) =>
      server.api<{ field: string; message: string }>('POST', `/api/v1/bulletins/${sent.body.id}/place`, {
        at: tomorrowAt(hhmm).toUTC().toISO(),
        zones: ['thon-yen'],
        revision: row.revision,
      });
    const refused = await place('23:30');
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe('rules');
    expect(refused.body.message).toContain('giờ yên tĩnh 21:30–05:30: buổi phát lúc 23:30');
    const after = await server.api<{ communes: { communeId: string; status: string }[] }>(
      'GET',
      `/api/v1/bulletins/${sent.body.id}`,
    );
    expect(after.body.communes.find((c) => c.communeId === 'default')!.status).toBe('received');
    expect((await place('19:00')).status).toBe(200);
  });

  it('applies a commune’s own rules: no quiet hours, a morning volume ceiling, sessions a day', async () => {
    const rules = {
      quietHours: null,
      maxSessionsPerDay: 4,
      volumeByTime: [{ from: '05:30', to: '06:30', volume: 70 }],
    };
    expect((await server.api('PUT', '/api/v1/settings', { rules })).status).toBe(200);
    const night = await server.api('POST', '/api/v1/schedules', {
      title: 'Đêm',
      programmeId,
      rule: once('02:00'),
      zones: ['thon-yen'],
    });
    expect(night.status).toBe(201);

    const early = await server.api<{ id: string; status: string }>('POST', '/api/v1/schedules', {
      title: 'Sáng sớm',
      programmeId,
      rule: once('06:00'),
      zones: ['thon-yen'],
      volume: 90,
    });
    expect(early.status).toBe(201);
    expect(
      (await server.api<{ status: string }>('POST', `/api/v1/schedules/${early.body.id}/submit`)).body.status,
    ).toBe('approved');
    const volume = await row(
      server,
      sql`SELECT volume FROM occurrences WHERE schedule_id = ${early.body.id} ORDER BY start_at, id LIMIT 1`,
    );
    expect(volume).toEqual({ volume: 70 });

    // Tomorrow already has three normal plays: the 04:45 broadcast, the bulletin placed at 19:00 and
    // the 06:00 schedule (the 03:15 one is an emergency, the others are drafts). A fourth fits, a fifth not.
    const send = (hhmm: string) =>
      server.api<{ message: string; ruleBreaks?: { rule: string }[] }>('POST', '/api/v1/broadcasts', {
        text: `Thông báo lúc ${hhmm}.`,
        zones: ['thon-yen'],
        at: tomorrowAt(hhmm).toUTC().toISO(),
      });
    expect((await send('08:00')).status).toBe(201);
    const refused = await send('09:00');
    expect(refused.status).toBe(409);
    expect(refused.body.ruleBreaks?.map((b) => b.rule)).toEqual(['maxSessionsPerDay']);
    expect(refused.body.message).toMatch(/^tối đa 4 buổi phát mỗi ngày: ngày \d\d\/\d\d\/\d{4} sẽ có 5/);
  });
});
