import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import {
  checkAudioFile,
  describeMicrophoneError,
  describeUploadError,
  extensionOf,
  isStreamUrl,
  megabytes,
  publicByDefault,
  publicField,
  recordingExtension,
  recordingType,
  streamDurationMs,
  titleFromFileName,
  uploadLimitFrom,
} from '../src/pages/content';

const MB = 1024 * 1024;

describe('upload checks before sending', () => {
  it.each([
    ['Bản tin.MP3', 'mp3'],
    ['a.b.wav', 'wav'],
    ['noext', ''],
    ['.hidden', ''],
  ])('extension of %j', (name, ext) => {
    expect(extensionOf(name)).toBe(ext);
  });

  it.each([
    [{ name: 'tin.mp3', size: 10 * MB }, 50, null],
    [{ name: 'tin.webm', size: 50 * MB }, 50, null],
    [{ name: 'tin.flac', size: 50 * MB + 1 }, 50, 'content.upload.errors.tooLarge'],
    [{ name: 'tin.wav', size: 21 * MB }, 20, 'content.upload.errors.tooLarge'],
    [{ name: 'tin.mp3', size: 0 }, 50, 'content.upload.errors.empty'],
    [{ name: 'notes.txt', size: 10 }, 50, 'content.upload.errors.extension'],
    [{ name: 'mp3', size: 10 }, 50, 'content.upload.errors.extension'],
  ] as const)('%j with a %i MB limit', (file, max, key) => {
    expect(checkAudioFile(file, max)?.key ?? null).toBe(key);
  });

  it('names the size and the limit', () => {
    expect(checkAudioFile({ name: 'x.ogg', size: 75.44 * MB })).toEqual({
      key: 'content.upload.errors.tooLarge',
      values: { size: 75.4, max: 50 },
    });
    expect(megabytes(1.26 * MB)).toBe(1.3);
  });
});

describe('upload errors as sentences', () => {
  it('reads the limit from a 413, else keeps the known one', () => {
    expect(uploadLimitFrom('file: larger than the upload limit of 20 MB')).toBe(20);
    expect(uploadLimitFrom('Payload Too Large')).toBeNull();
    expect(
      describeUploadError(new ApiError(413, 'file: larger than the upload limit of 20 MB', { field: 'file' })),
    ).toEqual({ key: 'content.upload.errors.serverTooLarge', values: { max: 20 } });
    expect(describeUploadError(new ApiError(413, 'Request body is too large'), 50)).toEqual({
      key: 'content.upload.errors.serverTooLarge',
      values: { max: 50 },
    });
  });

  it.each([
    [
      new ApiError(400, 'file: not an audio file we can read (mp3, wav, m4a, ogg, flac or webm)', { field: 'file' }),
      {
        key: 'content.upload.errors.notAudio',
        values: { message: 'not an audio file we can read (mp3, wav, m4a, ogg, flac or webm)' },
      },
    ],
    [
      new ApiError(415, 'file: send the audio as multipart/form-data', { field: 'file' }),
      'content.upload.errors.notAudio',
    ],
    [new ApiError(0, 'x', { kind: 'timeout' }), { key: 'content.upload.errors.timeout' }],
    [new ApiError(0, 'x', { kind: 'network' }), { key: 'errors.network' }],
    [new ApiError(502, 'bad gateway'), { key: 'errors.server', values: { status: 502 } }],
    [new ApiError(403, 'no'), 'errors.forbidden'],
    [new ApiError(400, 'something else'), 'errors.rejected'],
    [new Error('boom'), 'errors.generic'],
  ])('%s', (cause, expected) => {
    const message = describeUploadError(cause);
    if (typeof expected === 'string') expect(message.key).toBe(expected);
    else expect(message).toEqual(expected);
  });
});

describe('microphone', () => {
  it('prefers WebM/Opus and falls back to what the browser has', () => {
    expect(recordingType(() => true)).toBe('audio/webm;codecs=opus');
    expect(recordingType((t) => t === 'audio/mp4')).toBe('audio/mp4');
    expect(recordingType(() => false)).toBe('');
  });

  it.each([
    ['audio/webm;codecs=opus', 'webm'],
    ['audio/ogg;codecs=opus', 'ogg'],
    ['audio/mp4', 'm4a'],
    ['video/mp4;codecs=mp4a', 'm4a'],
    ['', 'webm'],
  ])('names a %j recording *.%s', (mime, ext) => {
    expect(recordingExtension(mime)).toBe(ext);
  });

  it.each([
    [null, true, 'content.record.errors.unsupported'],
    [null, false, 'content.record.errors.insecure'],
    ['NotAllowedError', true, 'content.record.errors.denied'],
    ['SecurityError', true, 'content.record.errors.denied'],
    ['NotFoundError', true, 'content.record.errors.noMicrophone'],
    ['NotReadableError', true, 'content.record.errors.busy'],
    ['TypeError', true, 'content.record.errors.failed'],
  ] as const)('%s (secure %s)', (name, secure, key) => {
    expect(describeMicrophoneError(name, secure).key).toBe(key);
  });
});

describe('stream relay and titles', () => {
  it.each([
    ['30', 1_800_000],
    ['1,5', 90_000],
    [' 0.02 ', 1_200],
    ['360', 21_600_000],
    ['361', null],
    ['0', null],
    ['0.01', null],
    ['', null],
    ['ba mươi', null],
    ['-5', null],
  ])('%j minutes', (text, ms) => {
    expect(streamDurationMs(text)).toBe(ms);
  });

  it.each([
    ['https://radio.huyen.vn/live.mp3', true],
    ['http://10.0.0.5:8000/stream', true],
    ['  https://a.vn/x  ', true],
    ['rtsp://cam/stream', false],
    ['radio.huyen.vn/live', false],
    ['', false],
  ])('%j is a relayable address: %s', (url, ok) => {
    expect(isStreamUrl(url)).toBe(ok);
  });

  it.each([
    ['thong-bao_tiem_chung.mp3', 'thong-bao tiem chung'],
    ['Bản tin sáng.WAV', 'Bản tin sáng'],
    ['noext', 'noext'],
  ])('a first title from %j', (name, title) => {
    expect(titleFromFileName(name)).toBe(title);
  });
});

describe('public page choice', () => {
  it.each([
    ['notice', true],
    ['audio', false],
    ['stream', null],
    ['silence', null],
  ] as const)('a new %s starts out public: %s', (kind, start) => {
    expect(publicByDefault(kind)).toBe(start);
  });

  it('sends the officer’s choice for a notice or audio, never `public` for a stream or silence', () => {
    expect(publicField('notice', true)).toEqual({ public: true });
    expect(publicField('notice', false)).toEqual({ public: false });
    expect(publicField('audio', true)).toEqual({ public: true });
    expect(publicField('audio', false)).toEqual({ public: false });
    // The server answers 400 (field `public`) when a stream or silence names it at all.
    expect('public' in publicField('stream', true)).toBe(false);
    expect('public' in publicField('silence', false)).toBe(false);
  });
});
