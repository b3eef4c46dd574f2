/** The audio pipeline with the real espeak-ng WASM engine and the real ffmpeg. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EspeakAdapter } from '../tts/espeak';
import { chime } from './chime';
import { measureLoudness } from './loudness';
import { concatPcm, pcmDurationMs, silence, type Pcm } from './pcm';
import { produceNoticeAudio, synthesizeSentences } from './pipeline';

const TEXT =
  'Ủy ban nhân dân xã thông báo: ngày mai có mưa lớn. Bà con chú ý giữ an toàn cho người và tài sản. Xin cảm ơn bà con.';

let dir: string;
let sentences: Pcm[];
const out = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-audio-'));
  sentences = await synthesizeSentences(new EspeakAdapter(), { text: TEXT });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('notice audio pipeline', () => {
  it('renders one piece per sentence', () => {
    expect(sentences).toHaveLength(3);
    expect(sentences.every((s) => s.sampleRate === 22050)).toBe(true);
  });

  it('makes a quiet-tailed chime of its own, about 1.6 s', async () => {
    const c = await chime(22050);
    expect(pcmDurationMs(c)).toBe(1600);
    const tail = c.samples.slice(-200);
    expect(Math.max(...Array.from(tail, Math.abs))).toBeLessThan(100);
  });

  it('reaches -16 LUFS / -1.5 dBTP in Opus, measured on the encoded file', async () => {
    const result = await produceNoticeAudio(sentences, out('plain.ogg'), { chime: false });
    const bytes = fs.readFileSync(out('plain.ogg'));
    expect(bytes.toString('ascii', 0, 4)).toBe('OggS');
    expect(result.normalization).toBe('linear');
    expect(Math.abs(result.loudness.integratedLufs - -16)).toBeLessThanOrEqual(1);
    expect(result.loudness.truePeakDbtp).toBeLessThanOrEqual(-1.0);
    // The reported duration is the real one: what a decoder gets back.
    const decoded = await measureLoudness(out('plain.ogg'));
    expect(Math.abs(decoded.durationMs! - result.durationMs)).toBeLessThanOrEqual(60);
  });

  it('gets longer with the chime and repeat=2, and stays on target', async () => {
    const plain = await produceNoticeAudio(sentences, out('p.ogg'), { chime: false });
    const full = await produceNoticeAudio(sentences, out('full.ogg'), { chime: true, repeat: 2, gapMs: 3000 });
    // 2 chimes (1.6 s) + 2 chime pauses (0.4 s) + a second reading + a 3 s gap
    expect(full.durationMs - (2 * plain.durationMs + 3000 + 4000)).toBeLessThanOrEqual(10);
    expect(full.durationMs - (2 * plain.durationMs + 3000 + 4000)).toBeGreaterThanOrEqual(-10);
    expect(Math.abs(full.loudness.integratedLufs - -16)).toBeLessThanOrEqual(1);
    expect(full.loudness.truePeakDbtp).toBeLessThanOrEqual(-1.0);
  });

  it('writes MP3 that decodes to the expected length and loudness', async () => {
    const result = await produceNoticeAudio(sentences, out('n.mp3'), {
      format: 'mp3',
      loudnessTarget: { i: -18, tp: -2 },
    });
    const bytes = fs.readFileSync(out('n.mp3'));
    expect(bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0).toBe(true); // MPEG frame sync, no ID3
    const decoded = await measureLoudness(out('n.mp3'));
    expect(Math.abs(decoded.durationMs! - result.durationMs)).toBeLessThanOrEqual(100);
    expect(Math.abs(decoded.integratedLufs - -18)).toBeLessThanOrEqual(1);
    expect(decoded.truePeakDbtp).toBeLessThanOrEqual(-1.5);
  });

  it('trims silence padded around the speech', async () => {
    const padded = sentences.map((s) => concatPcm([silence(s.sampleRate, 1500), s, silence(s.sampleRate, 1500)]));
    const plain = await produceNoticeAudio(sentences, out('a.ogg'), { chime: false });
    const trimmed = await produceNoticeAudio(padded, out('b.ogg'), { chime: false });
    const untrimmedMs = padded.reduce((n, p) => n + pcmDurationMs(p), 0);
    expect(trimmed.durationMs).toBeLessThan(untrimmedMs - 8000);
    // Same speech either way, give or take the 30 ms margin kept at each sentence end
    // (espeak starts speaking at sample 0, so unpadded it has no margin to keep).
    expect(Math.abs(trimmed.durationMs - plain.durationMs)).toBeLessThanOrEqual(3 * 2 * 30);
  });
});
