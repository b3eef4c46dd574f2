/// <reference lib="dom" />
/**
 * The Alerts page in a real browser (chromium), against the real server and
 * simulated loudspeakers: two loudspeakers stand inside the Lào Cai flood
 * polygon (server/test/fixtures/cap/lu-lao-cai.xml) and one outside (Sa Pa).
 * The flood alert, fed straight to the alert service, is listed with its risk
 * level 3, airing by itself on the 2 loudspeakers inside; its map draws the
 * polygon over the loudspeakers. A Severe but only "Possible" alert waits for
 * a leader, who presses "Phát ngay" and sees the row airing; one that someone
 * else decided first reloads and says so. On a desktop and a 360 px phone;
 * with LOAXA_SCREENSHOTS=1 it refreshes docs/screenshots/alerts-*.png.
 * In Settings, the province admin (tinh) adds an alert rule, which is there after a
 * reload, and a CAP feed, which is listed as added (a second time: refused).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PROVINCE_PASSWORD } from '../../../server/test/helpers';
import { openConsole, requireChromium, startRig, VIEWPORTS, type Rig } from './rig';

const hasChromium = requireChromium('alerts page browser tests');

// `LOAXA_SCREENSHOTS=1` refreshes the README's screenshots; otherwise they go to a temp dir.
const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

/** Tiles the server does not have: the map must work on its plain background. */
const TILE_TEMPLATE = '/tiles/{z}/{x}/{y}.png';
const PROVINCE = { communeId: null };
const FIXTURE = path.resolve(import.meta.dirname, '../../../server/test/fixtures/cap/lu-lao-cai.xml');

/** The flood alert with its expiry two hours ahead (CAP dateTime, no milliseconds). */
function floodAlert(): string {
  const expires = new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '-00:00');
  return fs.readFileSync(FIXTURE, 'utf8').replace(/<expires>[^<]*<\/expires>/, `<expires>${expires}</expires>`);
}

/** The same flood, only "Possible", level 4, under its own identifier: the rules ask a leader. */
function waitingAlert(suffix: string, headline: string): string {
  return floodAlert()
    .replace(/<identifier>[^<]*<\/identifier>/, `<identifier>2.49.0.1.704.0.LU.${suffix}</identifier>`)
    .replace('<certainty>Likely</certainty>', '<certainty>Possible</certainty>')
    .replace(/<headline>[^<]*<\/headline>/, `<headline>${headline}</headline>`)
    .replace('<value>3</value>', '<value>4</value>');
}

/** Inside the polygon: Lào Cai city and Bảo Thắng; outside: Sa Pa (as server/test/e2e/cap-alerts.test.ts). */
const DEVICES = [
  { id: 'loa-lao-cai', name: 'Cụm loa Bờ sông', zone: 'thon-bo-song', at: { latitude: 22.485, longitude: 103.97 } },
  {
    id: 'loa-bao-thang',
    name: 'Cụm loa Bảo Thắng',
    zone: 'thon-bao-thang',
    at: { latitude: 22.4, longitude: 104.05 },
  },
  { id: 'loa-sa-pa', name: 'Cụm loa Sa Pa', zone: 'thon-sa-pa', at: { latitude: 22.336, longitude: 103.844 } },
];
const ZONES = [
  { id: 'thon-bo-song', name: 'Thôn Bờ Sông' },
  { id: 'thon-bao-thang', name: 'Thôn Bảo Thắng' },
  { id: 'thon-sa-pa', name: 'Thôn Sa Pa' },
];

/** Buttons and links a thumb must hit on this page that are under 44 px (2.75rem) tall. */
function smallTapTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('main button, main a.play, main .leaflet-bar a'))
      .filter((el) => el.getClientRects().length > 0)
      .map((el) => ({ el, height: el.getBoundingClientRect().height }))
      .filter(({ height }) => height < 43.5)
      .map(({ el, height }) => `${el.tagName.toLowerCase()} "${el.textContent?.trim()}" ${Math.round(height)} px`),
  );
}

describe.skipIf(!hasChromium)('disaster alerts page in chromium', () => {
  let rig: Rig;
  let floodId: string;

  beforeAll(async () => {
    rig = await startRig({
      zones: ZONES,
      devices: DEVICES.map((d) => ({ id: d.id, name: d.name, zones: [d.zone] })),
      env: { LOAXA_MAP_TILES_URL: TILE_TEMPLATE },
    });
    for (const d of DEVICES) await rig.server.services.registry.updateDevice(d.id, { location: d.at }, PROVINCE);
    const id = await rig.server.services.alerts.ingest(floodAlert(), 'test');
    expect(id).toBeTruthy();
    floodId = id!;
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
  });

  it.each(VIEWPORTS)(
    'lists the flood alert with its level, decision, loudspeakers and map; a leader airs one that waits (%s)',
    async (name, viewport) => {
      // Each viewport has its own alerts to decide on.
      const waitsId = (await rig.server.services.alerts.ingest(
        waitingAlert(`${name}-1`, 'Nguy cơ lũ quét tại Lào Cai'),
        'test',
      ))!;
      const decidedId = (await rig.server.services.alerts.ingest(
        waitingAlert(`${name}-2`, 'Nguy cơ sạt lở tại Lào Cai'),
        'test',
      ))!;
      expect(waitsId && decidedId).toBeTruthy();

      const { page, phone, errors, go, fitsPhone } = await openConsole(rig, name, viewport);
      await go('Cảnh báo thiên tai');

      // ---- the flood: level 3, in force, airing by itself on the 2 loudspeakers inside
      const flood = page.locator(`li[data-alert="${floodId}"]`);
      await flood.waitFor();
      await expect.poll(() => flood.locator('.level').textContent()).toBe('Cấp độ 3');
      expect(await flood.locator('.level').getAttribute('data-level')).toBe('3');
      await flood.getByRole('heading', { name: 'Cảnh báo lũ trên sông Hồng tại Lào Cai' }).waitFor();
      expect(await flood.locator('.state-chip').textContent()).toBe('Đang hiệu lực');
      // Sent 07:30 +07:00, shown in the commune's time whatever the phone's zone.
      await flood.getByText('07:30 12/10/2026').waitFor();
      await flood.getByText('canhbao@nchmf.gov.vn').waitFor();
      const row = flood.locator('tr[data-commune]');
      expect(await row.count()).toBe(1);
      expect((await row.locator('td.decision').textContent())?.trim()).toBe('Tự động phát');
      expect((await row.locator('td.devices').textContent())?.trim()).toBe('2');
      // It becomes a play (the service airs it within a second); the page asks again every 15 s.
      await expect.poll(() => flood.locator('a.play').count(), { timeout: 40_000, interval: 1000 }).toBeGreaterThan(0);
      expect(await row.getAttribute('data-status')).toBe('airing');
      expect(await flood.locator('.decide').count()).toBe(0);

      // ---- the detail: description, instruction and the polygon over the loudspeakers
      await flood.getByRole('button', { name: 'Xem chi tiết và bản đồ' }).click();
      await flood.getByText(/Mực nước sông Hồng tại trạm Lào Cai/).waitFor();
      await flood.getByText(/Chủ động sơ tán người dân khỏi vùng trũng ven sông/).waitFor();
      const map = flood.getByRole('region', { name: 'Bản đồ vùng cảnh báo và các cụm loa' });
      await map.scrollIntoViewIfNeeded();
      await expect.poll(() => map.getAttribute('data-tiles'), { timeout: 20_000 }).toBe('none');
      await expect.poll(() => map.locator('path.map-area').count()).toBe(1);
      await expect.poll(() => map.locator('.device-marker').count()).toBe(3);
      expect(await map.locator('.device-marker.inside').count()).toBe(2);
      await map.getByRole('button', { name: 'Cụm loa Sa Pa: Trực tuyến' }).waitFor();
      expect(await map.locator('.leaflet-tile').count()).toBe(0);
      if (phone) {
        await fitsPhone('alerts page with the map open');
        expect(await smallTapTargets(page)).toEqual([]);
      }
      await page.screenshot({ path: path.join(SCREENSHOTS, `alerts-${name}.png`), fullPage: true });

      // ---- each play links to its broadcast on the deliveries page
      const playHref = await flood.locator('a.play').first().getAttribute('href');
      expect(playHref).toMatch(/^#\/deliveries\?occurrence=/);

      // ---- one that waits: a leader presses "Phát ngay" and it airs
      const waits = page.locator(`li[data-alert="${waitsId}"]`);
      const waitsRow = waits.locator('tr[data-commune]');
      expect(await waits.locator('.level').textContent()).toBe('Cấp độ 4');
      expect((await waitsRow.locator('td.decision').textContent())?.trim()).toBe('Chờ lãnh đạo xác nhận');
      expect(await waitsRow.getAttribute('data-status')).toBe('waiting');
      await waits.locator('.decide').getByRole('button', { name: 'Phát ngay' }).click();
      const dialog = page.getByRole('dialog', { name: 'Phát cảnh báo này ngay?' });
      await dialog.getByText(/sẽ phát khẩn cấp trên 2 cụm loa/).waitFor();
      if (phone) await fitsPhone('confirm dialog');
      await dialog.getByRole('button', { name: 'Phát ngay' }).click();
      await expect.poll(() => waitsRow.getAttribute('data-status')).toBe('airing');
      await waits.getByText(/^Đã cho phát «Nguy cơ lũ quét tại Lào Cai/).waitFor();
      expect(await waits.locator('.decide').count()).toBe(0);
      await waitsRow.getByText('Quyết định bởi admin').waitFor();

      // ---- someone decided first: the answer is 409, the list reloads and says so
      const decided = page.locator(`li[data-alert="${decidedId}"]`);
      const decidedRow = decided.locator('tr[data-commune]');
      expect(await decidedRow.getAttribute('data-status')).toBe('waiting');
      const revision = (await rig.server.services.alerts.list(PROVINCE)).find((a) => a.id === decidedId)!.communes[0]!
        .revision;
      const behind = await rig.server.api('POST', `/api/v1/alerts/${decidedId}/confirm`, { revision });
      expect(behind.status).toBe(200);
      await decided.locator('.decide').getByRole('button', { name: 'Không phát' }).click();
      await page
        .getByRole('dialog', { name: 'Không phát cảnh báo này?' })
        .getByRole('button', { name: 'Không phát' })
        .click();
      await decided.getByText('admin đã quyết định trước bạn', { exact: false }).waitFor();
      await expect.poll(() => decidedRow.getAttribute('data-status')).toBe('airing');
      expect(await decided.locator('.decide').count()).toBe(0);

      // ---- a play opens the deliveries page with that broadcast chosen
      await flood.locator('a.play').first().click();
      await page.getByRole('heading', { level: 1, name: 'Kết quả phát' }).waitFor();
      await expect.poll(() => page.locator('.recent-item.chosen').count()).toBe(1);
      expect(await page.locator('.recent-item.chosen').textContent()).toContain('Cảnh báo lũ trên sông Hồng');

      expect(errors).toEqual([]);
      await page.close();
    },
    180_000,
  );

  it('a province admin adds an alert rule in Settings, kept after a reload, and a CAP feed', async () => {
    const [name, viewport] = VIEWPORTS[0];
    const { page, errors, go } = await openConsole(rig, name, viewport, {
      username: 'tinh',
      password: PROVINCE_PASSWORD,
    });
    await go('Cài đặt');
    const section = page.getByRole('region', { name: 'Cảnh báo thiên tai' });
    await section.getByText('Chưa có quy tắc riêng', { exact: false }).waitFor();

    // ---- a rule: earthquakes that are Severe are shown only, repeated 0, 5, 20 min, with an all-clear
    await section.getByRole('button', { name: '+ Thêm quy tắc' }).click();
    const rule = section.locator('li[data-rule="1"]');
    await rule.getByLabel('Sự kiện có chứa từ').fill('động đất, sóng thần');
    await rule.getByLabel('Nghiêm trọng', { exact: true }).check();
    await rule.getByLabel('Khi khớp thì').selectOption({ label: 'Chỉ hiển thị' });
    // Not minutes: said at the field, nothing saved.
    await rule.getByLabel('Lặp lại (phút)').fill('năm phút');
    await section.getByRole('button', { name: 'Lưu quy tắc' }).click();
    await rule.getByText('Nhập số phút nguyên từ 0 đến 1440', { exact: false }).waitFor();
    await rule.getByLabel('Lặp lại (phút)').fill('0, 5, 20');
    await rule.getByLabel('Phát thông báo kết thúc khi cảnh báo bị hủy').check();
    await section.getByRole('button', { name: 'Lưu quy tắc' }).click();
    await section.getByText('Đã lưu bởi tinh', { exact: false }).waitFor();
    expect(rig.server.services.settings.alertRules()).toEqual([
      {
        events: ['động đất', 'sóng thần'],
        severities: ['Severe'],
        decision: 'show',
        repeatsMinutes: [0, 5, 20],
        allClear: true,
      },
    ]);

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Cài đặt' }).waitFor();
    const saved = page.getByRole('region', { name: 'Cảnh báo thiên tai' }).locator('li[data-rule="1"]');
    await saved.waitFor();
    expect(await saved.getByLabel('Sự kiện có chứa từ').inputValue()).toBe('động đất, sóng thần');
    expect(await saved.getByLabel('Nghiêm trọng', { exact: true }).isChecked()).toBe(true);
    expect(await saved.getByLabel('Lặp lại (phút)').inputValue()).toBe('0, 5, 20');
    expect(await saved.getByLabel('Khi khớp thì').inputValue()).toBe('show');
    expect(await saved.getByLabel('Phát thông báo kết thúc khi cảnh báo bị hủy').isChecked()).toBe(true);

    // ---- a feed (the server's own, not a CAP file: it is listed, with its read failing)
    const feeds = page.getByRole('region', { name: 'Cảnh báo thiên tai' });
    const url = `${rig.server.url}/khong-co-tep/cap.xml`;
    await feeds.getByLabel('Địa chỉ nguồn tin mới').fill(url);
    await feeds.getByRole('button', { name: 'Thêm nguồn tin' }).click();
    await feeds.getByText(`Đã thêm nguồn tin ${url}.`).waitFor();
    const feed = feeds.locator('li.feed[data-source="saved"]');
    // Exactly the URL: the feed is read at once, and its error (a 404 here) may name the URL again.
    await feed.getByText(url, { exact: true }).waitFor();
    await feed.getByText('Đã thêm', { exact: true }).waitFor();
    await feed.getByRole('button', { name: `Gỡ nguồn tin ${url}` }).waitFor();
    await feeds.getByLabel('Địa chỉ nguồn tin mới').fill(url);
    await feeds.getByRole('button', { name: 'Thêm nguồn tin' }).click();
    await feeds.getByText('Nguồn tin này đã được đọc rồi.').waitFor();

    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
