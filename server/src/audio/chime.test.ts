/** The alert tones, made by the real ffmpeg and measured on their samples. */
import { describe, expect, it } from 'vitest';
import { alertTone, chime, type ChimeKind } from './chime';
import type { Pcm } from './pcm';

const RATE = 16000;

/** Bursts of sound: runs of 10 ms windows whose peak is above a tenth of full scale. */
function bursts(pcm: Pcm): { count: number; firstHz: number } {
  const window = RATE / 100;
  let count = 0;
  let loud = false;
  let firstStart = -1;
  for (let i = 0; i + window <= pcm.samples.length; i += window) {
    let peak = 0;
    for (let j = i; j < i + window; j++) peak = Math.max(peak, Math.abs(pcm.samples[j]!));
    const now = peak > 3276;
    if (now && !loud) {
      count++;
      if (firstStart < 0) firstStart = i;
    }
    loud = now;
  }
  // The pitch of the first burst from its zero crossings over 100 ms.
  const piece = pcm.samples.subarray(firstStart + window, firstStart + window + RATE / 10);
  let crossings = 0;
  for (let i = 1; i < piece.length; i++) if (piece[i - 1]! < 0 !== piece[i]! < 0) crossings++;
  return { count, firstHz: (crossings / 2) * 10 };
}

describe('alert tones', () => {
  it('sounds level N as N pulses, higher in pitch as the level rises, and the all-clear apart', async () => {
    const seen: { count: number; firstHz: number }[] = [];
    for (let level = 1; level <= 5; level++) {
      const tone = await chime(RATE, alertTone(level));
      expect(tone.sampleRate).toBe(RATE);
      seen.push(bursts(tone));
    }
    expect(seen.map((s) => s.count)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.firstHz).toBeGreaterThan(seen[i - 1]!.firstHz + 30);
    const notice = bursts(await chime(RATE, 'notice'));
    const allClear = bursts(await chime(RATE, 'all-clear'));
    expect(allClear.count).toBe(2);
    // The all-clear's first note is lower than any alert pulse, and it is not the notice chime.
    expect(allClear.firstHz).toBeLessThan(seen[0]!.firstHz - 100);
    expect(allClear).not.toEqual(notice);
  });

  it('clamps a level outside 1–5', () => {
    expect([0, 1, 3.4, 5, 9].map(alertTone)).toEqual<ChimeKind[]>([
      'alert-1',
      'alert-1',
      'alert-3',
      'alert-5',
      'alert-5',
    ]);
  });
});
