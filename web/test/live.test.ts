/**
 * Live broadcast's pure parts: the 20 ms framing (and resampling) the capture
 * worklet does, the level meter's scale, elapsed time, why a session ended,
 * why going live was refused, and the audio socket's address.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, liveAudioUrl, type LiveSession } from '../src/lib/api';
import {
  endMessage,
  formatElapsed,
  latencyOf,
  liveRefusal,
  meterLevel,
  meterStep,
  encoderMessage,
  microphoneMessage,
  supportMessage,
  zoneList,
} from '../src/pages/live';
import { FRAME_SAMPLES, FrameChunker, rms } from '../src/pages/live/frames';
import vi from '../src/lib/i18n/vi.json';
import en from '../src/lib/i18n/en.json';

/** `seconds` of a sine at `rate`, delivered in 128-sample render quanta as the audio graph does. */
function quanta(rate: number, seconds: number, hz = 440): Float32Array[] {
  const total = Math.round(rate * seconds);
  const out: Float32Array[] = [];
  for (let start = 0; start < total; start += 128) {
    const block = new Float32Array(Math.min(128, total - start));
    for (let i = 0; i < block.length; i++) block[i] = 0.5 * Math.sin((2 * Math.PI * hz * (start + i)) / rate);
    out.push(block);
  }
  return out;
}

function chunkAll(chunker: FrameChunker, blocks: Float32Array[]): Float32Array[] {
  return blocks.flatMap((block) => chunker.push(block));
}

describe('FrameChunker', () => {
  it('cuts 48 kHz quanta into whole 960-sample frames, keeping every sample in order', () => {
    const blocks = quanta(48_000, 1);
    const frames = chunkAll(new FrameChunker(48_000), blocks);
    expect(frames).toHaveLength(50);
    expect(frames.every((f) => f.length === FRAME_SAMPLES)).toBe(true);
    const flat = blocks.flatMap((b) => [...b]);
    expect([...frames[7]!]).toEqual(flat.slice(7 * 960, 8 * 960));
  });

  it('keeps a partial frame until the next block completes it', () => {
    const chunker = new FrameChunker(48_000);
    expect(chunker.push(new Float32Array(900))).toHaveLength(0);
    expect(chunker.push(new Float32Array(100))).toHaveLength(1);
    expect(chunker.push(new Float32Array(919))).toHaveLength(0);
    expect(chunker.push(new Float32Array(1))).toHaveLength(1);
  });

  it.each([44_100, 16_000, 96_000])('resamples %i Hz to 48 kHz: 50 frames a second, the tone intact', (rate) => {
    const frames = chunkAll(new FrameChunker(rate), quanta(rate, 2));
    // Two seconds give 100 frames, give or take the one the interpolation still holds.
    expect(frames.length).toBeGreaterThanOrEqual(99);
    expect(frames.length).toBeLessThanOrEqual(100);
    // A 0.5 sine has an RMS of 0.354; linear interpolation at these rates keeps it within 2 %.
    for (const frame of frames.slice(1, -1)) expect(rms(frame)).toBeCloseTo(0.354, 1);
    // Still 440 Hz: count upward zero crossings over the middle second at 48 kHz.
    const flat = frames.slice(25, 75).flatMap((f) => [...f]);
    let crossings = 0;
    for (let i = 1; i < flat.length; i++) if (flat[i - 1]! < 0 && flat[i]! >= 0) crossings++;
    expect(crossings).toBeGreaterThanOrEqual(438);
    expect(crossings).toBeLessThanOrEqual(442);
  });

  it('joins blocks smoothly when resampling (no jump at a block boundary)', () => {
    const frames = chunkAll(new FrameChunker(44_100), quanta(44_100, 0.5, 100));
    const flat = frames.flatMap((f) => [...f]);
    // A 100 Hz sine at 0.5 moves at most 2π·100·0.5/48000 ≈ 0.0065 per sample.
    let worst = 0;
    for (let i = 1; i < flat.length; i++) worst = Math.max(worst, Math.abs(flat[i]! - flat[i - 1]!));
    expect(worst).toBeLessThan(0.007);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new FrameChunker(0)).toThrow(RangeError);
  });
});

describe('level meter', () => {
  it('maps RMS on a decibel scale: silence empty, −60 dBFS empty, −30 half, full scale full', () => {
    expect(meterLevel(0)).toBe(0);
    expect(meterLevel(0.001)).toBeCloseTo(0, 5);
    expect(meterLevel(10 ** (-30 / 20))).toBeCloseTo(0.5, 5);
    expect(meterLevel(1)).toBe(1);
    expect(meterLevel(2)).toBe(1);
    expect(meterLevel(Number.NaN)).toBe(0);
  });

  it('rises at once and falls back slowly', () => {
    expect(meterStep(0.2, 0.8)).toBe(0.8);
    expect(meterStep(0.8, 0)).toBeCloseTo(0.72, 5);
  });
});

describe('formatElapsed', () => {
  it.each([
    [0, '0:00'],
    [999, '0:00'],
    [7_400, '0:07'],
    [754_000, '12:34'],
    [3_723_000, '1:02:03'],
    [-5, '0:00'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });
});

describe('how a session ended', () => {
  const REASONS = ['stopped', 'silence', 'max-duration', 'dropped', 'preempted', 'restart'] as const;
  const live = (vi as { live: { ended: Record<string, string> } }).live.ended;

  it.each(REASONS)('%s has a Vietnamese sentence', (reason) => {
    const message = endMessage({ endReason: reason, endedBy: reason === 'stopped' ? 'can-bo' : null }, 'can-bo');
    expect(message).toEqual({ key: `live.ended.${reason}` });
    expect(live[reason]).toBeTruthy();
  });

  it('names the leader who ended someone else’s session', () => {
    expect(endMessage({ endReason: 'stopped', endedBy: 'chu-tich' }, 'can-bo')).toEqual({
      key: 'live.ended.stoppedBy',
      values: { user: 'chu-tich' },
    });
  });
});

describe('going live refused', () => {
  it('names the session on air in the zone', () => {
    const current = { title: 'Họp thôn', startedBy: 'truong-thon' } as Partial<LiveSession>;
    const cause = new ApiError(409, 'another live session', { field: 'zones', detail: { current } });
    expect(liveRefusal(cause)).toEqual({ key: 'live.errors.busy', values: { title: 'Họp thôn', user: 'truong-thon' } });
  });

  it('says an emergency needs the permission', () => {
    expect(liveRefusal(new ApiError(403, 'no', { field: 'priority' }))).toEqual({
      key: 'live.errors.emergencyForbidden',
    });
  });

  it('puts an unknown zone and the network in words', () => {
    expect(liveRefusal(new ApiError(400, 'no zone x', { field: 'zones' }))).toEqual({
      key: 'live.errors.zones',
      values: { message: 'no zone x' },
    });
    expect(liveRefusal(new ApiError(0, 'down', { kind: 'network' }))).toEqual({ key: 'errors.network' });
  });

  it('explains a microphone the browser would not open', () => {
    expect(microphoneMessage(new DOMException('denied', 'NotAllowedError'))).toEqual({ key: 'live.mic.denied' });
    expect(microphoneMessage(new DOMException('none', 'NotFoundError'))).toEqual({ key: 'live.mic.missing' });
    expect(microphoneMessage(new DOMException('used', 'NotReadableError'))).toEqual({ key: 'live.mic.busy' });
    expect(microphoneMessage(new Error('odd'))).toEqual({ key: 'live.mic.failed', values: { message: 'odd' } });
  });

  it('says which browsers can go live', () => {
    const support = (vi as { live: { support: Record<string, string> } }).live.support;
    for (const reason of ['insecure', 'no-capture', 'no-encoder'] as const) {
      expect(support[supportMessage(reason).key.split('.').pop()!]).toBeTruthy();
    }
    expect(support['no-encoder']).toMatch(/Chrome, Edge hoặc Firefox/);
  });

  it('names the encoder in use, WebCodecs or WASM, in both languages', () => {
    const text = (catalogue: unknown, key: string) =>
      key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], catalogue);
    expect(text(vi, encoderMessage('webcodecs').key)).toBe('Bộ mã hóa: WebCodecs');
    expect(text(vi, encoderMessage('wasm').key)).toBe('Bộ mã hóa: WASM (trình duyệt không có WebCodecs)');
    expect(text(en, encoderMessage('wasm').key)).toMatch(/^Encoder: WASM/);
  });
});

describe('live odds and ends', () => {
  it('offers 400 ms and a 200 ms low-latency profile', () => {
    expect(latencyOf('normal')).toBe(400);
    expect(latencyOf('low')).toBe(200);
  });

  it('opens the audio socket on the page’s own origin, wss behind https', () => {
    expect(liveAudioUrl('live-1', { protocol: 'https:', host: 'loa.xa.vn' })).toBe(
      'wss://loa.xa.vn/api/v1/live/live-1/audio',
    );
    expect(liveAudioUrl('live 2', { protocol: 'http:', host: '127.0.0.1:8080' })).toBe(
      'ws://127.0.0.1:8080/api/v1/live/live%202/audio',
    );
  });

  it('lists zones by name', () => {
    expect(zoneList(['a', 'b'], (id) => ({ a: 'Thôn A', b: 'Thôn B' })[id] ?? id)).toBe('Thôn A, Thôn B');
  });
});
