/// <reference lib="dom" />
/**
 * The pieces a console browser test stands on: the real server with zones and
 * simulated loudspeakers, a headless chromium, and a signed-in page on a
 * desktop or a 360 px phone with the menu, a "fits the phone" check and a
 * list of page errors.
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import { requireTool } from '../../../scripts/test/require-tool';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startSimFleet } from '@loaxa/firmware-sim';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../../server/test/helpers';

import { CHROMIUM, CHROMIUM_ARGS } from './devices-page-timing';

export { CHROMIUM, CHROMIUM_ARGS };
/** Whether chromium is there; a test file asks through requireTool (scripts/test/require-tool.ts). */
export const chromiumFound = fs.existsSync(CHROMIUM);

/** Whether a browser test file may run: skips with a printed reason, or fails under LOAXA_REQUIRE_ALL=1. */
export function requireChromium(skips: string): boolean {
  return requireTool({
    tool: 'chromium',
    found: chromiumFound,
    install: `apt-get install chromium, or set CHROMIUM_PATH (looked for ${CHROMIUM})`,
    skips,
  });
}

export const VIEWPORTS = [
  ['desktop', { width: 1280, height: 900 }],
  ['phone', { width: 360, height: 740 }],
] as const;
export type ViewportName = (typeof VIEWPORTS)[number][0];

export interface RigDevice {
  id: string;
  name: string;
  zones: string[];
}

export interface Rig {
  server: TestServer;
  browser: Browser;
  /** The simulated loudspeakers (their live sound cards, with `liveAudioKeepMs`). */
  fleet: Awaited<ReturnType<typeof startSimFleet>>;
  close(): Promise<void>;
}

/**
 * Starts the server (with `env`), creates `zones` and `devices`, brings the
 * simulated loudspeakers online and launches chromium with `browserArgs` added.
 * `offlineDevices` are registered but never connect (a loudspeaker not installed yet, or dead).
 */
export async function startRig(options: {
  zones: { id: string; name: string }[];
  devices: RigDevice[];
  offlineDevices?: RigDevice[];
  env?: Record<string, string>;
  browserArgs?: string[];
  /** Live audio the loudspeakers' virtual sound cards keep, ms (to find when clicks sounded). */
  liveAudioKeepMs?: number;
}): Promise<Rig> {
  const server = await startTestServer(options.env);
  // Everything of the rig belongs to the install's first commune, the one `admin` runs.
  const communeId = server.services.communes.defaultId();
  for (const zone of options.zones) await server.services.registry.createZone(zone.name, communeId, zone.id);
  const credentials = await Promise.all(
    options.devices.map(async (d) => ({
      deviceId: d.id,
      secret: (await server.services.registry.createDevice({ ...d, communeId })).secret,
    })),
  );
  for (const device of options.offlineDevices ?? [])
    await server.services.registry.createDevice({ ...device, communeId });
  const fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices: credentials,
    ...(options.liveAudioKeepMs ? { liveAudioKeepMs: options.liveAudioKeepMs } : {}),
  });
  // A commune's worth of loudspeakers (150) connects in batches: allow for it.
  await fleet.waitOnline(Math.max(10_000, credentials.length * 150));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...(options.browserArgs ?? [])],
  });
  return {
    server,
    browser,
    fleet,
    async close() {
      await browser.close();
      await fleet.stop();
      await server.close();
    },
  };
}

export interface ConsolePage {
  page: Page;
  phone: boolean;
  /** Uncaught errors in the page; a test ends by expecting none. */
  errors: string[];
  /** Opens a page from the menu (through the phone's menu button) and waits for its heading. */
  go(label: string): Promise<void>;
  /** Nothing on the page is wider than the phone (wide tables scroll inside a `.scroll` box). */
  fitsPhone(where: string): Promise<void>;
}

/** Nothing on the page is wider than `width` (wide tables scroll inside their own `.scroll` box). */
export async function expectFitsWidth(page: Page, where: string, width: number): Promise<void> {
  const wide = await page.evaluate(() =>
    Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      // Wide tables scroll in their .scroll box; a Leaflet map clips its own panes (overflow: hidden).
      .filter((el) => !el.closest('.scroll, .leaflet-container'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')}`),
  );
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect({ where, wide, scrollWidth }).toEqual({ where, wide: [], scrollWidth: width });
}

/** A new page, signed in (as admin unless `as` says who), in Vietnamese, in the commune's time zone. */
export async function openConsole(
  rig: Rig,
  name: ViewportName,
  viewport: { width: number; height: number },
  as: { username: string; password: string } = { username: 'admin', password: ADMIN_PASSWORD },
): Promise<ConsolePage> {
  const phone = name === 'phone';
  const page = await rig.browser.newPage({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));

  const fitsPhone = (where: string) => expectFitsWidth(page, where, viewport.width);

  const go = async (label: string): Promise<void> => {
    if (phone) await page.getByRole('button', { name: /Menu/ }).click();
    await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: label }).waitFor();
    if (phone) await fitsPhone(label);
  };

  await page.goto(rig.server.url);
  await page.getByLabel('Tên đăng nhập').fill(as.username);
  await page.getByLabel('Mật khẩu').fill(as.password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { page, phone, errors, go, fitsPhone };
}
