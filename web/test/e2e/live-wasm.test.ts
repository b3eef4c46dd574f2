/// <reference lib="dom" />
/**
 * Live broadcast in a browser without WebCodecs: chromium with AudioEncoder
 * and AudioData deleted before the console loads, as in an older Firefox or
 * Safari. The live page says it encodes with WASM (libopus in a worker) and an
 * admin on a 360 px phone still goes live for about 3 s with chromium's fake
 * microphone (a 20 ms 1 kHz click every 500 ms, as in live.test.ts). The
 * server took real Opus: its recording of the session decodes with ffmpeg to
 * as long as the session, with the clicks 500 ms apart and 1 kHz in them, and
 * the encoder's worker is gone once the session ends.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../../server/src/audio/ffmpeg';
import { ADMIN_PASSWORD } from '../../../server/test/helpers';
import { fakeMicrophone } from './clicks-wav';
import { openConsole, requireChromium, startRig, VIEWPORTS, type Rig } from './rig';

const hasChromium = requireChromium('live broadcast (WASM encoder) browser test');
const PHONE = VIEWPORTS.find(([name]) => name === 'phone')![1];
const RATE = 48_000;

/**
 * An Ogg Opus file as 48 kHz mono samples, decoded by ffmpeg with libopus: the
 * static ffmpeg's own Opus decoder (2018) fails on SILK frames that carry an
 * in-band FEC copy, which every packet of ours may.
 */
function decodeOgg(file: string): Int16Array {
  const raw = execFileSync(
    resolveFfmpeg().path,
    ['-hide_banner', '-loglevel', 'error', '-c:a', 'libopus', '-i', file].concat([
      '-f',
      's16le',
      '-ac',
      '1',
      '-ar',
      String(RATE),
      'pipe:1',
    ]),
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
}

/** Where sound starts after at least `quietMs` below `threshold`, ms from the start. */
function onsets(pcm: Int16Array, threshold: number, quietMs: number): number[] {
  const found: number[] = [];
  let lastLoud = -Infinity;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i]!) < threshold) continue;
    const at = (i / RATE) * 1000;
    if (at - lastLoud >= quietMs) found.push(at);
    lastLoud = at;
  }
  return found;
}

/** The share of a stretch's power at `hz`. */
function toneShare(pcm: Int16Array, hz: number): number {
  let c = 0;
  let s = 0;
  let power = 0;
  for (let i = 0; i < pcm.length; i++) {
    const w = (2 * Math.PI * hz * i) / RATE;
    c += pcm[i]! * Math.cos(w);
    s += pcm[i]! * Math.sin(w);
    power += pcm[i]! * pcm[i]!;
  }
  const amplitude = (2 * Math.hypot(c, s)) / pcm.length;
  return power > 0 ? (amplitude * amplitude) / 2 / (power / pcm.length) : 0;
}

describe.skipIf(!hasChromium)('live broadcast page in chromium without WebCodecs', () => {
  let rig: Rig;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-live-wasm-'));
    rig = await startRig({
      zones: [{ id: 'thon-dong', name: 'Thôn Đông' }],
      devices: [{ id: 'loa-dong', name: 'Cụm loa Đông', zones: ['thon-dong'] }],
      browserArgs: fakeMicrophone(dir),
    });
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('goes live for 3 s with the WASM encoder: the page says so, and the recording decodes to the clicks', async () => {
    const { page, errors, go, fitsPhone } = await openConsole(rig, 'phone', PHONE);
    // WebCodecs gone before the console's script runs: the page is loaded again.
    await page.addInitScript(() => {
      const scope = window as unknown as Record<string, unknown>;
      delete scope.AudioEncoder;
      delete scope.AudioData;
    });
    await page.reload();
    // The reload shows the console again, or (seen on some runs) the sign-in form: then sign in again.
    const login = page.getByLabel('Tên đăng nhập');
    await login
      .or(page.getByRole('heading', { level: 1 }))
      .first()
      .waitFor();
    if (await login.isVisible()) {
      await login.fill('admin');
      await page.getByLabel('Mật khẩu').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
    }
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.evaluate(() => typeof AudioEncoder + ' ' + typeof AudioData)).toBe('undefined undefined');
    // The size of every packet the page sends on the audio socket.
    await page.evaluate(() => {
      const sizes: number[] = [];
      (window as unknown as { liveSizes: number[] }).liveSizes = sizes;
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data) {
        if (data instanceof Uint8Array || data instanceof ArrayBuffer) sizes.push(data.byteLength);
        send.call(this, data);
      };
    });
    await go('Phát trực tiếp');

    const note = page.locator('p.encoder');
    await note.getByText('Bộ mã hóa: WASM (trình duyệt không có WebCodecs)').waitFor({ timeout: 30_000 });
    expect(await note.getAttribute('data-encoder')).toBe('wasm');
    await page.getByRole('checkbox', { name: /Thôn Đông/ }).check();
    await page.getByLabel('Tiêu đề (không bắt buộc)').fill('Thông báo không WebCodecs');
    await fitsPhone('live form, WASM encoder');
    await page.getByRole('button', { name: 'Bắt đầu phát' }).click();

    await page.getByRole('heading', { name: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    const panel = page.locator('section.on-air');
    const sessionId = (await panel.getAttribute('data-session'))!;
    await note.getByText(/WASM/).waitFor();
    await fitsPhone('on air, WASM encoder');
    const opusWorkers = () => page.workers().filter((worker) => /opus-worker/.test(worker.url())).length;
    expect(opusWorkers()).toBe(1);

    // The meter moves with the clicks, as with WebCodecs.
    const meter = page.getByRole('meter', { name: 'Mức âm micrô' });
    const levels: number[] = [];
    for (let i = 0; i < 30; i++) {
      levels.push(Number(await meter.getAttribute('aria-valuenow')));
      await page.waitForTimeout(50);
    }
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(20);

    const seconds = async () => Number((await panel.locator('.elapsed').textContent())?.split(':')[1]);
    await expect.poll(seconds, { timeout: 8_000 }).toBeGreaterThanOrEqual(3);
    expect(Number(await panel.locator('.frames').getAttribute('data-frames'))).toBeGreaterThanOrEqual(100);
    await page.getByRole('button', { name: 'Kết thúc' }).click();

    const ended = page.locator('section.ended');
    await ended.getByRole('heading', { name: 'Buổi phát trực tiếp đã kết thúc' }).waitFor({ timeout: 10_000 });
    expect(await ended.getAttribute('data-reason')).toBe('stopped');
    // The encoder's worker ends with the capture.
    await expect.poll(opusWorkers, { timeout: 5_000 }).toBe(0);

    const session = await rig.server.services.live.get({ communeId: null }, sessionId);
    expect(session.endReason).toBe('stopped');
    expect(session.frames).toBeGreaterThanOrEqual(100);
    expect(session.recording?.durationMs ?? 0).toBeGreaterThanOrEqual(2_500);

    // One message per packet: a few bytes between clicks, a few dozen on them, at most 24 kbit/s or so.
    const sizes = await page.evaluate(() => (window as unknown as { liveSizes: number[] }).liveSizes);
    expect(sizes.length).toBeGreaterThanOrEqual(session.frames);
    const sorted = [...sizes].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThan(0);
    expect(sorted.at(-1)).toBeGreaterThan(30);
    expect(sorted.at(-1)).toBeLessThan(400);
    expect((sizes.reduce((sum, n) => sum + n, 0) * 8) / (sizes.length * 0.02)).toBeLessThan(32_000);

    // The recording, as the officer's browser downloads it, decodes to the session's length of clicks.
    const download = await page.request.get(new URL(session.recording!.url, rig.server.url).href);
    expect(download.status()).toBe(200);
    const file = path.join(dir, 'recording.ogg');
    fs.writeFileSync(file, await download.body());
    const pcm = decodeOgg(file);
    const durationMs = (pcm.length / RATE) * 1000;
    expect(Math.abs(durationMs - session.frames * 20)).toBeLessThan(200);
    expect(Math.abs(durationMs - session.recording!.durationMs)).toBeLessThan(200);
    const peak = pcm.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(4_000);
    const heard = onsets(pcm, 2_000, 200);
    const gaps = heard.slice(1).map((t, i) => t - heard[i]!);
    expect(heard.length).toBeGreaterThanOrEqual(5);
    expect(gaps.filter((g) => Math.abs(g - 500) <= 30).length).toBeGreaterThanOrEqual(4);
    // Each click is the fake microphone's 1 kHz, not noise.
    const clicks = heard.map((at) =>
      pcm.subarray(Math.round((at / 1000) * RATE), Math.round((at / 1000 + 0.02) * RATE)),
    );
    const tonal = clicks.filter((click) => toneShare(click, 1000) > 0.5).length;
    expect(tonal).toBeGreaterThanOrEqual(Math.ceil(clicks.length * 0.8));
    if (process.env.LOAXA_LIVE_STATS) {
      console.info(
        `WASM live: ${sizes.length} packets, bytes median ${sorted[sorted.length >> 1]} max ${sorted.at(-1)}; ` +
          `recording ${Math.round(durationMs)} ms, peak ${peak}, ${heard.length} clicks, ${tonal} of them 1 kHz`,
      );
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
