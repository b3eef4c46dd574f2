import { describe, expect, it } from 'vitest';
import { EspeakAdapter } from './espeak';
import { wavDurationMs } from '../audio/encode';

describe('EspeakAdapter (espeak-ng WebAssembly)', () => {
  const tts = new EspeakAdapter();

  it('speaks Vietnamese into a WAV whose duration grows with the text', async () => {
    const short = await tts.synthesize({ text: 'Xin chào bà con.' });
    const long = await tts.synthesize({
      text: 'Ủy ban nhân dân xã thông báo: ngày mai có mưa lớn, bà con chú ý giữ an toàn cho người và tài sản.',
    });
    expect(Buffer.from(short.wav).toString('ascii', 0, 4)).toBe('RIFF');
    expect(short.sampleRate).toBe(22050);
    const shortMs = wavDurationMs(short.wav);
    const longMs = wavDurationMs(long.wav);
    expect(shortMs).toBeGreaterThan(500);
    expect(longMs).toBeGreaterThan(shortMs * 2);
  });

  it('reads text starting with a dash as text, not as an option', async () => {
    const r = await tts.synthesize({ text: '-5 độ' });
    expect(wavDurationMs(r.wav)).toBeGreaterThan(300);
  });

  it('speaks faster when asked', async () => {
    const text = 'Thông báo lịch tiêm phòng cho trẻ em dưới năm tuổi tại trạm y tế xã.';
    const normal = wavDurationMs((await tts.synthesize({ text })).wav);
    const fast = wavDurationMs((await tts.synthesize({ text, speed: 1.6 })).wav);
    expect(fast).toBeLessThan(normal * 0.8);
  });

  it('refuses an unknown voice and empty text with a clear error', async () => {
    await expect(tts.synthesize({ text: 'a', voice: 'klingon' })).rejects.toThrow(/unknown voice "klingon"/);
    await expect(tts.synthesize({ text: '   ' })).rejects.toThrow(/text is empty/);
  });
});

describe('EspeakAdapter voices', () => {
  it.each(['vi', 'vi-VN-x-central', 'vi-VN-x-south'])('renders with voice %s', async (voice) => {
    const tts = new EspeakAdapter();
    const r = await tts.synthesize({ text: 'Xin chào', voice });
    expect(wavDurationMs(r.wav)).toBeGreaterThan(200);
  });
});

describe('EspeakAdapter process hygiene', () => {
  it('leaves no process-wide listeners behind', async () => {
    const tts = new EspeakAdapter();
    await tts.synthesize({ text: 'một' });
    const before = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    for (let i = 0; i < 5; i++) await tts.synthesize({ text: 'hai' });
    expect(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection')).toBe(before);
  });
});
