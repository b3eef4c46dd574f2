/**
 * What the deliveries page and the dashboard say must be true, in a commune
 * of 150 loudspeakers of which 30 are offline. A broadcast to all that
 * started minutes ago shows its 30 unreached loudspeakers as missed (an
 * error), not "waiting"; the matrix shows what the list shows although this
 * browser sent nothing; a stopped broadcast reads "stopped", neither success
 * nor failure; what played comes before what is coming. In chromium, at
 * 1280 px and 360 px, on a fresh browser (no history of its own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsole, startRig, VIEWPORTS, type Rig, type RigDevice, requireChromium } from './rig';
import { sql } from '../../../server/test/helpers';

const hasChromium = requireChromium('deliveries truth browser tests');

const ONLINE = 120;
const DEVICES_PAGE = 'Loa & cụm';
const OFFLINE = 30;
const MINUTE = 60_000;
const zoneOf = (i: number) => ['thon-dong', 'thon-trung', 'thon-tay'][i % 3]!;
const loudspeaker = (i: number): RigDevice => ({
  id: `loa-${String(i + 1).padStart(3, '0')}`,
  name: `Cụm loa số ${i + 1}`,
  zones: [zoneOf(i)],
});

describe.skipIf(!hasChromium)('deliveries and dashboard tell the truth (150 loudspeakers, 30 offline)', () => {
  let rig: Rig;
  const online = Array.from({ length: ONLINE }, (_, i) => loudspeaker(i));
  const offline = Array.from({ length: OFFLINE }, (_, i) => loudspeaker(ONLINE + i));

  beforeAll(async () => {
    rig = await startRig({
      zones: [
        { id: 'thon-dong', name: 'Thôn Đông' },
        { id: 'thon-trung', name: 'Thôn Trung' },
        { id: 'thon-tay', name: 'Thôn Tây' },
      ],
      devices: online,
      offlineDevices: offline,
    });
    // History, written as the server would have: a broadcast to all that started 10 minutes ago and
    // was played by the 120 online loudspeakers; one stopped by the leader; one planned for tomorrow.
    const sha256 = 'f'.repeat(64);
    const now = Date.now();
    await rig.server.services.sql.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO media (sha256, format, bytes, duration_ms, created_at)
                VALUES (${sha256}, 'ogg', 1, 20000, 0)`.execute(tx);
      const occurrence = (id: string, title: string, startAt: number, stopped: { at: number; by: string } | null) =>
        sql`INSERT INTO occurrences (id, title, priority, start_at, duration_ms, sha256, created_at, stopped_at, stopped_by)
            VALUES (${id}, ${title}, 'normal', ${startAt}, 20000, ${sha256}, ${now}, ${stopped?.at ?? null},
                    ${stopped?.by ?? null})`.execute(tx);
      const delivery = (occurrenceId: string, deviceId: string, stage: string, at: number | null) =>
        sql`INSERT INTO deliveries (occurrence_id, device_id, stage, at)
            VALUES (${occurrenceId}, ${deviceId}, ${stage}, ${at})`.execute(tx);
      await occurrence('occ-all', 'Lịch tiêm phòng cho cả xã', now - 10 * MINUTE, null);
      for (const d of online) await delivery('occ-all', d.id, 'finished', now - 9 * MINUTE);
      for (const d of offline) await delivery('occ-all', d.id, 'pending', null);
      await occurrence('occ-stopped', 'Thông báo nhầm', now - 20 * MINUTE, { at: now - 19 * MINUTE, by: 'admin' });
      await delivery('occ-stopped', online[0]!.id, 'finished', now - 19 * MINUTE);
      await delivery('occ-stopped', online[1]!.id, 'preempted', now - 19 * MINUTE);
      await delivery('occ-stopped', online[2]!.id, 'pending', null);
      await occurrence('occ-tomorrow', 'Họp dân ngày mai', now + 20 * 3600_000, null);
      for (const d of online.slice(0, 5)) await delivery('occ-tomorrow', d.id, 'ready', now);
    });
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  for (const [name, viewport] of VIEWPORTS) {
    it(`shows the 30 unreached loudspeakers as missed, everywhere (${name})`, async () => {
      const { page, errors, go, phone, fitsPhone } = await openConsole(rig, name, viewport);

      // ---- dashboard: offline counted, missed plays listed as errors (this browser sent nothing)
      await expect.poll(() => page.locator('[data-stat="offline"]').textContent(), { timeout: 20_000 }).toBe('30');
      await expect.poll(() => page.locator('[data-stat="online"]').textContent()).toBe('120');
      const failures = page.locator('[data-failures] li');
      await expect.poll(() => failures.count(), { timeout: 20_000 }).toBe(5);
      expect(await page.locator('[data-no-failures]').count()).toBe(0);
      await expect.poll(() => failures.first().textContent()).toMatch(/Bị lỡ.*Cụm loa số 1[2-5]\d.*mất kết nối/s);
      if (phone) await fitsPhone('dashboard');

      // ---- deliveries: the list splits what aired from what is coming; progress says missed and stopped
      await go('Kết quả phát');
      const aired = page.locator('[data-group="aired"] li');
      const upcoming = page.locator('[data-group="upcoming"] li');
      await aired.first().waitFor();
      expect(await aired.allTextContents()).toEqual([
        expect.stringMatching(/Lịch tiêm phòng cho cả xã.*120\/150.*30 bị lỡ/s),
        expect.stringMatching(/Thông báo nhầm.*Đã dừng.*1\/3.*2 đã dừng/s),
      ]);
      expect(await aired.nth(1).textContent()).not.toMatch(/lỗi|bị lỡ/);
      expect(await upcoming.allTextContents()).toEqual([expect.stringMatching(/Họp dân ngày mai/)]);

      // ---- the matrix shows the listed broadcasts without this browser having sent them
      const matrix = page.locator('table.matrix');
      await matrix.waitFor();
      await expect.poll(() => page.locator('th.occ').count()).toBe(2);
      await expect.poll(() => matrix.locator('.chip.stage-missed').count()).toBe(OFFLINE);
      expect(await matrix.locator('.chip.stage-stopped').count()).toBe(2);
      await page.getByLabel('Chỉ hiện lỗi').check();
      await expect.poll(() => matrix.locator('tbody tr').count()).toBe(OFFLINE);
      expect(await matrix.locator('tbody tr .offline-tag').count()).toBe(OFFLINE);
      await page.getByLabel('Chỉ hiện lỗi').uncheck();
      // ---- 150 rows: a hundred at a time, a search and a village narrow them
      await expect.poll(() => matrix.locator('tbody tr').count()).toBe(100);
      await page.getByText('Đang hiện 100/150 cụm loa.').waitFor();
      await page.getByRole('button', { name: 'Hiện thêm 50 cụm loa' }).click();
      await expect.poll(() => matrix.locator('tbody tr').count()).toBe(150);
      const search = page.getByRole('searchbox', { name: 'Tìm cụm loa' });
      await search.fill('LOA-007');
      await expect.poll(() => matrix.locator('tbody tr .name').allTextContents()).toEqual(['Cụm loa số 7']);
      await search.fill('');
      await page.getByRole('combobox', { name: 'Khu vực' }).selectOption({ label: 'Thôn Tây' });
      // Every third loudspeaker is in Thôn Tây.
      await expect.poll(() => matrix.locator('tbody tr').count()).toBe(50);
      await search.fill('không có loa này');
      await page.getByText('Không có cụm loa nào khớp với tìm kiếm hoặc khu vực đã chọn.').waitFor();
      await search.fill('');
      await page.getByRole('combobox', { name: 'Khu vực' }).selectOption({ label: 'Mọi khu vực' });
      if (phone) await fitsPhone('deliveries');

      expect(errors).toEqual([]);
      await page.close();
    }, 120_000);
  }

  it('marks simulated loudspeakers, says a schedule in the past would never play, never cuts pasted text', async () => {
    const { page, errors, go } = await openConsole(rig, 'desktop', VIEWPORTS[0][1]);
    // Simulated loudspeakers say so: they report plays but make no sound (the 30 never connected cannot tell).
    await go(DEVICES_PAGE);
    await expect.poll(() => page.locator('[data-simulated]').count(), { timeout: 20_000 }).toBe(ONLINE);
    await go('Lịch phát');
    // 300 characters pasted into a 200-character title: kept whole, and the field says why it is refused.
    const longTitle = 'Thông báo về việc tổ chức tiêm phòng cho gia súc gia cầm '.repeat(6).slice(0, 300);
    await page.locator('#s-title').fill(longTitle);
    expect((await page.locator('#s-title').inputValue()).length).toBe(300);
    await expect
      .poll(() => page.locator('[data-too-long]').first().textContent())
      .toMatch(/Quá dài: 300 ký tự, tối đa 200/);
    await page.locator('#s-title').fill('Họp dân');
    expect(await page.locator('[data-too-long]').count()).toBe(0);

    // A one-off earlier today is refused with a sentence at the date, before anything is sent.
    const earlier = new Date(Date.now() + 7 * 3600_000 - 2 * 3600_000).toISOString(); // Ha Noi wall clock
    await page.locator('#s-kind').selectOption('once');
    await page.locator('#s-start').fill(earlier.slice(0, 10));
    await page.locator('#s-times').fill(earlier.slice(11, 16));
    await page.getByRole('button', { name: 'Kiểm tra trùng giờ và lưu' }).click();
    await expect.poll(() => page.getByText('Giờ phát này đã qua').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
