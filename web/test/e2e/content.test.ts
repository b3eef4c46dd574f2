/// <reference lib="dom" />
/**
 * The content library and schedules in a real browser against the real
 * server, on a desktop and a 360 px phone: upload a WAV made here through the
 * drop zone's file input and save it; see a wrong type, a text file renamed
 * .mp3 and a file over the server's limit explained at the drop zone; record
 * from chromium's fake microphone and save that; add a stream relay; edit a
 * schedule (title and a single loudspeaker) and cancel one of its broadcasts
 * in the week view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleInput } from '../../src/lib/api';
import { openConsole, startRig, VIEWPORTS, type Rig, requireChromium } from './rig';

const hasChromium = requireChromium('content browser tests');

/** A mono 16-bit PCM WAV file of a sine tone. */
function sineWav(seconds: number, hz = 440, rate = 48_000): Buffer {
  const samples = Math.round(seconds * rate);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 0.3 * 32767), 44 + i * 2);
  }
  return wav;
}

/** Date and "HH:MM" of an instant in Ha Noi (UTC+7 all year). */
function communeClock(ms: number): { date: string; time: string } {
  const iso = new Date(ms + 7 * 3600_000).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}

const UPLOAD_LIMIT_MB = 1;

describe.skipIf(!hasChromium)('content library and schedules in chromium', () => {
  let rig: Rig;
  let programmeId: string;

  beforeAll(async () => {
    rig = await startRig({
      zones: [
        { id: 'thon-dong', name: 'Thôn Đông' },
        { id: 'thon-tay', name: 'Thôn Tây' },
      ],
      devices: [
        { id: 'loa-01', name: 'Cụm loa Nhà văn hóa', zones: ['thon-dong'] },
        { id: 'loa-02', name: 'Cụm loa Chợ', zones: ['thon-dong'] },
        { id: 'loa-03', name: 'Cụm loa Trường học', zones: ['thon-tay'] },
      ],
      // A small limit, so a 413 needs only a small file.
      env: { LOAXA_UPLOAD_MAX_MB: String(UPLOAD_LIMIT_MB) },
      // A microphone that plays a beep, allowed without asking.
      browserArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    const silence = await rig.server.api<{ id: string }>('POST', '/api/v1/content', {
      kind: 'silence',
      title: 'Nghỉ 5 giây',
      durationMs: 5000,
    });
    const programme = await rig.server.api<{ id: string }>('POST', '/api/v1/programmes', {
      title: 'Chương trình sáng',
      items: [{ contentId: silence.body.id }],
    });
    programmeId = programme.body.id;
  });

  afterAll(async () => {
    await rig?.close();
  });

  it.each(VIEWPORTS)(
    'uploads, records, relays and edits schedules (%s)',
    async (name, viewport) => {
      const { page, phone, errors, go, fitsPhone } = await openConsole(rig, name, viewport);
      const server = rig.server;
      const library = async () =>
        (
          await server.api<{ kind: string; title: string; url: string | null; durationMs: number }[]>(
            'GET',
            '/api/v1/content',
          )
        ).body;

      // ---- upload a WAV through the drop zone's file input, then save it with a title
      await go('Bản tin');
      const audioCard = page.getByRole('region', { name: 'Tệp âm thanh mới' });
      const fileInput = page.locator('#audio-file');
      const dropError = page.locator('#upload-error');

      // Dropped files go the same way as chosen ones; a wrong type is refused before sending.
      const dropped = await page.evaluateHandle(() => {
        const data = new DataTransfer();
        data.items.add(new File(['xin chào'], 'ghi-chu.txt', { type: 'text/plain' }));
        return data;
      });
      const dropZone = page.getByRole('group', { name: 'Kéo thả một tệp âm thanh vào đây' });
      await dropZone.dispatchEvent('dragenter', { dataTransfer: dropped });
      await expect.poll(() => dropZone.getAttribute('class')).toContain('dragging');
      await dropZone.dispatchEvent('drop', { dataTransfer: dropped });
      await dropError.getByText('«ghi-chu.txt» không phải loại tệp được nhận').waitFor();
      expect(await dropZone.getAttribute('class')).not.toContain('dragging');
      await fileInput.setInputFiles({ name: 'ghi-chu.txt', mimeType: 'text/plain', buffer: Buffer.from('xin chào') });
      await dropError.getByText('«ghi-chu.txt» không phải loại tệp được nhận').waitFor();

      await fileInput.setInputFiles({
        name: 'bai-hat.mp3',
        mimeType: 'audio/mpeg',
        buffer: Buffer.from('Đây là một tệp văn bản, không phải âm thanh.\n'.repeat(50)),
      });
      await dropError.getByText(/Máy chủ không đọc được tệp này như âm thanh/).waitFor({ timeout: 15_000 });
      expect(await dropZone.getAttribute('aria-describedby')).toContain('upload-error');

      // Over the server's limit (1 MB here, 50 MB by default): the 413 names the limit.
      await fileInput.setInputFiles({ name: 'dai-qua.wav', mimeType: 'audio/wav', buffer: sineWav(12) });
      await dropError.getByText(`Tệp lớn hơn giới hạn tải lên của máy chủ (${UPLOAD_LIMIT_MB} MB).`).waitFor();
      await audioCard.getByText(`tối đa ${UPLOAD_LIMIT_MB} MB`).waitFor();
      if (phone) await fitsPhone('content errors');

      await fileInput.setInputFiles({ name: 'chuong_bao.wav', mimeType: 'audio/wav', buffer: sineWav(1) });
      await audioCard.getByText('Đã tải lên «chuong_bao.wav»').waitFor({ timeout: 20_000 });
      const audioTitle = audioCard.getByLabel('Tiêu đề');
      expect(await audioTitle.inputValue()).toBe('chuong bao');
      await audioTitle.fill(`Chuông báo ${name}`);
      await audioCard.getByLabel('Thẻ').fill('chuông, thử');
      if (phone) await fitsPhone('content upload form');
      await audioCard.getByRole('button', { name: 'Lưu' }).click();
      await page.getByText(`Đã lưu «Chuông báo ${name}» vào thư viện.`).waitFor();
      const uploaded = (await library()).find((i) => i.title === `Chuông báo ${name}`);
      expect(uploaded).toMatchObject({ kind: 'audio' });
      expect(uploaded!.durationMs).toBeGreaterThan(800);
      expect(uploaded!.durationMs).toBeLessThan(1200);
      await page
        .getByRole('listitem')
        .filter({ hasText: `Chuông báo ${name}` })
        .locator('audio')
        .waitFor();

      // ---- record two seconds from the (fake) microphone, listen back, upload and save
      await audioCard.getByRole('button', { name: /Bắt đầu ghi/ }).click();
      await audioCard.getByText(/Đang ghi/).waitFor();
      await page.waitForTimeout(2000);
      await audioCard.getByRole('button', { name: /Dừng ghi/ }).click();
      const playback = audioCard.getByLabel('Nghe lại bản ghi');
      await playback.waitFor();
      expect(await audioCard.getByText(/Đã ghi 0:0[1-3]/).count()).toBe(1);
      await audioCard.getByRole('button', { name: 'Tải bản ghi lên' }).click();
      await audioCard.getByText(/Đã tải lên «ghi-am-\d+\.webm»/).waitFor({ timeout: 20_000 });
      await audioTitle.fill(`Ghi âm ${name}`);
      await audioCard.getByRole('button', { name: 'Lưu' }).click();
      await page.getByText(`Đã lưu «Ghi âm ${name}» vào thư viện.`).waitFor();
      const recorded = (await library()).find((i) => i.title === `Ghi âm ${name}`);
      expect(recorded).toMatchObject({ kind: 'audio' });
      expect(recorded!.durationMs).toBeGreaterThan(500);

      // ---- a stream relay: checked at the fields, then saved
      const streamCard = page.getByRole('region', { name: 'Tiếp sóng mới' });
      await streamCard.getByLabel('Tiêu đề').fill(`Đài huyện ${name}`);
      await streamCard.getByLabel('Địa chỉ luồng phát').fill('radio.huyen.vn/live');
      await streamCard.getByLabel('Thời lượng (phút)').fill('400');
      await streamCard.getByRole('button', { name: 'Lưu' }).click();
      await page
        .locator('#stream-url-error')
        .getByText(/bắt đầu bằng http/)
        .waitFor();
      await page.locator('#stream-minutes-error').waitFor();
      expect(await streamCard.getByLabel('Địa chỉ luồng phát').getAttribute('aria-invalid')).toBe('true');
      await streamCard.getByLabel('Địa chỉ luồng phát').fill('https://radio.huyen.vn/live.mp3');
      await streamCard.getByLabel('Thời lượng (phút)').fill('1,5');
      await streamCard.getByRole('button', { name: 'Lưu' }).click();
      await page.getByText(`Đã lưu «Đài huyện ${name}» vào thư viện.`).waitFor();
      expect((await library()).find((i) => i.title === `Đài huyện ${name}`)).toMatchObject({
        kind: 'stream',
        url: 'https://radio.huyen.vn/live.mp3',
        durationMs: 90_000,
      });
      if (phone) await fitsPhone('content after saving');

      // ---- a daily schedule (made and approved through the API) edited in the form
      const at = communeClock(Date.now() + (phone ? 150 : 90) * 60_000);
      const input: ScheduleInput = {
        title: `Tin sáng ${name}`,
        programmeId,
        rule: { kind: 'daily', startDate: communeClock(Date.now()).date, times: [at.time] },
        zones: ['thon-dong'],
      };
      const created = await server.api<{ id: string }>('POST', '/api/v1/schedules', input);
      expect(created.status).toBe(201);
      const scheduleId = created.body.id;
      expect((await server.api('POST', `/api/v1/schedules/${scheduleId}/submit`)).status).toBe(200);

      await go('Lịch phát');
      // go() checks the width as soon as the heading shows; check again once the schedule is listed.
      await page.getByRole('button', { name: `Sửa lịch Tin sáng ${name}` }).waitFor();
      if (phone) await fitsPhone('schedules with one listed');
      await page.getByRole('button', { name: `Sửa lịch Tin sáng ${name}` }).click();
      const form = page.getByRole('region', { name: `Sửa lịch «Tin sáng ${name}»` });
      await form.waitFor();
      expect(await form.getByLabel('Tên lịch').inputValue()).toBe(`Tin sáng ${name}`);
      expect(await form.getByLabel('Giờ phát').inputValue()).toBe(at.time);
      expect(await form.getByRole('checkbox', { name: 'Thôn Đông' }).isChecked()).toBe(true);
      await form.getByLabel('Tên lịch').fill(`Tin sáng đã sửa ${name}`);
      await form.getByRole('checkbox', { name: 'Cụm loa Trường học' }).check();
      await form.getByRole('button', { name: 'Kiểm tra trùng giờ và lưu thay đổi' }).click();
      await page.getByText(`Đã lưu thay đổi của lịch «Tin sáng đã sửa ${name}».`).waitFor();
      await page.getByRole('heading', { name: 'Tạo lịch phát' }).waitFor();
      const schedule = await server.api<{ title: string; devices: string[]; zones: string[]; status: string }>(
        'GET',
        `/api/v1/schedules/${scheduleId}`,
      );
      expect(schedule.body).toMatchObject({
        title: `Tin sáng đã sửa ${name}`,
        zones: ['thon-dong'],
        devices: ['loa-03'],
        status: 'approved',
      });
      if (phone) await fitsPhone('schedules after editing');

      // ---- someone else takes the same time on loa-03 between the check and the save:
      // the save's 409 lists that overlap like the check does, and "by priority" saves anyway
      const rival = `Tin chen ngang ${name}`;
      const rivalDone = new Promise<void>((resolve, reject) => {
        void page.route(`**/api/v1/schedules/${scheduleId}`, async (route) => {
          if (route.request().method() !== 'PUT') return route.continue();
          try {
            const made = await server.api<{ id: string }>('POST', '/api/v1/schedules', {
              title: rival,
              programmeId,
              rule: { kind: 'once', startDate: at.date, times: [at.time] },
              devices: ['loa-03'],
              onConflict: 'priority',
            });
            expect(made.status).toBe(201);
            expect((await server.api('POST', `/api/v1/schedules/${made.body.id}/submit`)).status).toBe(200);
            resolve();
          } catch (cause) {
            reject(cause instanceof Error ? cause : new Error(String(cause)));
          }
          await route.continue();
          await page.unroute(`**/api/v1/schedules/${scheduleId}`);
        });
      });
      await page.getByRole('button', { name: `Sửa lịch Tin sáng đã sửa ${name}` }).click();
      const again = page.getByRole('region', { name: `Sửa lịch «Tin sáng đã sửa ${name}»` });
      await again.getByRole('button', { name: 'Kiểm tra trùng giờ và lưu thay đổi' }).click();
      await rivalDone;
      const refusal = again.getByRole('alert').filter({ hasText: 'Trùng giờ với' });
      await refusal.getByText(`«${rival}»`).waitFor();
      expect(await refusal.textContent()).toContain('Cụm loa Trường học');
      await refusal.getByRole('button', { name: 'Vẫn lưu, ưu tiên theo mức ưu tiên' }).click();
      await page.getByText(`Đã lưu thay đổi của lịch «Tin sáng đã sửa ${name}».`).waitFor();

      // ---- cancel one of its broadcasts in the week view (the next one may fall in next week)
      const cancelButtons = page.getByRole('button', {
        name: new RegExp(`^Huỷ lượt phát Tin sáng đã sửa ${name} lúc`),
      });
      const thisWeek = await cancelButtons
        .first()
        .waitFor({ timeout: 3000 })
        .then(
          () => true,
          () => false,
        );
      if (!thisWeek) await page.getByRole('button', { name: /Tuần sau/ }).click();
      await cancelButtons.first().waitFor();
      const before = await cancelButtons.count();
      const label = (await cancelButtons.first().getAttribute('aria-label'))!;
      await cancelButtons.first().click();
      const dialog = page.getByRole('dialog', { name: 'Huỷ lượt phát này?' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain(`«Tin sáng đã sửa ${name}» lúc ${at.time}`);
      await dialog.getByRole('button', { name: 'Huỷ lượt phát' }).click();
      await page.getByText(/^Đã huỷ lượt phát «Tin sáng đã sửa/).waitFor();
      await expect.poll(() => cancelButtons.count()).toBe(before - 1);
      expect(await page.getByRole('button', { name: label }).count()).toBe(0);
      expect(
        await page
          .locator('.entry.cancelled')
          .filter({ hasText: `Tin sáng đã sửa ${name}` })
          .count(),
      ).toBe(1);
      const from = new Date(Date.now() - 3600_000).toISOString();
      const to = new Date(Date.now() + 14 * 24 * 3600_000).toISOString();
      const calendar = await server.api<{ scheduleId: string | null; cancelled: boolean }[]>(
        'GET',
        `/api/v1/calendar?from=${from}&to=${to}`,
      );
      expect(calendar.body.filter((e) => e.scheduleId === scheduleId && e.cancelled)).toHaveLength(1);
      // The week now shows a cancelled broadcast, with its visually hidden "cancelled" mark.
      if (phone) await fitsPhone('schedules with a cancelled broadcast in the week');

      expect(errors).toEqual([]);
      await page.close();
    },
    120_000,
  );
});
