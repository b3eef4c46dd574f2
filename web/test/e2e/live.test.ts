/// <reference lib="dom" />
/**
 * Live broadcast in a real browser (chromium), against the real server and a
 * simulated loudspeaker: chromium's fake microphone plays a WAV made here
 * (48 kHz mono, a 1 kHz click every 500 ms). On a 360 px phone an admin goes
 * live to one zone for about 3 s: the page shows it on air with a level
 * meter that moves with the clicks, then "Kết thúc". The server received the
 * 20 ms Opus packets (≥ 100), ended the session as stopped and kept a
 * recording of ≥ 2.5 s, which the page offers to hear again. Chromium's
 * WebCodecs Opus encoder is needed (the page names it); without it the test
 * says so and skips. Without WebCodecs at all: live-wasm.test.ts. A
 * province officer picks zones of two communes from one list per commune
 * and stays on air when one commune's leader cuts her off there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVINCE_PASSWORD, signIn, signInProvince } from '../../../server/test/helpers';
import { skipForEnvironment } from '../../../scripts/test/require-tool';
import { fakeMicrophone } from './clicks-wav';
import { openConsole, requireChromium, startRig, VIEWPORTS, type Rig } from './rig';

const hasChromium = requireChromium('live broadcast browser test');
const PHONE = VIEWPORTS.find(([name]) => name === 'phone')![1];

describe.skipIf(!hasChromium)('live broadcast page in chromium', () => {
  let rig: Rig;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-live-'));
    rig = await startRig({
      zones: [
        { id: 'thon-dong', name: 'Thôn Đông' },
        { id: 'thon-tay', name: 'Thôn Tây' },
      ],
      devices: [
        { id: 'loa-dong', name: 'Cụm loa Đông', zones: ['thon-dong'] },
        { id: 'loa-tay', name: 'Cụm loa Tây', zones: ['thon-tay'] },
      ],
      liveAudioKeepMs: 60_000,
      browserArgs: fakeMicrophone(dir),
    });
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('goes live for 3 s on a phone: on air, a moving meter, ended as stopped with a recording', async (ctx) => {
    const { page, errors, go, fitsPhone } = await openConsole(rig, 'phone', PHONE);
    // The size of every packet the page sends on the audio socket, and the microphone's tracks.
    await page.evaluate(() => {
      const seen = { sizes: [] as number[], tracks: [] as MediaStreamTrack[] };
      (window as unknown as { liveSeen: typeof seen }).liveSeen = seen;
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data) {
        if (data instanceof Uint8Array || data instanceof ArrayBuffer) seen.sizes.push(data.byteLength);
        send.call(this, data);
      };
      const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await getUserMedia(constraints);
        seen.tracks.push(...stream.getTracks());
        return stream;
      };
    });
    await go('Phát trực tiếp');

    const opus = await page.evaluate(async () =>
      typeof AudioEncoder === 'undefined'
        ? 'no AudioEncoder'
        : (
              await AudioEncoder.isConfigSupported({
                codec: 'opus',
                sampleRate: 48_000,
                numberOfChannels: 1,
                bitrate: 24_000,
                opus: { frameDuration: 20_000, complexity: 5, useinbandfec: true, packetlossperc: 10, format: 'opus' },
              })
            ).supported
          ? 'ok'
          : 'Opus not supported by AudioEncoder',
    );
    if (opus !== 'ok') {
      await page.getByRole('heading', { name: 'Trình duyệt này chưa phát trực tiếp được' }).waitFor();
      skipForEnvironment(ctx, `live broadcast browser test: this chromium cannot encode Opus (${opus})`);
    }
    // The page says which encoder it uses: chromium's own.
    await page.locator('p.encoder').getByText('Bộ mã hóa: WebCodecs').waitFor();

    await page.getByRole('checkbox', { name: /Thôn Đông/ }).check();
    await page.getByLabel('Tiêu đề (không bắt buộc)').fill('Thông báo họp thôn');
    await fitsPhone('live form');
    await page.getByRole('button', { name: 'Bắt đầu phát' }).click();

    await page.getByRole('heading', { name: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    const panel = page.locator('section.on-air');
    const sessionId = (await panel.getAttribute('data-session'))!;
    expect(sessionId).toBeTruthy();
    await panel.getByText('Thôn Đông (1 cụm loa)').waitFor();
    await panel.getByText(/đeo tai nghe/).waitFor();
    await fitsPhone('on air');

    // The meter follows the clicks: sampled every 50 ms for 2.5 s it rises and falls.
    const meter = page.getByRole('meter', { name: 'Mức âm micrô' });
    const levels: number[] = [];
    for (let i = 0; i < 50; i++) {
      levels.push(Number(await meter.getAttribute('aria-valuenow')));
      await page.waitForTimeout(50);
    }
    expect(Math.max(...levels)).toBeGreaterThan(40);
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(20);
    expect(new Set(levels).size).toBeGreaterThan(5);

    // At least 3 s on air in all, counted by the page ("0:03").
    const seconds = async () => Number((await panel.locator('.elapsed').textContent())?.split(':')[1]);
    await expect.poll(seconds, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(Number(await panel.locator('.frames').getAttribute('data-frames'))).toBeGreaterThanOrEqual(100);
    await page.getByRole('button', { name: 'Kết thúc' }).click();

    const ended = page.locator('section.ended');
    await ended.getByRole('heading', { name: 'Buổi phát trực tiếp đã kết thúc' }).waitFor({ timeout: 10_000 });
    await ended.getByText('Bạn đã kết thúc buổi phát.').waitFor();
    expect(await ended.getAttribute('data-reason')).toBe('stopped');
    // The microphone is released: every track the page opened has ended.
    const tracks = () =>
      page.evaluate(() =>
        (window as unknown as { liveSeen: { tracks: MediaStreamTrack[] } }).liveSeen.tracks.map((t) => t.readyState),
      );
    expect(await tracks()).toEqual(['ended']);

    const session = await rig.server.services.live.get({ communeId: null }, sessionId);
    expect(session.endReason).toBe('stopped');
    expect(session.endedBy).toBe('admin');
    expect(session.frames).toBeGreaterThanOrEqual(100);
    expect(session.recording?.durationMs ?? 0).toBeGreaterThanOrEqual(2_500);
    expect(await ended.locator('audio').getAttribute('src')).toBe(session.recording!.url);
    expect(await ended.getByRole('link', { name: 'Xem kết quả phát' }).getAttribute('href')).toContain(
      encodeURIComponent(session.occurrenceId!),
    );
    await fitsPhone('ended');

    // One message per 20 ms Opus packet, each a few dozen bytes at 24 kbit/s.
    const sizes = await page.evaluate(() => (window as unknown as { liveSeen: { sizes: number[] } }).liveSeen.sizes);
    expect(sizes.length).toBeGreaterThanOrEqual(session.frames);
    expect(Math.max(...sizes)).toBeLessThan(400);
    if (process.env.LOAXA_LIVE_STATS) {
      const sorted = [...sizes].sort((a, b) => a - b);
      console.info(
        `live packets: ${sizes.length}, bytes min ${sorted[0]} median ${sorted[sorted.length >> 1]} max ${sorted.at(-1)}; ` +
          `server frames ${session.frames}, recording ${session.recording?.durationMs} ms`,
      );
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a leader live to Thôn Đông: its loudspeaker sounds the clicks, Thôn Tây stays silent; another leader’s emergency cuts in', async (ctx) => {
    const { page, errors, go } = await openConsole(rig, 'desktop', VIEWPORTS.find(([n]) => n === 'desktop')![1]);
    await go('Phát trực tiếp');
    if (await page.getByRole('heading', { name: 'Trình duyệt này chưa phát trực tiếp được' }).count()) {
      skipForEnvironment(ctx, 'live broadcast browser test: this chromium cannot encode Opus');
    }
    const heardBefore = rig.fleet.liveCards.get('loa-dong')?.length ?? 0;
    await page.getByRole('checkbox', { name: /Thôn Đông/ }).check();
    await page.getByLabel('Tiêu đề (không bắt buộc)').fill('Họp khẩn');
    await page.getByRole('button', { name: 'Bắt đầu phát' }).click();
    await page.getByRole('heading', { name: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    const sessionId = (await page.locator('section.on-air').getAttribute('data-session'))!;
    const panel = page.locator('section.on-air');
    const seconds = async () => Number((await panel.locator('.elapsed').textContent())?.split(':')[1]);
    await expect.poll(seconds, { timeout: 8_000 }).toBeGreaterThanOrEqual(3);

    // Another leader goes live to the same zone as an emergency: the first session is cut off.
    const leader = { username: 'pho-chu-tich', password: 'mat-khau-lanh-dao-2', role: 'approver' };
    expect((await rig.server.api('POST', '/api/v1/users', leader)).status).toBe(201);
    const other = await signIn(rig.server, leader.username, leader.password);
    const emergency = await other<{ id: string; revision: number }>('POST', '/api/v1/live', {
      zones: ['thon-dong'],
      priority: 'emergency',
      title: 'Lũ về',
    });
    expect(emergency.status).toBe(201);
    const ended = page.locator('section.ended');
    await ended.getByRole('heading', { name: 'Buổi phát trực tiếp đã kết thúc' }).waitFor({ timeout: 10_000 });
    expect(await ended.getAttribute('data-reason')).toBe('preempted');
    await ended.getByText('Buổi phát đã bị ngắt để phát một tin khẩn cấp.').waitFor();
    await other('POST', `/api/v1/live/${emergency.body.id}/stop`, { revision: emergency.body.revision });

    // What the loudspeaker of Thôn Đông sounded: the fake microphone's clicks, one every 500 ms.
    const card = rig.fleet.liveCards.get('loa-dong')![heardBefore]!;
    const onsets = card.onsets(2_000, 200);
    expect(onsets.length).toBeGreaterThanOrEqual(4);
    const gaps = onsets.slice(1).map((t, i) => t - onsets[i]!);
    expect(gaps.filter((g) => Math.abs(g - 500) <= 30).length).toBeGreaterThanOrEqual(3);
    expect(rig.fleet.liveCards.get('loa-tay') ?? []).toEqual([]);

    // The record: the session is a broadcast in the deliveries, with its loudspeaker and its recording.
    const session = await rig.server.services.live.get({ communeId: null }, sessionId);
    expect(session.endReason).toBe('preempted');
    const occurrence = await rig.server.api<{ deliveries: { deviceId: string; stage: string }[]; title: string }>(
      'GET',
      `/api/v1/occurrences/${session.occurrenceId}`,
    );
    expect(occurrence.body.title).toBe('Họp khẩn');
    expect(occurrence.body.deliveries.map((d) => d.deviceId)).toEqual(['loa-dong']);
    expect(['preempted', 'finished']).toContain(occurrence.body.deliveries[0]!.stage);
    expect(session.recording?.durationMs ?? 0).toBeGreaterThanOrEqual(2_500);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
  it('a province officer live to zones of two communes: one voice; one commune’s emergency cuts its part only', async (ctx) => {
    const { services } = rig.server;
    const home = (await services.communes.get({ communeId: null }, services.communes.defaultId()))!;
    const other = await services.communes.create('Xã Tân Lập');
    await services.registry.createZone('Thôn Bắc', other.id, 'thon-bac');
    await services.registry.createDevice({ id: 'loa-bac', zones: ['thon-bac'], communeId: other.id });
    const province = await signInProvince(rig.server);
    const leader = {
      username: 'chu-tich-tan-lap',
      password: 'mat-khau-tan-lap-1',
      role: 'approver',
      commune: other.id,
    };
    expect((await province('POST', '/api/v1/users', leader)).status).toBe(201);

    const { page, errors, go } = await openConsole(rig, 'desktop', VIEWPORTS.find(([n]) => n === 'desktop')![1], {
      username: 'tinh',
      password: PROVINCE_PASSWORD,
    });
    await go('Phát trực tiếp');
    if (await page.getByRole('heading', { name: 'Trình duyệt này chưa phát trực tiếp được' }).count()) {
      skipForEnvironment(ctx, 'live broadcast browser test: this chromium cannot encode Opus');
    }
    // The whole province in view: a list of zones per commune, no commune to pick first.
    const lists = page.getByTestId('live-communes');
    await lists
      .getByRole('group', { name: home.name })
      .getByRole('checkbox', { name: /Thôn Đông/ })
      .check();
    await lists
      .getByRole('group', { name: 'Xã Tân Lập' })
      .getByRole('checkbox', { name: /Thôn Bắc/ })
      .check();
    await page.getByRole('button', { name: 'Bắt đầu phát' }).click();
    await page.getByRole('heading', { name: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    const panel = page.locator('section.on-air');
    // Her sessions, one per commune, the first answered to her and the other its group.
    const leadId = (await panel.getAttribute('data-session'))!;
    const lead = await services.live.get({ communeId: null }, leadId);
    const parts = [lead, ...lead.group];
    expect(parts.map((part) => part.communeId).sort()).toEqual([home.id, other.id].sort());
    const names = parts.map((part) => (part.communeId === home.id ? home.name : 'Xã Tân Lập')).join(', ');
    await panel.getByText(`Đang phát tại 2 xã: ${names}`).waitFor();
    await panel.getByText(/^Tại: Thôn (Đông|Bắc), Thôn (Đông|Bắc) \(2 cụm loa\)$/).waitFor();
    const otherId = parts.find((part) => part.communeId === other.id)!.id;
    const seconds = async () => Number((await panel.locator('.elapsed').textContent())?.split(':')[1]);
    await expect.poll(seconds, { timeout: 8_000 }).toBeGreaterThanOrEqual(2);

    // Tân Lập's leader goes live as an emergency in Thôn Bắc: only Tân Lập's part ends; she stays on air.
    const tanLap = await signIn(rig.server, leader.username, leader.password);
    const emergency = await tanLap<{ id: string; revision: number }>('POST', '/api/v1/live', {
      zones: ['thon-bac'],
      priority: 'emergency',
    });
    expect(emergency.status).toBe(201);
    await panel.getByText('Đã dừng tại Xã Tân Lập: bị ngắt để phát tin khẩn cấp').waitFor({ timeout: 10_000 });
    await panel.getByText(`Đang phát tại 1 xã: ${home.name}`).waitFor();
    expect(await page.getByRole('heading', { name: 'ĐANG PHÁT TRỰC TIẾP' }).count()).toBe(1);
    await tanLap('POST', `/api/v1/live/${emergency.body.id}/stop`, { revision: emergency.body.revision });

    await page.getByRole('button', { name: 'Kết thúc' }).click();
    const ended = page.locator('section.ended');
    await ended.getByRole('heading', { name: 'Buổi phát trực tiếp đã kết thúc' }).waitFor({ timeout: 10_000 });
    expect(await ended.getAttribute('data-reason')).toBe('stopped');
    await ended.getByText('Bạn đã kết thúc buổi phát.').waitFor();
    const homeId = parts.find((part) => part.communeId === home.id)!.id;
    const done = await services.live.get({ communeId: home.id }, homeId);
    expect(done).toMatchObject({ endReason: 'stopped', endedBy: 'tinh' });
    const cut = await services.live.get({ communeId: other.id }, otherId);
    expect(cut).toMatchObject({ endReason: 'preempted' });
    // One recording of everything she said is both communes' record.
    expect(done.recording?.durationMs ?? 0).toBeGreaterThanOrEqual(2_000);
    expect(cut.recording).toEqual(done.recording);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
