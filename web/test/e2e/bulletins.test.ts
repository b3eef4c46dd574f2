/// <reference lib="dom" />
/**
 * The province's source bulletins in a real browser (chromium), against the
 * real server and simulated loudspeakers: the province admin `tinh` makes two
 * communes and their admins through the API, sends a NORMAL bulletin to both
 * from the console; commune A's admin places it in the inbox, commune B's
 * admin declines it with a reason; the province admin opens the bulletin and
 * sees A "scheduled" and B "declined" with the reason. The pages must fit a
 * 360 px phone. With LOAXA_SCREENSHOTS=1 it refreshes docs/screenshots
 * (bulletin-province.png, bulletin-inbox.png).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { startSimFleet } from '@loaxa/firmware-sim';
import { PROVINCE_PASSWORD, signInProvince, startTestServer } from '../../../server/test/helpers';
import { CHROMIUM, CHROMIUM_ARGS, expectFitsWidth, openConsole, requireChromium, type Rig } from './rig';

const hasChromium = requireChromium('bulletin browser tests');

// `LOAXA_SCREENSHOTS=1` refreshes the README's screenshots; otherwise they go to a temp dir.
const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 360, height: 740 };
const PROVINCE = { username: 'tinh', password: PROVINCE_PASSWORD };
const COMMUNES = [
  { key: 'a', name: 'Xã An Bình', admin: 'quantri-anbinh', zone: 'Thôn Đông An Bình', device: 'loa-anbinh-1' },
  { key: 'b', name: 'Xã Bình Minh', admin: 'quantri-binhminh', zone: 'Thôn Tây Bình Minh', device: 'loa-binhminh-1' },
] as const;
const PASSWORD = 'mat-khau-cua-xa-123';
const TITLE = 'Thông báo tiêm phòng dại cho chó mèo';
const TEXT = 'Trạm y tế tổ chức tiêm phòng dại cho chó mèo vào sáng thứ Bảy tuần này tại nhà văn hóa các thôn.';
const REASON = 'Xã đã kín lịch phát tuần này vì phục vụ bầu cử';

describe.skipIf(!hasChromium)('source bulletins in chromium', () => {
  let rig: Rig;
  let fleet: Awaited<ReturnType<typeof startSimFleet>>;
  /** Commune key → its id on the server. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const server = await startTestServer();
    const province = await signInProvince(server);
    const credentials: { deviceId: string; secret: string }[] = [];
    for (const commune of COMMUNES) {
      const created = await province<{ id: string }>('POST', '/api/v1/communes', { name: commune.name });
      expect(created.status).toBe(201);
      ids[commune.key] = created.body.id;
      const admin = await province('POST', '/api/v1/users', {
        username: commune.admin,
        password: PASSWORD,
        role: 'admin',
        commune: created.body.id,
      });
      expect(admin.status).toBe(201);
      // A zone and a loudspeaker in each, so a placed bulletin has somewhere to play.
      const zone = await province<{ id: string }>('POST', '/api/v1/zones', {
        name: commune.zone,
        commune: created.body.id,
      });
      expect(zone.status).toBe(201);
      const device = await province<{ agentConfig: { secret: string } }>('POST', '/api/v1/devices', {
        id: commune.device,
        name: `Cụm loa ${commune.zone}`,
        zones: [zone.body.id],
        commune: created.body.id,
      });
      expect(device.status).toBe(201);
      credentials.push({ deviceId: commune.device, secret: device.body.agentConfig.secret });
    }
    fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices: credentials });
    await fleet.waitOnline(10_000);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    rig = {
      server,
      browser,
      fleet,
      async close() {
        await browser.close();
        await fleet.stop();
        await server.close();
      },
    };
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('a normal bulletin: sent by the province, placed by one commune, declined by the other', async () => {
    // ---- the province admin writes it and sends it to both communes
    const tinh = await openConsole(rig, 'desktop', DESKTOP, PROVINCE);
    const { page } = tinh;
    await page.locator('.scope-select').waitFor();
    await expect
      .poll(() => page.locator('.scope-select option').allTextContents())
      .toEqual(expect.arrayContaining(['Toàn tỉnh', ...COMMUNES.map((c) => c.name)]));
    await tinh.go('Bản tin nguồn');
    await page.getByLabel('Tiêu đề (không bắt buộc)').fill(TITLE);
    await page.getByLabel('Nội dung', { exact: true }).fill(TEXT);
    await page.getByRole('radio', { name: /Thông thường/ }).check();
    await page.getByRole('checkbox', { name: /Tất cả các xã/ }).uncheck();
    for (const commune of COMMUNES) await page.getByRole('checkbox', { name: commune.name, exact: true }).check();
    await page.getByRole('button', { name: 'Gửi bản tin' }).click();
    await page.getByText(`Đã gửi «${TITLE}» tới 2 xã.`).waitFor({ timeout: 60_000 });
    // It opens with each commune "received".
    const detail = page.locator('section.detail');
    for (const commune of COMMUNES) {
      await expect
        .poll(() =>
          detail.locator(`[data-commune="${ids[commune.key]}"] [data-status]`).first().getAttribute('data-status'),
        )
        .toBe('received');
    }
    const bulletinId = await detail.getAttribute('data-bulletin');
    expect(bulletinId).toBeTruthy();

    // ---- commune A's admin places it in their inbox (the time offered is ahead; the whole commune)
    const a = await openConsole(rig, 'phone', PHONE, { username: COMMUNES[0].admin, password: PASSWORD });
    await a.page.getByText(COMMUNES[0].name).first().waitFor();
    await a.go('Hộp thư bản tin');
    const inboxA = a.page.locator(`li.item[data-bulletin="${bulletinId}"]`);
    await inboxA.getByText(TEXT).waitFor();
    await inboxA.getByRole('button', { name: 'Xếp lịch phát' }).click();
    const at = await inboxA.getByLabel('Phát lúc (giờ Việt Nam)').inputValue();
    expect(at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(await inboxA.getByRole('checkbox', { name: 'Toàn xã' }).isChecked()).toBe(true);
    await inboxA.getByRole('button', { name: 'Xếp lịch', exact: true }).click();
    await a.page.getByText(new RegExp(`Đã xếp lịch «${TITLE}» ở ${COMMUNES[0].name} lúc`)).waitFor();
    await expect.poll(() => inboxA.locator('[data-status]').first().getAttribute('data-status')).toBe('scheduled');
    await inboxA.getByText(`Người xếp lịch: ${COMMUNES[0].admin}`, { exact: false }).waitFor();
    await a.fitsPhone('inbox after placing');
    await a.page.screenshot({ path: path.join(SCREENSHOTS, 'bulletin-inbox.png'), fullPage: true });

    // ---- commune B's admin declines it with a reason
    const b = await openConsole(rig, 'desktop', DESKTOP, { username: COMMUNES[1].admin, password: PASSWORD });
    await b.go('Hộp thư bản tin');
    const inboxB = b.page.locator(`li.item[data-bulletin="${bulletinId}"]`);
    await inboxB.getByRole('button', { name: 'Từ chối', exact: true }).click();
    await inboxB.getByLabel('Lý do từ chối').fill(REASON);
    await inboxB.getByRole('button', { name: 'Từ chối bản tin' }).click();
    await expect.poll(() => inboxB.locator('[data-status]').first().getAttribute('data-status')).toBe('declined');
    await inboxB.getByText(REASON).waitFor();
    // A commune sees its own row only, never the other commune's answer.
    await inboxB.getByRole('button', { name: 'Xem kết quả phát' }).click();
    await b.page.locator('section.detail [data-commune]').first().waitFor();
    expect(await b.page.locator('section.detail [data-commune]').count()).toBe(1);

    // ---- the province admin's open bulletin follows: A scheduled, B declined with the reason
    const rowA = detail.locator(`[data-commune="${ids.a}"]`);
    const rowB = detail.locator(`[data-commune="${ids.b}"]`);
    await expect
      .poll(() => rowA.locator('[data-status]').first().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('scheduled');
    await expect
      .poll(() => rowB.locator('[data-status]').first().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('declined');
    await rowB.getByText(REASON).waitFor();
    await rowB.getByText(`Người từ chối: ${COMMUNES[1].admin}`, { exact: false }).waitFor();
    // A's loudspeaker has the placed play waiting (its delivery row), named as the commune named it.
    await rowA.getByText(`Cụm loa ${COMMUNES[0].zone}`).waitFor({ timeout: 15_000 });
    // The list's chips say the same.
    const item = page.locator(`li.item[data-bulletin="${bulletinId}"]`);
    await expect
      .poll(() => item.locator('[data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))))
      .toEqual(expect.arrayContaining(['scheduled', 'declined']));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'bulletin-province.png'), fullPage: true });

    // ---- on a 360 px phone the province's bulletin page, opened, has nothing wider than the screen
    const phone = await openConsole(rig, 'phone', PHONE, PROVINCE);
    await phone.go('Bản tin nguồn');
    await phone.page
      .locator(`li.item[data-bulletin="${bulletinId}"]`)
      .getByRole('button', { name: 'Xem từng xã' })
      .click();
    await phone.page.locator(`section.detail [data-commune="${ids.b}"]`).getByText(REASON).waitFor();
    await expectFitsWidth(phone.page, 'bulletin page (phone)', PHONE.width);

    expect([...tinh.errors, ...a.errors, ...b.errors, ...phone.errors]).toEqual([]);
  }, 180_000);

  it('reports roll up: the province sees its communes, and drills down to one and its loudspeakers', async () => {
    const tinh = await openConsole(rig, 'desktop', DESKTOP, PROVINCE);
    const { page } = tinh;
    await page.locator('.scope-select').waitFor();
    await page.locator('.scope-select').selectOption({ label: 'Toàn tỉnh' });
    await tinh.go('Báo cáo');
    const byCommune = page.getByRole('tab', { name: 'Theo xã' });
    await expect.poll(() => byCommune.getAttribute('aria-selected')).toBe('true');
    const table = page.locator('#report-panel table');
    for (const commune of COMMUNES) await table.getByRole('button', { name: new RegExp(commune.name) }).waitFor();
    // Each commune has one loudspeaker, online.
    const rowA = table.locator('tr', { has: page.getByRole('button', { name: new RegExp(COMMUNES[0].name) }) });
    expect((await rowA.locator('td').allTextContents()).slice(0, 3)).toEqual(['1', '1', '0']);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'reports-communes.png'), fullPage: true });
    // A search narrows the table (diacritics forgiven); the rest come back when it is cleared.
    const rowSearch = page.getByRole('searchbox', { name: 'Tìm trong bảng' });
    await rowSearch.fill('binh minh');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await table.getByRole('button', { name: new RegExp(COMMUNES[1].name) }).waitFor();
    await rowSearch.fill('');
    await expect.poll(() => table.locator('tbody tr').count()).toBeGreaterThanOrEqual(COMMUNES.length);
    // Drill down: the page narrows to the commune, by loudspeaker.
    await rowA.getByRole('button').click();
    await expect.poll(() => page.locator('.scope-select').inputValue()).toBe(ids.a);
    await page.getByRole('tab', { name: 'Theo loa' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Theo xã' }).count()).toBe(0);
    await page.locator('#report-panel table').getByText(COMMUNES[0].device).waitFor();
    expect(await page.locator('#report-panel table').getByText(COMMUNES[1].device).count()).toBe(0);
    await page.locator('.scope-select').selectOption({ label: 'Toàn tỉnh' });
    expect(tinh.errors).toEqual([]);
  }, 120_000);
});
