/** Loudness helpers by table, and the ebur128 measurement against loudnorm's on real audio. */
import { describe, expect, it } from 'vitest';
import { interpolateGain, measureBranches, measureLoudness, needsConditioning, parseEbur128Summary } from './loudness';
import { ffmpegFrom, runFfmpeg } from './run';
import { encodeWav } from './pcm';

const SUMMARY = `[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -17.7 LUFS
    Threshold: -27.7 LUFS

  Loudness range:
    LRA:         1.0 LU

  True peak:
    Peak:       -2.3 dBFS`;

function tone(seconds: number, amplitude: number, rate = 22050) {
  const samples = new Int16Array(seconds * rate);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * i) / rate));
  return encodeWav({ sampleRate: rate, samples });
}

describe('loudness helpers', () => {
  it('parses the ebur128 summary, silence as -Infinity', () => {
    expect(parseEbur128Summary(SUMMARY)).toEqual({ integratedLufs: -17.7, truePeakDbtp: -2.3 });
    expect(parseEbur128Summary(SUMMARY.replace('-17.7', '-70.0').replace('-2.3 dBFS', '-inf dBFS'))).toEqual({
      integratedLufs: Number.NEGATIVE_INFINITY,
      truePeakDbtp: Number.NEGATIVE_INFINITY,
    });
    expect(() => parseEbur128Summary('no summary')).toThrow(/no ebur128 summary/);
  });

  it.each([
    ['below the range', -20, 0],
    ['on a point', -16, 2],
    ['between points', -15, 3],
    ['above the range', -10, 6],
  ])('interpolates the gain: %s', (_name, aim, gain) => {
    expect(interpolateGain([0, 2, 4, 6], [-18, -16, -14, -13], aim)).toBeCloseTo(gain, 6);
  });

  it('asks for the limiter only when one gain would push the peaks too high', () => {
    const target = { i: -16, tp: -1.5 };
    expect(needsConditioning({ integratedLufs: -20.3, truePeakDbtp: -0.4 }, target)).toBe(true);
    expect(needsConditioning({ integratedLufs: -20, truePeakDbtp: -10 }, target)).toBe(false);
    expect(needsConditioning({ integratedLufs: Number.NEGATIVE_INFINITY, truePeakDbtp: -90 }, target)).toBe(false);
  });
});

describe('measurement with real ffmpeg', () => {
  it('agrees with loudnorm (the previous meter) within 0.2 LU and 0.3 dB', async () => {
    const wav = tone(3, 6000);
    const ours = await measureLoudness(wav);
    const stderr = await runFfmpeg(
      ffmpegFrom(wav).audioFilters(['loudnorm=print_format=json']).format('null'),
      '-',
      'loudnorm',
    );
    const json = JSON.parse(stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1)) as Record<
      string,
      string
    >;
    expect(Math.abs(ours.integratedLufs - Number(json.input_i))).toBeLessThanOrEqual(0.2);
    expect(Math.abs(ours.truePeakDbtp - Number(json.input_tp))).toBeLessThanOrEqual(0.3);
    expect(ours.durationMs).toBe(3000);
  });

  it('measures several gain chains in one decode, in order', async () => {
    const wav = tone(2, 3000);
    const plain = await measureLoudness(wav);
    const [a, b, c] = await measureBranches(wav, [], [['volume=0dB'], ['volume=6dB'], ['volume=-3dB']]);
    expect(a).toBeCloseTo(plain.integratedLufs, 1);
    expect(b! - a!).toBeCloseTo(6, 1);
    expect(c! - a!).toBeCloseTo(-3, 1);
  });
});
