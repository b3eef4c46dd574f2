/** The pure parts of the upload check, by table (the HTTP journey is in server/test/tts-api.test.ts). */
import { describe, expect, it } from 'vitest';
import { parseProbe, parseSilences, soundSpan } from './upload';

describe('parseProbe', () => {
  it('reads container, codec, rate, channels and duration from `ffmpeg -i`', () => {
    expect(
      parseProbe(`Input #0, mp3, from 'x.mp3':
  Duration: 00:01:02.04, start: 0.025057, bitrate: 128 kb/s
    Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 128 kb/s`),
    ).toEqual({ container: 'mp3', codec: 'mp3', sampleRate: 44100, channels: 'stereo', durationMs: 62040 });
    expect(
      parseProbe(`Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.m4a':
  Duration: 00:00:05.00, start: 0.000000, bitrate: 130 kb/s
    Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 128 kb/s (default)`),
    ).toMatchObject({ container: 'mov,mp4,m4a,3gp,3g2,mj2', codec: 'aac', sampleRate: 48000, durationMs: 5000 });
  });

  it('finds no audio in a picture or in what ffmpeg cannot read', () => {
    expect(
      parseProbe(`Input #0, png_pipe, from 'p.ogg':
  Duration: N/A, bitrate: N/A
    Stream #0:0: Video: png, rgb24(pc), 16x16, 25 tbr`),
    ).toBeNull();
    expect(parseProbe('t.mp3: Invalid data found when processing input')).toBeNull();
  });
});

describe('silence trimming', () => {
  it.each([
    [
      'leading and trailing',
      'silence_start: 0\nsilence_end: 1.0 | x\nsilence_start: 3\nsilence_end: 4.5 | x',
      4.5,
      { start: 0.97, end: 3.03 },
    ],
    [
      'trailing silence with no end line',
      'silence_start: 0\nsilence_end: 1.0 | x\nsilence_start: 3',
      4.5,
      { start: 0.97, end: 3.03 },
    ],
    ['a pause in the middle stays', 'silence_start: 1.2\nsilence_end: 2.0 | x', 4, { start: 0, end: 4 }],
    ['only trailing', 'silence_start: 3.5\nsilence_end: 4 | x', 4, { start: 0, end: 3.53 }],
    ['nothing to trim', '', 2, { start: 0, end: 2 }],
    ['all silent', 'silence_start: 0\nsilence_end: 2 | x', 2, null],
  ])('%s', (_name, stderr, total, expected) => {
    const span = soundSpan(parseSilences(stderr), total);
    if (expected === null) expect(span).toBeNull();
    else {
      expect(span!.start).toBeCloseTo(expected.start, 6);
      expect(span!.end).toBeCloseTo(expected.end, 6);
    }
  });
});
