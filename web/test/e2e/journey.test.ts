/// <reference lib="dom" />
/**
 * The culture officer's whole day in a real browser, on a desktop and on a
 * 360 px phone, against the real server and simulated loudspeakers: the
 * editor writes a notice and listens to the preview, puts it in a programme,
 * schedules it a few seconds ahead and submits it; the commune leader, signed
 * in elsewhere, approves it from the queue; the loudspeakers play it at its
 * time and the leader watches the delivery matrix fill in, then downloads the
 * zone report as CSV.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsole, startRig, VIEWPORTS, type Rig, type ViewportName, requireChromium } from './rig';
import { rows as dbRows, sql } from '../../../server/test/helpers';

const hasChromium = requireChromium('journey browser test');

// `LOAXA_SCREENSHOTS=1` refreshes the README's screenshots; otherwise they go to a temp dir.
const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
const EDITOR = { username: 'van-hoa', password: 'mat-khau-can-bo-1' };
const LEADER = { username: 'chu-tich', password: 'mat-khau-lanh-dao-1' };
/** Each viewport's own zone and its two loudspeakers. */
const ZONES: Record<ViewportName, { id: string; name: string; devices: Record<string, string> }> = {
  desktop: {
    id: 'thon-dong',
    name: 'Thôn Đông',
    devices: { 'loa-01': 'Cụm loa Nhà văn hóa', 'loa-02': 'Cụm loa Chợ' },
  },
  phone: { id: 'thon-tay', name: 'Thôn Tây', devices: { 'loa-03': 'Cụm loa Trường học', 'loa-04': 'Cụm loa Bến đò' } },
};
/** How far ahead the schedule starts: room to approve it and for the loudspeakers to fetch the audio. */
const LEAD_S = 30;

/** Local date and HH:MM:SS in Ha Noi (UTC+7, no daylight saving). */
function communeClock(ms: number): { date: string; time: string } {
  const iso = new Date(ms + 7 * 3600_000).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 19) };
}

describe.skipIf(!hasChromium)('the officer’s journey in chromium', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      zones: Object.values(ZONES).map(({ id, name }) => ({ id, name })),
      devices: Object.values(ZONES).flatMap(({ id, devices }) =>
        Object.entries(devices).map(([device, name]) => ({ id: device, name, zones: [id] })),
      ),
    });
    for (const [user, role] of [
      [EDITOR, 'editor'],
      [LEADER, 'approver'],
    ] as const) {
      expect((await rig.server.api('POST', '/api/v1/users', { ...user, role })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await rig?.close();
  });

  // Both viewports at once: each waits LEAD_S for its own schedule in its own zone (the same time
  // in one zone would be a conflict the form refuses), with its own titles and sessions.
  it.concurrent.each(VIEWPORTS)(
    'notice → preview → programme → schedule → approval → on air → matrix → CSV (%s)',
    async (name, viewport) => {
      const server = rig.server;
      const editor = await openConsole(rig, name, viewport, EDITOR);
      const { page } = editor;
      const title = `Lịch tiêm phòng ${name}`;
      const zone = ZONES[name];
      const shot = (p: typeof page, file: string) =>
        p.screenshot({ path: path.join(SCREENSHOTS, `${file}-${name}.png`), fullPage: true });

      // ---- the editor writes the notice and listens to it
      await editor.go('Bản tin');
      const notice = page.getByRole('region', { name: 'Bản tin mới' });
      await notice.getByLabel('Tiêu đề').fill(title);
      await notice
        .getByLabel('Nội dung đọc')
        .fill('UBND xã thông báo: sáng thứ bảy, 7h30, tiêm phòng cho gia súc tại nhà văn hóa thôn Đông.');
      await notice.getByRole('button', { name: 'Nghe thử' }).click();
      const preview = notice.getByLabel('Nghe thử', { exact: true }).and(page.locator('audio'));
      await preview.waitFor({ timeout: 30_000 });
      const previewUrl = await preview.getAttribute('src');
      expect(previewUrl).toMatch(/^\/media\/[0-9a-f]{64}\.ogg$/);
      expect((await fetch(`${server.url}${previewUrl}`, { headers: { cookie: server.cookie } })).status).toBe(200);
      await shot(page, 'content');
      await notice.getByRole('button', { name: 'Lưu' }).click();
      await page.getByText(`Đã lưu «${title}» vào thư viện.`).waitFor({ timeout: 30_000 });

      // ---- the editor keeps the abbreviation dictionary; voices, keys and loudness are the leaders'
      await editor.go('Cài đặt');
      await page.getByRole('heading', { name: 'Từ điển viết tắt' }).waitFor();
      await page.getByText(/do quản trị viên hoặc lãnh đạo xã thay đổi/).waitFor();
      expect(await page.getByRole('heading', { name: 'Âm lượng chuẩn' }).count()).toBe(0);

      // ---- into a programme
      await editor.go('Chương trình');
      await page.getByLabel('Tên chương trình').fill(title);
      const library = page.getByLabel('Thêm từ thư viện');
      await library.selectOption((await library.locator('option', { hasText: title }).getAttribute('value'))!);
      await page.getByRole('button', { name: 'Thêm', exact: true }).click();
      await shot(page, 'programmes');
      await page.getByRole('button', { name: 'Lưu chương trình' }).click();
      await page.getByText(`Đã lưu chương trình «${title}».`).waitFor();

      // ---- scheduled a little ahead, checked for conflicts, submitted for approval
      await editor.go('Lịch phát');
      const start = Date.now() + LEAD_S * 1000;
      const at = communeClock(start);
      await page.getByLabel('Tên lịch').fill(title);
      const programme = page.getByLabel('Chương trình', { exact: true });
      const programmeValue = await programme.locator('option', { hasText: title }).getAttribute('value');
      await programme.selectOption(programmeValue!);
      await page.getByLabel('Kiểu lặp').selectOption('once');
      await page.getByLabel('Ngày phát').fill(at.date);
      await page.getByLabel('Giờ phát').fill(at.time);
      await page.getByRole('group', { name: 'Khu vực' }).getByRole('checkbox', { name: zone.name }).check();
      await page.getByRole('button', { name: 'Kiểm tra trùng giờ và lưu' }).click();
      await page.getByText(`Đã lưu lịch «${title}» (bản nháp). Gửi duyệt để lịch được phát.`).waitFor();
      const row = page.getByRole('listitem').filter({ has: page.getByText(title, { exact: true }) });
      await row.getByRole('button', { name: 'Gửi duyệt' }).click();
      await row.getByText('Chờ duyệt').waitFor();
      if (editor.phone) await editor.fitsPhone('schedules after submitting');
      await shot(page, 'schedules');
      // Nothing airs before a leader approves.
      const schedule = (await server.api<{ id: string; title: string }[]>('GET', '/api/v1/schedules')).body.find(
        (s) => s.title === title,
      )!;
      const occurrences = () =>
        dbRows<{ id: string }>(server, sql`SELECT id FROM occurrences WHERE schedule_id = ${schedule.id} ORDER BY id`);
      expect(await occurrences()).toHaveLength(0);

      // ---- the leader approves it from the queue, on another device
      const leader = await openConsole(rig, name, viewport, LEADER);
      await leader.go('Duyệt bản tin');
      const item = leader.page.getByRole('listitem').filter({ has: leader.page.getByText(title, { exact: true }) });
      await shot(leader.page, 'approvals');
      await item.getByRole('button', { name: 'Duyệt' }).click();
      await leader.page.getByText(`Đã duyệt «${title}».`).waitFor();
      await row.getByText('Đã duyệt').waitFor({ timeout: 10_000 }); // the editor's page follows live
      expect(await occurrences()).toHaveLength(1);
      const occurrenceId = (await occurrences())[0]!.id;

      // ---- on air at its time: the leader watches the matrix fill in
      await leader.go('Kết quả phát');
      const recent = leader.page.getByRole('region', { name: 'Bản tin gần đây' });
      await recent
        .getByRole('button', { name: new RegExp(title) })
        .first()
        .click();
      const matrix = leader.page.getByRole('table', { name: 'Trạng thái phát theo bản tin và cụm loa' });
      await matrix.waitFor();
      // The chosen broadcast's column (the matrix also shows the other broadcasts of the list).
      const column = await matrix
        .locator('thead th')
        .evaluateAll((cells) => cells.findIndex((cell) => cell.classList.contains('chosen')));
      expect(column).toBeGreaterThan(0);
      await expect
        .poll(() => matrix.locator(`tbody tr > :nth-child(${column + 1}) .chip.stage-finished`).count(), {
          timeout: (LEAD_S + 40) * 1000,
          interval: 500,
        })
        .toBe(2);
      const started = await dbRows<{ device_id: string; at: number }>(
        server,
        sql`SELECT device_id, at FROM acks WHERE ref_id = ${occurrenceId} AND stage = 'started' ORDER BY device_id`,
      );
      expect(started.map((s) => s.device_id).sort()).toEqual(Object.keys(zone.devices));
      // Played at the second it was scheduled for (whole seconds in the form).
      const planned = Math.floor(start / 1000) * 1000;
      for (const s of started) expect(Math.abs(s.at - planned)).toBeLessThan(500);
      if (leader.phone) await leader.fitsPhone('deliveries');
      await shot(leader.page, 'journey-deliveries');

      // ---- the zone report as CSV
      await leader.go('Báo cáo');
      await leader.page.getByRole('tab', { name: 'Theo khu vực' }).click();
      await leader.page
        .getByRole('table', { name: 'Theo khu vực' })
        .getByRole('rowheader', { name: new RegExp(zone.name) })
        .waitFor();
      const [download] = await Promise.all([
        leader.page.waitForEvent('download'),
        leader.page.getByRole('link', { name: 'Xuất CSV' }).click(),
      ]);
      const [header, ...rows] = fs.readFileSync((await download.path())!, 'utf8').split('\r\n');
      expect(header).toMatch(/^\uFEFFzone_id,name,devices,broadcasts,finished/);
      // The zone: 2 loudspeakers, and this run's broadcast finished on both.
      const line = rows.find((r) => r.startsWith(`${zone.id},`))!.split(',');
      expect(line.slice(0, 3)).toEqual([zone.id, zone.name, '2']);
      expect(Number(line[4])).toBeGreaterThanOrEqual(2);

      expect(editor.errors).toEqual([]);
      expect(leader.errors).toEqual([]);
      await editor.page.close();
      await leader.page.close();
    },
    240_000,
  );
});
