/// <reference lib="dom" />
/**
 * How long the Devices page takes to become usable with a province's
 * loudspeakers, timed in chromium from a fresh navigation: the first frame
 * after the table's rows (all `total` of them, counted in its aria-rowcount when virtual)
 * and the search box are in the page. Long tasks are recorded too, and when
 * the script, the session and the device list arrived. Used by the province
 * devices test (printed there) and by the province benchmark (judged there),
 * so both time the same thing. No test runner here: scripts import it.
 */
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

interface Timing {
  rows: number;
  painted: number;
  longTasks: { start: number; end: number }[];
}

export interface DevicesPageTiming {
  /** Navigation start → the first frame with the rows and the search box. */
  interactiveMs: number;
  /** When the rows went into the page. */
  rowsMs: number;
  /** The end of the last long task within 2 s after that frame (the map, the zones). */
  quietMs: number;
  longestTaskMs: number;
  /** When the console's script, the session and GET /devices had arrived (−1: not seen). */
  scriptMs: number;
  sessionMs: number;
  devicesMs: number;
}

/**
 * Opens `url` (the console's #/devices) in `page`, whose session is signed in,
 * and times it. Call with a page that has already loaded the console once if
 * the browser cache should be warm, as for an officer opening it again.
 */
export async function timeDevicesPage(page: Page, url: string, total: number): Promise<DevicesPageTiming> {
  await page.addInitScript((count: number) => {
    const timing: Timing = { rows: 0, painted: 0, longTasks: [] };
    (window as unknown as { fleetTiming: Timing }).fleetTiming = timing;
    try {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          timing.longTasks.push({ start: entry.startTime, end: entry.startTime + entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      // No long task timing in this browser.
    }
    const observer = new MutationObserver(() => {
      // A long list is virtual (its length in aria-rowcount, a header row included); a short one is all there.
      const table = document.querySelector('.fleet-table');
      if (!table || !document.querySelector('#fleet-search')) return;
      const rows = table.querySelectorAll('tbody tr[data-row]').length;
      const listed = table.hasAttribute('aria-rowcount') ? Number(table.getAttribute('aria-rowcount')) - 1 : rows;
      if (rows === 0 || listed !== count) return;
      observer.disconnect();
      timing.rows = performance.now();
      requestAnimationFrame(() => setTimeout(() => (timing.painted = performance.now())));
    });
    observer.observe(document, { childList: true, subtree: true });
  }, total);
  await page.goto('about:blank');
  await page.goto(url);
  try {
    await page.waitForFunction(
      () => (window as unknown as { fleetTiming: Timing }).fleetTiming.painted > 0,
      undefined,
      {
        timeout: 60_000,
      },
    );
  } catch (cause) {
    // Say what the page showed instead: a sign-in form, another heading, fewer rows.
    const seen = await page.evaluate(() => ({
      heading: document.querySelector('h1')?.textContent ?? null,
      rowcount: document.querySelector('.fleet-table')?.getAttribute('aria-rowcount') ?? null,
    }));
    throw new Error(
      `the Devices page did not show ${total} loudspeakers: heading ${JSON.stringify(seen.heading)}, ` +
        `table rows ${JSON.stringify(seen.rowcount)}`,
      { cause },
    );
  }
  // Two seconds on, whatever the page still did after the table has shown up as long tasks.
  await page.waitForTimeout(2_000);
  const timing = (await page.evaluate(() => (window as unknown as { fleetTiming: Timing }).fleetTiming)) as Timing;
  // (No named functions inside evaluate: tsx's name helper does not exist in the page.)
  const [script, session, devices] = await page.evaluate(
    (parts: string[]) => {
      const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return parts.map((part) => Math.round(entries.find((entry) => entry.name.includes(part))?.responseEnd ?? -1));
    },
    ['/assets/index-', '/api/v1/session', '/api/v1/devices'],
  );
  const answered = { script: script!, session: session!, devices: devices! };
  const busyAfter = timing.longTasks.filter((t) => t.end > timing.painted);
  return {
    interactiveMs: Math.round(timing.painted),
    rowsMs: Math.round(timing.rows),
    quietMs: Math.round(Math.max(timing.painted, ...busyAfter.map((t) => t.end))),
    longestTaskMs: Math.round(Math.max(0, ...timing.longTasks.map((t) => t.end - t.start))),
    scriptMs: answered.script,
    sessionMs: answered.session,
    devicesMs: answered.devices,
  };
}
