/**
 * The console in a real browser (Debian's chromium through playwright-core)
 * against the real server and simulated loudspeakers: log in, see the devices
 * online, broadcast a notice, watch every device reach "finished" live.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startSimFleet } from '@loaxa/firmware-sim';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../../server/test/helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[skip] console browser tests: no chromium at ${CHROMIUM} (apt-get install chromium)`);

// `LOAXA_SCREENSHOTS=1 npm test` refreshes the README's screenshots; otherwise they go to a temp dir.
const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
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
    server.services.registry.createZone('Thôn Đông', 'thon-dong');
    server.services.registry.createZone('Thôn Tây', 'thon-tay');
    const devices = DEVICES.map((d) => ({
      deviceId: d.id,
      secret: server.services.registry.createDevice(d).secret,
    }));
    fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices });
    await fleet.waitOnline(10_000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
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
  ] as const)('log in, broadcast now and watch acks arrive (%s)', async (name, viewport) => {
    const page = await browser.newPage({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    await page.goto(server.url);
    await page.getByLabel('Tên đăng nhập').fill('admin');
    await page.getByLabel('Mật khẩu').fill('wrong password');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Sai tên đăng nhập hoặc mật khẩu/);
    if (name === 'desktop') await page.screenshot({ path: path.join(SCREENSHOTS, 'login.png') });

    await page.getByLabel('Mật khẩu').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.getByText('Trực tuyến', { exact: true }).count(), { timeout: 10_000 }).toBe(3);

    await page
      .getByLabel('Nội dung bản tin')
      .fill('Ủy ban nhân dân xã thông báo: chiều nay mất điện từ 14 giờ đến 16 giờ.');
    await page.getByRole('checkbox', { name: /Thôn Đông/ }).check();
    await page.getByRole('button', { name: 'Phát ngay' }).click();
    await expect
      .poll(() => page.getByText('2/2 đã phát xong').count(), { timeout: 20_000, interval: 200 })
      .toBeGreaterThan(0);
    expect(await page.locator('.chip.stage-finished').count()).toBe(2);
    await page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
