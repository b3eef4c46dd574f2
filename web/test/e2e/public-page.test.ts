/// <reference lib="dom" />
/**
 * The villagers' public page in a real browser (chromium) on a 360 px phone
 * over an emulated slow 3G link, against the real server and simulated
 * loudspeakers: a notice that aired shows and its audio plays, the first view
 * stays within 50 KB on the wire (audio aside), axe-core finds no serious
 * accessibility problem, and a private notice and one not yet aired are absent.
 * With LOAXA_SCREENSHOTS=1 it refreshes docs/screenshots/public-page.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../server/test/helpers';
import { requireChromium, startRig, type Rig } from './rig';

const hasChromium = requireChromium('public page browser tests');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS
  ? path.resolve(import.meta.dirname, '../../../docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-shots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

const PHONE = { width: 360, height: 740 };
/** DevTools' "Slow 3G": 2 s round trips, 400 kbit/s down, 400 kbit/s up. */
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50_000, uploadThroughput: 50_000 };
const BUDGET_BYTES = 50 * 1024;

const AIRED = 'Thông báo: từ ngày 10 đến 15 tháng này, trạm y tế tiêm vắc-xin sởi cho trẻ dưới 5 tuổi.';
const PRIVATE = 'Nội bộ: danh sách hộ nghèo cần rà soát lại trước thứ Sáu.';
const LATER = 'Thông báo lịch nghỉ Tết của ủy ban xã.';

describe.skipIf(!hasChromium)('the public page on a phone over slow 3G', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      zones: [{ id: 'thon-1', name: 'Thôn 1' }],
      devices: [{ id: 'loa-thon-1', name: 'Loa đầu cầu', zones: ['thon-1'] }],
      browserArgs: ['--autoplay-policy=no-user-gesture-required'],
      // The address villagers use: the page shows the podcast's address under it.
      env: { LOAXA_PUBLIC_URL: 'https://loa.dongson.gov.vn' },
    });
    const { api, services } = rig.server;
    const commune = (await services.communes.get({ communeId: null }, 'default'))!;
    await services.communes.update('default', { name: 'Xã Đông Sơn' }, commune.revision);
    const contact = { publicPage: { contact: 'UBND xã Đông Sơn · 0209 3888 123' } };
    expect((await api('PUT', '/api/v1/settings', contact)).status).toBe(200);
    const send = async (body: Record<string, unknown>) => {
      const res = await api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', body);
      expect(res.status).toBe(201);
      return res.body.occurrenceId;
    };
    for (const id of [
      await send({ text: AIRED, zones: 'all' }),
      await send({ text: PRIVATE, zones: 'all', public: false }),
    ]) {
      await waitFor(
        `broadcast ${id} to finish`,
        async () => {
          const { body } = await api<{ deliveries: { stage: string }[] }>('GET', `/api/v1/occurrences/${id}`);
          return body.deliveries.every((d) => d.stage === 'finished');
        },
        60_000,
      );
    }
    await send({ text: LATER, zones: 'all', at: new Date(Date.now() + 3600_000).toISOString() });
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('shows the aired notice, plays it, fits the budget and passes axe-core', async () => {
    // bypassCSP: the page allows no script; axe-core is injected by the test.
    const context = await rig.browser.newContext({ viewport: PHONE, locale: 'vi-VN', bypassCSP: true });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
    const wire = new Map<string, { url: string; bytes: number }>();
    cdp.on('Network.requestWillBeSent', (e) => wire.set(e.requestId, { url: e.request.url, bytes: 0 }));
    cdp.on('Network.loadingFinished', (e) => {
      const entry = wire.get(e.requestId);
      if (entry) entry.bytes = e.encodedDataLength;
    });

    await page.goto(`${rig.server.url}/public/`, { waitUntil: 'load', timeout: 60_000 });
    await page.getByRole('heading', { level: 1 }).waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain('trạm y tế tiêm vắc-xin sởi');
    expect(text).toContain('Thôn 1');
    expect(text).not.toContain('hộ nghèo');
    expect(text).not.toContain('nghỉ Tết');
    expect(text).not.toContain('Loa đầu cầu');

    // The first view on the wire: everything loaded so far (audio waits for a press: preload="none").
    const firstView = [...wire.values()];
    expect(firstView.filter((r) => /\/audio\//.test(r.url))).toEqual([]);
    const bytes = firstView.reduce((sum, r) => sum + r.bytes, 0);
    expect(bytes).toBeGreaterThan(500);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    console.log(`public page, first view on the wire: ${bytes} bytes (budget ${BUDGET_BYTES})`);
    expect(text).toContain('https://loa.dongson.gov.vn/public/default/podcast.xml');
    expect(text).toContain('UBND xã Đông Sơn · 0209 3888 123');

    // Nothing wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(PHONE.width);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'public-page.png'), fullPage: true });

    // axe-core: no serious or critical violation.
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await (
        window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }
      ).axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

    // The audio plays (it downloads over the same slow link).
    const audio = page.getByLabel(/^Nghe: Thông báo: từ ngày 10/);
    await audio.evaluate((el: HTMLAudioElement) => el.play());
    await waitFor(
      'the notice to play half a second',
      () => audio.evaluate((el: HTMLAudioElement) => !el.paused && el.currentTime > 0.5 && el.error === null),
      60_000,
      200,
    );
    await context.close();
  }, 120_000);
});
