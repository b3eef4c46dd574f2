/// <reference lib="dom" />
/**
 * The console in a real browser (Debian's chromium through playwright-core)
 * against the real server and simulated loudspeakers, on a desktop and a
 * 360 px phone: log in, add a zone and a loudspeaker (and revoke it), broadcast
 * now, confirm an emergency, watch the delivery matrix fill in, read the
 * reports and download one, add a user, download the audit log as CSV.
 * Prints load timings; with LOAXA_SCREENSHOTS=1 it refreshes docs/screenshots.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startSimFleet } from '@loaxa/firmware-sim';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../../server/test/helpers';
import { CHROMIUM, CHROMIUM_ARGS, expectFitsWidth, requireChromium } from './rig';

const hasChromium = requireChromium('console browser tests');

// `LOAXA_SCREENSHOTS=1` refreshes the README's screenshots; otherwise they go to a temp dir.
const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });
/** A 1×1 grey PNG: the map tile the test serves in place of OpenStreetMap (no internet here). */
const TILE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4CwAA3wDeKXlwtgAAAABJRU5ErkJggg==',
  'base64',
);
const DEVICES = [
  { id: 'loa-01', name: 'Cụm loa Nhà văn hóa', zones: ['thon-dong'] },
  { id: 'loa-02', name: 'Cụm loa Chợ', zones: ['thon-dong'] },
  { id: 'loa-03', name: 'Cụm loa Trường học', zones: ['thon-tay'] },
];

describe.skipIf(!hasChromium)('console in chromium', () => {
  let server: TestServer;
  let fleet: Awaited<ReturnType<typeof startSimFleet>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    const communeId = server.services.communes.defaultId();
    await server.services.registry.createZone('Thôn Đông', communeId, 'thon-dong');
    await server.services.registry.createZone('Thôn Tây', communeId, 'thon-tay');
    const devices = await Promise.all(
      DEVICES.map(async (d) => ({
        deviceId: d.id,
        secret: (await server.services.registry.createDevice({ ...d, communeId })).secret,
      })),
    );
    fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices });
    await fleet.waitOnline(10_000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await server?.close();
  });

  it.each([
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 360, height: 740 }],
  ] as const)(
    'every main page works (%s)',
    async (name, viewport) => {
      const phone = name === 'phone';
      const page = await browser.newPage({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      const shot = (file: string) =>
        page.screenshot({ path: path.join(SCREENSHOTS, `${file}-${name}.png`), fullPage: true });

      const fitsPhone = (where: string) => expectFitsWidth(page, where, 360);

      // ---- first load, timed (the phone run on a throttled "cheap phone over 4G")
      const cdp = await page.context().newCDPSession(page);
      if (phone) {
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', {
          offline: false,
          latency: 150,
          downloadThroughput: (1.6 * 1024 * 1024) / 8,
          uploadThroughput: (750 * 1024) / 8,
        });
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      }
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Đăng nhập' }).waitFor();
      const timing = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const scripts = performance
          .getEntriesByType('resource')
          .filter((r) => (r as PerformanceResourceTiming).initiatorType === 'script') as PerformanceResourceTiming[];
        return {
          interactiveMs: Math.round(performance.now()),
          domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
          jsTransferBytes: scripts.reduce((sum, r) => sum + r.transferSize, 0),
        };
      });
      console.log(
        `[console ${name}${phone ? ', 4× CPU throttle, 1.6 Mbit/s, 150 ms RTT' : ''}] login form interactive after ` +
          `${timing.interactiveMs} ms (DOMContentLoaded ${timing.domContentLoadedMs} ms, JS transferred ${timing.jsTransferBytes} B)`,
      );
      expect(timing.interactiveMs).toBeLessThan(phone ? 15_000 : 5_000);
      if (phone) {
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
        await cdp.send('Network.emulateNetworkConditions', {
          offline: false,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: -1,
        });
      }

      // ---- log in (a wrong password is a sentence, not a code)
      await page.getByLabel('Tên đăng nhập').fill('admin');
      await page.getByLabel('Mật khẩu').fill('wrong password');
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Sai tên đăng nhập hoặc mật khẩu/);
      if (!phone) await page.screenshot({ path: path.join(SCREENSHOTS, 'login.png') });
      await page.getByLabel('Mật khẩu').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();

      // ---- dashboard: live counts
      await expect.poll(() => page.locator('[data-stat="online"]').textContent(), { timeout: 10_000 }).toBe('3');
      expect(await page.locator('[data-stat="offline"]').textContent()).toBe('0');
      if (phone) await fitsPhone('dashboard');
      await shot('dashboard');

      const go = async (label: string) => {
        if (phone) {
          const menu = page.getByRole('button', { name: /Menu/ });
          await menu.click();
          expect(await menu.getAttribute('aria-expanded')).toBe('true');
        }
        await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
        await page.getByRole('heading', { level: 1, name: label }).waitFor();
        if (phone) {
          expect(await page.getByRole('navigation').isVisible()).toBe(false);
          await fitsPhone(label);
        }
      };

      // ---- zones and loudspeakers
      await go('Loa & cụm');
      const zoneName = `Thôn Bắc ${name}`;
      await page.getByLabel('Tên khu vực mới').fill(zoneName);
      await page.getByRole('button', { name: 'Thêm khu vực' }).click();
      await page.getByText(`Đã thêm khu vực «${zoneName}».`).waitFor();
      // A zone someone else just made: the server's 409 lands at the field as a sentence.
      const raced = `Thôn Nam ${name}`;
      expect((await server.api('POST', '/api/v1/zones', { name: raced })).status).toBe(201);
      await page.getByLabel('Tên khu vực mới').fill(raced);
      await page.getByRole('button', { name: 'Thêm khu vực' }).click();
      await page.locator('#zone-name-error').getByText(`Đã có khu vực tên «${raced}»`).waitFor();
      expect(await page.getByLabel('Tên khu vực mới').getAttribute('aria-invalid')).toBe('true');

      const deviceId = `loa-moi-${name}`;
      await page.getByLabel('Mã cụm loa').fill('bad id!');
      await page.getByRole('button', { name: 'Thêm cụm loa' }).click();
      await page.locator('#device-id-error').waitFor();
      await page.getByLabel('Mã cụm loa').fill(deviceId);
      await page.getByLabel('Tên hiển thị').fill(`Cụm loa mới ${name}`);
      await page.getByRole('checkbox', { name: zoneName }).check();
      await page.getByRole('button', { name: 'Thêm cụm loa' }).click();
      const config = page.getByLabel('Cấu hình cho cụm loa (JSON)');
      await config.waitFor();
      const agentConfig = JSON.parse(await config.inputValue()) as { deviceId: string; secret: string };
      expect(agentConfig.deviceId).toBe(deviceId);
      expect(agentConfig.secret.length).toBeGreaterThan(16);
      await shot('devices');
      await page.getByRole('button', { name: 'Thêm cụm loa khác' }).click();

      // Rename a zone, move the new loudspeaker to another, delete the emptied zone.
      const renamed = `Thôn Bắc mới ${name}`;
      await page.getByRole('button', { name: `Đổi tên khu vực ${zoneName}` }).click();
      await page.getByLabel(`Đổi tên khu vực ${zoneName}`).fill(renamed);
      await page.getByRole('button', { name: 'Lưu' }).click();
      await page.getByRole('button', { name: `Đổi tên khu vực ${renamed}` }).waitFor();
      // The new loudspeaker's own controls are on its card, opened from the table.
      const openNew = () => page.getByRole('link', { name: new RegExp(`Cụm loa mới ${name}`) }).click();
      await openNew();
      await page.getByRole('button', { name: `Đổi khu vực của Cụm loa mới ${name}` }).click();
      const moveDialog = page.getByRole('dialog', { name: `Khu vực của Cụm loa mới ${name}` });
      await moveDialog.getByRole('checkbox', { name: renamed }).uncheck();
      await moveDialog.getByRole('checkbox', { name: raced }).check();
      await moveDialog.getByRole('button', { name: 'Lưu' }).click();
      const racedId = (await server.services.registry.listZones()).find((z) => z.name === raced)!.id;
      await expect.poll(async () => (await server.services.registry.getDevice(deviceId))?.zones).toEqual([racedId]);
      await page.getByRole('link', { name: 'Danh sách cụm loa' }).click();
      await page.getByRole('button', { name: `Xoá khu vực ${renamed}` }).click();
      await page.getByRole('dialog', { name: 'Xoá khu vực?' }).getByRole('button', { name: 'Xoá' }).click();
      await expect.poll(() => page.getByRole('button', { name: `Xoá khu vực ${renamed}` }).count()).toBe(0);
      expect((await server.services.registry.listZones()).some((z) => z.name === renamed)).toBe(false);

      await openNew();
      await page.getByRole('button', { name: `Thu hồi cụm loa Cụm loa mới ${name}` }).click();
      const revokeDialog = page.getByRole('dialog', { name: 'Thu hồi cụm loa?' });
      await revokeDialog.getByRole('button', { name: 'Thu hồi' }).click();
      await page
        .getByRole('listitem')
        .filter({ hasText: `Cụm loa mới ${name}` })
        .getByText('Đã thu hồi')
        .waitFor();
      expect((await server.services.registry.getDevice(deviceId))?.revoked).toBe(true);
      await page.getByRole('link', { name: 'Danh sách cụm loa' }).click();

      // ---- broadcast now, then an emergency that names its zones before it goes
      await go('Phát ngay');
      const normal = page.getByRole('region', { name: 'Phát ngay' });
      await normal
        .getByLabel('Nội dung bản tin')
        .fill('Ủy ban nhân dân xã thông báo: chiều nay mất điện từ 14 giờ đến 16 giờ.');
      await normal.getByRole('checkbox', { name: /Thôn Đông/ }).check();
      await normal.getByRole('button', { name: 'Phát ngay' }).click();
      await expect
        .poll(() => page.getByText('2/2 đã phát xong').count(), { timeout: 20_000, interval: 200 })
        .toBeGreaterThan(0);

      const emergency = page.getByRole('region', { name: /Phát khẩn cấp/ });
      await emergency
        .getByLabel('Nội dung bản tin')
        .fill('Cảnh báo lũ: nước sông đang lên nhanh, bà con di chuyển lên cao.');
      await emergency.getByRole('checkbox', { name: /Thôn Tây/ }).check();
      await emergency.getByRole('button', { name: 'Phát khẩn cấp' }).click();
      const confirm = page.getByRole('dialog', { name: 'Phát khẩn cấp?' });
      await confirm.waitFor();
      expect(await confirm.textContent()).toContain('Thôn Tây');
      expect(await confirm.textContent()).not.toContain('Thôn Đông');
      if (!phone) await page.screenshot({ path: path.join(SCREENSHOTS, 'emergency-confirm.png') });
      await confirm.getByRole('button', { name: 'Phát khẩn cấp' }).click();
      await expect
        .poll(() => page.getByText('1/1 đã phát xong').count(), { timeout: 20_000, interval: 200 })
        .toBeGreaterThan(0);
      await shot('broadcast');

      // ---- deliveries matrix: both broadcasts, every targeted loudspeaker finished
      await go('Kết quả phát');
      const matrix = page.getByRole('table', { name: 'Trạng thái phát theo bản tin và cụm loa' });
      await matrix.waitFor();
      // The matrix follows the recent list (every console's broadcasts, the other viewport's run too):
      // this run's two are there, and every loudspeaker they targeted finished.
      for (const title of [/chiều nay mất điện/, /Cảnh báo lũ/]) {
        await expect.poll(() => matrix.locator('th.occ').filter({ hasText: title }).count()).toBeGreaterThan(0);
      }
      await expect
        .poll(() => matrix.locator('.chip.stage-finished').count(), { timeout: 10_000 })
        .toBeGreaterThanOrEqual(3);
      expect(await matrix.getByRole('rowheader').count()).toBeGreaterThanOrEqual(3);
      await shot('deliveries');
      await page.getByLabel('Chỉ hiện lỗi').check();
      await page.getByText('Không có lỗi nào.').waitFor();
      await page.getByLabel('Chỉ hiện lỗi').uncheck();
      // The recent-broadcasts list (from the server, every console's) opens one in the matrix.
      const recent = page.getByRole('region', { name: 'Bản tin gần đây' });
      const flood = recent.getByRole('button', { name: /Cảnh báo lũ/ }).first();
      await flood.waitFor();
      expect(await flood.textContent()).toContain('1/1 đã phát xong');
      await flood.click();
      await expect.poll(() => flood.getAttribute('class')).toContain('chosen');

      // ---- reports: the broadcasts just made, per loudspeaker and per zone, and their CSV
      await go('Báo cáo');
      const byDevice = page.getByRole('table', { name: 'Theo loa' });
      await byDevice.waitFor();
      const market = byDevice.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Cụm loa Chợ/ }) });
      // broadcasts, finished, failed, missed, stopped, success rate
      expect(await market.getByRole('cell').nth(5).textContent()).toContain('100,0%');
      await page.getByRole('tab', { name: 'Theo khu vực' }).click();
      const byZone = page.getByRole('table', { name: 'Theo khu vực' });
      await byZone.getByRole('rowheader', { name: /Thôn Đông/ }).waitFor();
      await shot('reports');
      const [report] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Xuất CSV' }).click(),
      ]);
      const reportCsv = fs.readFileSync((await report.path())!, 'utf8');
      expect(reportCsv.split('\r\n')[0]).toMatch(/^\uFEFFzone_id,name,devices,broadcasts/);
      expect(reportCsv).toContain('thon-dong,Thôn Đông,2,');

      // ---- users
      await go('Người dùng');
      const officer = `canbo.${name}`;
      await page.getByLabel('Tên đăng nhập').fill(officer);
      await page.getByLabel('Mật khẩu', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Thêm người dùng' }).click();
      await page
        .locator('#new-password-error')
        .getByText(/Mật khẩu quá ngắn/)
        .waitFor();
      await page.getByLabel('Mật khẩu', { exact: true }).fill('mat-khau-du-dai');
      await page.getByLabel('Vai trò', { exact: true }).selectOption('editor');
      await page.getByRole('button', { name: 'Thêm người dùng' }).click();
      await page.getByRole('rowheader', { name: officer }).waitFor();
      await page.getByRole('button', { name: `Đặt lại mật khẩu cho ${officer}` }).click();
      const reset = page.getByRole('dialog');
      await reset.getByLabel('Mật khẩu mới').fill('mat-khau-moi-123');
      await reset.getByRole('button', { name: 'Đặt lại mật khẩu' }).click();
      await page.getByText(`Đã đặt lại mật khẩu cho ${officer}`).waitFor();
      // Disable the account (its login is refused), then enable it again.
      await page.getByRole('button', { name: `Khoá tài khoản ${officer}` }).click();
      await page
        .getByRole('dialog', { name: `Khoá tài khoản ${officer}?` })
        .getByRole('button', { name: 'Khoá' })
        .click();
      const officerRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: officer }) });
      await officerRow.getByText('Đã khoá').waitFor();
      expect(
        await server.api('POST', '/api/v1/session', { username: officer, password: 'mat-khau-moi-123' }),
      ).toMatchObject({ status: 403 });
      await page.getByRole('button', { name: `Mở lại tài khoản ${officer}` }).click();
      await page
        .getByRole('dialog', { name: `Mở lại tài khoản ${officer}?` })
        .getByRole('button', { name: 'Mở lại' })
        .click();
      await officerRow.getByText('Đang hoạt động').waitFor();
      // Promote the officer to leader: asked first, then saved and audited by the server.
      await page.getByRole('combobox', { name: `Vai trò của ${officer}` }).selectOption('approver');
      const promote = page.getByRole('dialog', { name: `Đổi vai trò của ${officer} thành «Lãnh đạo (duyệt)»?` });
      await promote.getByText('Duyệt bản tin, phát khẩn cấp').waitFor();
      await promote.getByRole('button', { name: 'Đổi vai trò' }).click();
      await page.getByText(`Đã đổi vai trò của ${officer} thành «Lãnh đạo (duyệt)».`).waitFor();
      expect(await page.getByRole('combobox', { name: `Vai trò của ${officer}` }).inputValue()).toBe('approver');
      const accounts = await server.api('GET', '/api/v1/users');
      expect((accounts.body as { username: string; role: string }[]).find((u) => u.username === officer)?.role).toBe(
        'approver',
      );
      await shot('users');

      // ---- a technician's tools on one loudspeaker: volume, test tone, location and the map
      await go('Loa & cụm');
      const hallName = 'Cụm loa Nhà văn hóa';
      await page.getByRole('link', { name: new RegExp(hallName) }).click();
      const hall = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: hallName }) });
      const level = phone ? '35' : '40';
      const volume = hall.getByRole('slider', { name: `Âm lượng của ${hallName}` });
      await volume.fill(level);
      await hall.getByText(`Đã đặt âm lượng ${level}%.`).waitFor({ timeout: 10_000 });
      expect(await volume.inputValue()).toBe(level);
      await hall.getByRole('button', { name: `Phát âm thử trên ${hallName}` }).click();
      await hall.getByText('Đã phát xong').waitFor({ timeout: 20_000 });
      // A latitude out of range is refused at its field; a good one is saved and placed.
      await hall.getByRole('button', { name: `Sửa tên và vị trí của ${hallName}` }).click();
      await hall.getByLabel('Vĩ độ').fill('91');
      await hall.getByLabel('Kinh độ').fill('105,8542');
      await hall.getByRole('button', { name: 'Lưu' }).click();
      await hall
        .locator('[id="edit-loa-01-latitude-error"]')
        .getByText('Vĩ độ phải là một số từ -90 đến 90.')
        .waitFor();
      expect(await hall.getByLabel('Vĩ độ').getAttribute('aria-invalid')).toBe('true');
      await hall.getByLabel('Vĩ độ').fill('21,0285');
      await hall.getByRole('button', { name: 'Lưu' }).click();
      await hall.getByText('Đã lưu tên và vị trí.').waitFor();
      expect((await server.services.registry.getDevice('loa-01'))?.location).toEqual({
        latitude: 21.0285,
        longitude: 105.8542,
      });
      // No internet here: the map keeps the marker, on a plain background with the zone's name.
      const map = page.getByRole('region', { name: 'Bản đồ cụm loa' });
      await map.getByText(/Không tải được nền bản đồ/).waitFor({ timeout: 20_000 });
      await map.getByRole('button', { name: `${hallName}: Trực tuyến` }).waitFor();
      await map.locator('.village-label-text', { hasText: 'Thôn Đông' }).waitFor();
      if (phone) await fitsPhone('device tools');
      await shot('device-tools');
      // Where the tile server answers (here the test answers for it), the map places a marker per loudspeaker.
      const tiles = 'https://tile.openstreetmap.org/**';
      await page.route(tiles, (route) => route.fulfill({ contentType: 'image/png', body: TILE_PNG }));
      await map.getByRole('button', { name: 'Thử lại' }).click();
      await map.getByRole('button', { name: `${hallName}: Trực tuyến` }).waitFor();
      await expect.poll(() => map.getByText(/Không tải được nền bản đồ/).count()).toBe(0);
      if (!phone) await page.screenshot({ path: path.join(SCREENSHOTS, 'device-map.png') });
      await page.unroute(tiles);
      // The next run starts with no location again.
      expect((await server.api('PATCH', '/api/v1/devices/loa-01', { location: null })).status).toBe(200);

      // ---- audit log and its CSV
      await go('Nhật ký');
      await page.getByText('broadcast.emergency').first().waitFor();
      await shot('audit');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Tải về CSV' }).click(),
      ]);
      const csv = fs.readFileSync((await download.path())!, 'utf8');
      expect(csv.split('\n')[0]).toMatch(/action/);
      for (const action of ['zone.create', 'device.add', 'device.revoke', 'broadcast.emergency', 'user.create']) {
        expect(csv).toContain(action);
      }

      // ---- settings: the commune's own abbreviation, read out from then on
      await go('Cài đặt');
      const abbreviation = phone ? 'HTXP' : 'HTXD';
      await page.getByLabel('Chữ viết tắt', { exact: true }).fill(abbreviation);
      await page.getByLabel('Đọc là', { exact: true }).fill('hợp tác xã');
      await page.getByRole('button', { name: 'Lưu mục' }).click();
      await page.getByText(`Đã thêm «${abbreviation}».`).waitFor();
      const spoken = await server.api<{ text: string }>('POST', '/api/v1/tts/normalize', {
        text: `${abbreviation} thông báo`,
      });
      expect(spoken.body.text.toLowerCase()).toContain('hợp tác xã thông báo');
      await shot('settings');

      // ---- English is one tap away
      await page.getByRole('button', { name: /English/ }).click();
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();

      expect(errors).toEqual([]);
      await page.close();
    },
    120_000,
  );
});
