import { describe, expect, it } from 'vitest';
import { concatPcm, decodeWav, encodeWav, joinWithGaps, pcmDurationMs, silence, trimSilence, type Pcm } from './pcm';
import { layOutProgram } from './program';
import { mapWithLimit } from './pipeline';

const RATE = 22050;
function tone(ms: number, amplitude = 8000): Pcm {
  const n = Math.round((RATE * ms) / 1000);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / RATE));
  return { sampleRate: RATE, samples };
}

describe('PCM helpers', () => {
  it('round-trips through WAV', () => {
    const pcm = tone(100);
    const back = decodeWav(encodeWav(pcm));
    expect(back.sampleRate).toBe(RATE);
    expect(Array.from(back.samples)).toEqual(Array.from(pcm.samples));
  });

  it('trims leading and trailing silence, keeping a short margin', () => {
    const padded = concatPcm([silence(RATE, 1000), tone(500), silence(RATE, 1500)]);
    const trimmed = trimSilence(padded, { keepMs: 30 });
    expect(pcmDurationMs(padded)).toBe(3000);
    expect(pcmDurationMs(trimmed)).toBeGreaterThanOrEqual(500);
    expect(pcmDurationMs(trimmed)).toBeLessThanOrEqual(561);
    expect(trimSilence(silence(RATE, 200)).samples.length).toBe(0);
  });

  it('joins with exact gaps and refuses mixed sample rates', () => {
    expect(pcmDurationMs(joinWithGaps([tone(200), tone(300), tone(100)], 350))).toBe(1300);
    expect(() => concatPcm([tone(10), { sampleRate: 48000, samples: new Int16Array(10) }])).toThrow(/48000 Hz/);
  });

  it('lays out chime, sentences, repeats and gaps', () => {
    const chime = tone(1600, 4000);
    const sentences = [concatPcm([silence(RATE, 300), tone(1000)]), tone(800)];
    const trim = { keepMs: 0 };
    expect(pcmDurationMs(layOutProgram(sentences, null, { trim }))).toBe(1000 + 350 + 800);
    expect(pcmDurationMs(layOutProgram(sentences, chime, { repeat: 2, gapMs: 3000, trim }))).toBe(
      1600 + 400 + 2150 + 3000 + 2150 + 400 + 1600,
    );
    expect(() => layOutProgram(sentences, null, { repeat: 0 })).toThrow(/repeat/);
  });
});

describe('mapWithLimit', () => {
  it('keeps order and never exceeds the bound', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithLimit([50, 10, 30, 5, 20, 1], 3, async (ms, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(3);
  });
});
