/// <reference lib="dom" />
/**
 * The Devices page at a province's size, in chromium: 15,000 loudspeakers in
 * 100 communes of 10 villages, written straight into the database, seen by the
 * province administrator on "Toàn tỉnh". The table is timed from a fresh load
 * (the figures are printed, not asserted: the benchmark judges them), then:
 * a search finds a loudspeaker far down the list, filters narrow it, a long
 * scroll reaches the last row, an online state change arrives over the event
 * stream, and the one map of every loudspeaker shows clusters whose counts add
 * up to the located loudspeakers; a click on one zooms in. On a 360 px phone
 * the page fits and works too. With LOAXA_SCREENSHOTS=1 it refreshes
 * docs/screenshots/devices-15000-desktop.png and map-clusters.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openConsole, startRig, VIEWPORTS, type Rig, requireChromium } from './rig';
import { timeDevicesPage } from './devices-page-timing';
import { PROVINCE_PASSWORD, sql } from '../../../server/test/helpers';

const hasChromium = requireChromium('province devices page browser tests');

const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

const TILE_TEMPLATE = '/tiles/{z}/{x}/{y}.png';
const COMMUNES = 100;
const VILLAGES = 10;
const PER_COMMUNE = 150;
const TOTAL = COMMUNES * PER_COMMUNE;
const LANDMARKS = ['Nhà văn hóa', 'Chợ', 'Trường học', 'Trạm y tế', 'Đình làng', 'Ngã ba', 'Cầu', 'Bưu điện'];
const COMMUNE_NAMES = ['An', 'Bình', 'Phú', 'Tân', 'Hòa', 'Thạnh', 'Long', 'Mỹ', 'Đông', 'Vĩnh'];

interface Seeded {
  id: string;
  name: string;
  communeId: string;
  zone: string;
  online: boolean;
  located: boolean;
}

const seeded: Seeded[] = [];
const communeIds: string[] = [];
/** A loudspeaker far down the default order (online, "X…"), in the 98th commune. */
const LATE = { id: 'loa-097-149', name: 'Cụm loa Xóm Vạn Chài Cồn Trạch' };
const ONLINE_PHRASE = 'Trực tuyến';
const OFFLINE_PHRASE = 'Ngoại tuyến';

/** "15.000" as the console writes it in Vietnamese. */
const vi = (n: number) => new Intl.NumberFormat('vi-VN').format(n);

async function seed(fixture: Rig): Promise<void> {
  const { communes } = fixture.server.services;
  const now = Date.now();
  for (let c = 0; c < COMMUNES; c++) {
    const name = `Xã ${COMMUNE_NAMES[c % 10]} ${COMMUNE_NAMES[Math.floor(c / 10)]} ${c + 1}`;
    communeIds.push((await communes.create(name)).id);
  }
  // Rows written directly, in one transaction, a commune per statement: the province's 15,000, quickly.
  await fixture.server.services.sql.db.transaction().execute(async (tx) => {
    for (let c = 0; c < COMMUNES; c++) {
      const commune = { id: communeIds[c]! };
      const cc = String(c).padStart(3, '0');
      const zones = Array.from({ length: VILLAGES }, (_, v) => `x${cc}-thon-${v + 1}`);
      await sql`INSERT INTO zones (id, commune_id, name, created_at) VALUES ${sql.join(
        zones.map((zoneId, v) => sql`(${zoneId}, ${commune.id}, ${`Thôn ${v + 1}`}, 0)`),
      )}`.execute(tx);
      // Communes on a 10 × 10 grid over the province, villages around each commune, poles around each village.
      const lat0 = 20.4 + Math.floor(c / 10) * 0.12;
      const lon0 = 105.0 + (c % 10) * 0.12;
      const devices: Seeded[] = [];
      const values = [];
      for (let i = 0; i < PER_COMMUNE; i++) {
        const v = i % VILLAGES;
        const id = `loa-${cc}-${String(i).padStart(3, '0')}`;
        const isLate = id === LATE.id;
        const name = isLate ? LATE.name : `Cụm loa ${LANDMARKS[Math.floor(i / VILLAGES) % 8]} Thôn ${v + 1} (${i})`;
        const online = isLate || i % 7 !== 3;
        const located = i % 25 !== 24;
        const vlat = lat0 + Math.sin(v) * 0.03;
        const vlon = lon0 + Math.cos(v) * 0.03;
        values.push(
          sql`(${id}, ${commune.id}, ${name}, 'x', 0, ${online ? 1 : 0}, ${online ? now - (i % 60) * 1000 : null},
               ${online ? '1.4.0' : null}, ${located ? vlat + Math.sin(i * 1.7) * 0.004 : null},
               ${located ? vlon + Math.cos(i * 1.3) * 0.004 : null})`,
        );
        devices.push({ id, name, communeId: commune.id, zone: zones[v]!, online, located });
      }
      await sql`INSERT INTO devices
          (id, commune_id, name, secret_hash, created_at, online, last_seen, agent_version, latitude, longitude)
        VALUES ${sql.join(values)}`.execute(tx);
      await sql`INSERT INTO device_zones (device_id, zone_id) VALUES ${sql.join(
        devices.map((d) => sql`(${d.id}, ${d.zone})`),
      )}`.execute(tx);
      seeded.push(...devices);
    }
  });
}

/** Sums the clusters' counts and the single markers on the map. */
function mapTotals(page: Page): Promise<{ clusters: number; markers: number; inClusters: number; offline: number }> {
  return page.evaluate(() => {
    const bodies = Array.from(document.querySelectorAll<HTMLElement>('.device-map .device-cluster-body'));
    return {
      clusters: bodies.length,
      markers: document.querySelectorAll('.device-map .device-marker').length,
      inClusters: bodies.reduce((sum, el) => sum + Number(el.dataset.count), 0),
      offline:
        bodies.reduce((sum, el) => sum + Number(el.dataset.offline), 0) +
        document.querySelectorAll('.device-map .device-marker.offline').length,
    };
  });
}

describe.skipIf(!hasChromium)('devices page with 15,000 loudspeakers in chromium', () => {
  let fixture: Rig;

  beforeAll(async () => {
    fixture = await startRig({ zones: [], devices: [], env: { LOAXA_MAP_TILES_URL: TILE_TEMPLATE } });
    await seed(fixture);
  }, 180_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it.each(VIEWPORTS)(
    'lists, finds, filters and maps a province (%s)',
    async (name, viewport) => {
      const { page, phone, errors, fitsPhone } = await openConsole(fixture, name, viewport, {
        username: 'tinh',
        password: PROVINCE_PASSWORD,
      });
      const server = fixture.server;
      await page.getByRole('heading', { level: 1, name: 'Tổng quan' }).waitFor();
      // No tile server here: the map draws on a plain background.
      await page.route('**/tiles/**', (route) => route.abort('internetdisconnected'));

      // ---- a fresh load straight onto the page, timed until the table of 15,000 is on screen and usable.
      const timing = await timeDevicesPage(page, `${server.url}/#/devices`, TOTAL);

      const table = page.getByRole('table', { name: /Danh sách cụm loa/ });
      const rows = table.locator('tbody tr[data-row]');
      const search = page.getByRole('searchbox', { name: 'Tìm cụm loa' });
      const status = page.getByRole('combobox', { name: 'Trạng thái' });
      const communeFilter = page.getByRole('combobox', { name: 'Xã', exact: true });
      const village = page.getByRole('combobox', { name: 'Khu vực' });
      const names = () => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('.name')!.textContent!));
      const count = page.locator('#fleet-count');

      // Typing: from the keystroke to the one matching row on screen.
      const searchMs = await page.evaluate(async () => {
        const input = document.querySelector<HTMLInputElement>('#fleet-search')!;
        const started = performance.now();
        input.value = 'xom van chai';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise<void>((resolve) => {
          const check = () =>
            document.querySelectorAll('.fleet-table tbody tr[data-row]').length === 1
              ? resolve()
              : requestAnimationFrame(check);
          check();
        });
        return Math.round(performance.now() - started);
      });
      console.log(
        `[devices ${name}, ${vi(TOTAL)} loudspeakers] table on screen and usable ${timing.interactiveMs} ms ` +
          `after navigation start (script loaded at ${timing.scriptMs} ms, session at ${timing.sessionMs} ms, ` +
          `loudspeakers fetched at ${timing.devicesMs} ms, rows in the page at ${timing.rowsMs} ms); ` +
          `main thread quiet from ${timing.quietMs} ms (longest task ${timing.longestTaskMs} ms); ` +
          `search answered in ${searchMs} ms`,
      );

      // ---- the search found the loudspeaker far down the list
      await expect.poll(() => names()).toEqual([LATE.name]);
      await expect(count.textContent()).resolves.toContain(`1/${vi(TOTAL)}`);
      await search.fill('');
      await expect.poll(() => count.textContent()).toContain(`${vi(TOTAL)}/${vi(TOTAL)}`);
      // Only the rows in view are in the page, and the late one is not among them.
      expect(await rows.count()).toBeLessThan(100);
      expect(await names()).not.toContain(LATE.name);
      // Offline first (the default order), then by name.
      expect(await rows.first().getByText(OFFLINE_PHRASE).count()).toBe(1);

      // ---- a long scroll reaches the last row (online, name last in the alphabet)
      const box = page.locator('.table-box.virtual');
      await box.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await expect.poll(() => rows.last().getAttribute('aria-rowindex'), { timeout: 10_000 }).toBe(String(TOTAL + 1));
      await expect.poll(() => names().then((list) => list.at(-1))).toBe(LATE.name);
      await box.evaluate((el) => (el.scrollTop = 0));

      // ---- filters narrow: offline; then one commune; then one of its villages
      const offline = seeded.filter((d) => !d.online);
      await status.selectOption('offline');
      await expect.poll(() => count.textContent()).toContain(`${vi(offline.length)}/${vi(TOTAL)}`);
      expect(new Set(await rows.locator('.badge').allTextContents())).toEqual(new Set([OFFLINE_PHRASE]));
      await status.selectOption('all');
      const commune = communeIds[41]!;
      await communeFilter.selectOption(commune);
      await expect.poll(() => count.textContent()).toContain(`${vi(PER_COMMUNE)}/${vi(TOTAL)}`);
      await village.selectOption({ label: 'Thôn 3' });
      await expect.poll(() => rows.count()).toBe(PER_COMMUNE / VILLAGES);
      expect((await names()).every((n) => n.includes('Thôn 3'))).toBe(true);
      await search.fill('truong hoc');
      await expect
        .poll(() => rows.count())
        .toBe(
          seeded.filter((d) => d.communeId === commune && d.zone === `x041-thon-3` && d.name.includes('Trường học'))
            .length,
        );
      await page.getByRole('button', { name: 'Bỏ lọc' }).click();
      await expect.poll(() => count.textContent()).toContain(`${vi(TOTAL)}/${vi(TOTAL)}`);

      // ---- a loudspeaker going offline reaches the table over the event stream
      const goingDown = seeded.find((d) => d.online && d.communeId === communeIds[12] && d.id.endsWith('-020'))!;
      await search.fill(goingDown.id);
      await expect.poll(() => rows.locator('.badge').allTextContents()).toEqual([ONLINE_PHRASE]);
      await server.services.registry.setOnline(goingDown.id, false);
      await expect.poll(() => rows.locator('.badge').allTextContents(), { timeout: 10_000 }).toEqual([OFFLINE_PHRASE]);
      await server.services.registry.setOnline(goingDown.id, true);
      await expect.poll(() => rows.locator('.badge').allTextContents(), { timeout: 10_000 }).toEqual([ONLINE_PHRASE]);
      await search.fill('');
      await expect.poll(() => count.textContent()).toContain(`${vi(TOTAL)}/${vi(TOTAL)}`);

      if (phone) await fitsPhone('devices table, 15,000');
      await page.evaluate(() => window.scrollTo(0, 0));
      if (!phone) await page.screenshot({ path: path.join(SCREENSHOTS, 'devices-15000-desktop.png') });

      // ---- one map of every loudspeaker: clusters whose counts add up to the located ones
      const located = seeded.filter((d) => d.located);
      const map = page.getByRole('region', { name: 'Bản đồ cụm loa' });
      const canvas = map.getByRole('region', { name: 'Bản đồ vị trí các cụm loa' });
      await map.scrollIntoViewIfNeeded();
      await expect.poll(() => canvas.getAttribute('data-tiles'), { timeout: 20_000 }).toBe('none');
      await expect
        .poll(() => mapTotals(page).then((t) => t.inClusters + t.markers), { timeout: 20_000 })
        .toBe(located.length);
      const whole = await mapTotals(page);
      expect(whole.clusters).toBeGreaterThan(0);
      expect(whole.clusters + whole.markers).toBeLessThan(500);
      expect(whole.offline).toBe(located.filter((d) => !d.online).length);
      await map.getByText(`Chưa có vị trí (${TOTAL - located.length})`).waitFor();
      // A cluster names its count and offline ones, for the eye (its label) and the screen reader.
      const biggest = await page.evaluate(() => {
        const bodies = Array.from(document.querySelectorAll<HTMLElement>('.device-map .device-cluster-body'));
        const top = bodies.sort((a, b) => Number(b.dataset.count) - Number(a.dataset.count))[0]!;
        top.closest('.device-cluster')!.id = 'biggest-cluster';
        return { count: Number(top.dataset.count), offline: Number(top.dataset.offline) };
      });
      const cluster = canvas.locator('#biggest-cluster');
      expect(await cluster.getAttribute('title')).toBe(
        `${vi(biggest.count)} cụm loa, ${vi(biggest.offline)} ngoại tuyến; bấm để phóng to`,
      );
      if (!phone) await map.screenshot({ path: path.join(SCREENSHOTS, 'map-clusters.png') });
      // A click (here Enter, as from the keyboard) zooms in: fewer loudspeakers in view, in smaller clusters.
      await cluster.focus();
      await page.keyboard.press('Enter');
      await expect
        .poll(() => mapTotals(page).then((t) => t.inClusters + t.markers), { timeout: 10_000 })
        .toBeLessThan(located.length);
      // The filters narrow the map too: offline only.
      await status.selectOption('offline');
      await expect
        .poll(() => mapTotals(page).then((t) => t.inClusters + t.markers), { timeout: 10_000 })
        .toBe(located.filter((d) => !d.online).length);
      expect((await mapTotals(page)).offline).toBe(located.filter((d) => !d.online).length);
      await status.selectOption('all');
      if (phone) await fitsPhone('devices map, 15,000');

      expect(errors).toEqual([]);
      await page.close();
    },
    240_000,
  );
});
