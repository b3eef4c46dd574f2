import { openConsole, startRig } from './web/test/e2e/rig';
const rig = await startRig({ zones: [{ id: 'z1', name: 'Thôn Đông' }], devices: [{ id: 'loa-1', name: 'Cụm loa A', zones: ['z1'] }], offlineDevices: [{ id: 'loa-2', name: 'Cụm loa B', zones: ['z1'] }] });
try {
  const { page, errors } = await openConsole(rig, 'desktop', { width: 1280, height: 900 });
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  await page.getByRole('heading', { level: 1, name: 'Tổng quan' }).waitFor();
  await page.goto('about:blank');
  await page.goto(`${rig.server.url}/#/devices`);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: '/tmp/dbg1.png', fullPage: true });
  console.log(errors, await page.evaluate(() => document.querySelectorAll('.fleet-table tbody tr').length), page.url());
} finally { await rig.close(); }
