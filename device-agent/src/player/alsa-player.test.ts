import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Asset } from '@loaxa/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../../../scripts/test/require-tool';
import { findFfmpeg } from '../../test/ffmpeg';
import { AlsaPlayer, alsaCommandFor, type AlsaPlayerOptions } from './alsa-player';

const ffmpeg = findFfmpeg();
const hasFfmpeg = requireTool({
  tool: 'ffmpeg',
  found: ffmpeg,
  install: 'npm ci installs @ffmpeg-installer/ffmpeg; or set FFMPEG_PATH, or apt-get install ffmpeg',
  skips: 'AlsaPlayer with a real ffmpeg',
});

const asset = (durationMs: number): Asset => ({
  sha256: 'a'.repeat(64),
  url: '/media/a.ogg',
  bytes: 1,
  durationMs,
  format: 'ogg',
});

describe('alsaCommandFor', () => {
  const file = { kind: 'file', path: '/c/a.ogg' } as const;
  const stream = { kind: 'stream', url: 'http://radio/live', durationMs: 90_500 } as const;
  it.each<[string, AlsaPlayerOptions, typeof file | typeof stream, string[][]]>([
    [
      'ffmpeg to an ALSA device',
      { command: 'ffmpeg', device: 'hw:0,0' },
      file,
      [['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', '/c/a.ogg', '-f', 'alsa', 'hw:0,0']],
    ],
    [
      'ffmpeg stream, cut at its duration',
      { command: 'ffmpeg', device: 'default', path: '/usr/bin/ffmpeg' },
      stream,
      [
        [
          '/usr/bin/ffmpeg',
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          '-reconnect',
          '1',
          '-reconnect_streamed',
          '1',
          '-reconnect_delay_max',
          '5',
          '-i',
          'http://radio/live',
          '-t',
          '90.500',
          '-f',
          'alsa',
          'default',
        ],
      ],
    ],
    [
      'ffplay without a window',
      { command: 'ffplay', device: 'default' },
      file,
      [['ffplay', '-nodisp', '-autoexit', '-loglevel', 'error', '/c/a.ogg']],
    ],
    [
      'ffmpeg decoding into aplay',
      { command: 'aplay', device: 'plughw:0', ffmpegPath: '/opt/ffmpeg' },
      file,
      [
        ['/opt/ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', '/c/a.ogg', '-f', 'wav', '-'],
        ['aplay', '-q', '-D', 'plughw:0', '-'],
      ],
    ],
  ])('%s', (_name, options, source, argvs) => {
    expect(alsaCommandFor(options, source).map((spec) => spec.argv)).toEqual(argvs);
  });

  it('points ffplay at the ALSA device through SDL', () => {
    const [spec] = alsaCommandFor({ command: 'ffplay', device: 'hw:1' }, file);
    expect(spec?.env).toMatchObject({ SDL_AUDIODRIVER: 'alsa', AUDIODEV: 'hw:1' });
  });
});

describe.skipIf(!hasFfmpeg)('AlsaPlayer with a real ffmpeg (null output instead of a sound card)', () => {
  let dir: string;
  let short: string;
  let long: string;
  const nullOutput = ['-f', 'null', '-'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loaxa-alsa-'));
    short = join(dir, 'short.ogg');
    long = join(dir, 'long.ogg');
    for (const [path, seconds] of [
      [short, 0.3],
      [long, 20],
    ] as const) {
      execFileSync(ffmpeg!, ['-loglevel', 'error', '-f', 'lavfi', '-i', `sine=d=${seconds}`, '-c:a', 'libopus', path]);
    }
    await writeFile(join(dir, 'bad.ogg'), 'not audio at all');
  });

  const player = (extra: Partial<AlsaPlayerOptions> = {}) =>
    new AlsaPlayer({ command: 'ffmpeg', device: 'default', path: ffmpeg!, outputArgs: nullOutput, ...extra });

  it('plays every asset in order and resolves', async () => {
    const result = await player().play(
      { occurrenceId: 'o1', assets: [asset(300), asset(300)], filePaths: [short, short] },
      new AbortController().signal,
    );
    expect(result.endedAt).toBeGreaterThanOrEqual(result.startedAt);
  });

  it('fails with the exit code and stderr tail on a broken file', async () => {
    const failure = player().play(
      { occurrenceId: 'o2', assets: [asset(300)], filePaths: [join(dir, 'bad.ogg')] },
      new AbortController().signal,
    );
    await expect(failure).rejects.toThrow(/exited with code \d+: .*bad\.ogg/s);
  });

  it('fails when an asset has no local file, and when the program is missing', async () => {
    const signal = new AbortController().signal;
    await expect(player().play({ occurrenceId: 'o3', assets: [asset(1)] }, signal)).rejects.toThrow(/no local file/);
    await expect(
      player({ path: join(dir, 'no-such-ffmpeg') }).play(
        { occurrenceId: 'o4', assets: [asset(1)], filePaths: [short] },
        signal,
      ),
    ).rejects.toThrow(/cannot run .*no-such-ffmpeg: .*ENOENT/);
  });

  it('stops the child on abort and settles after it exited', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const play = player({ inputArgs: ['-re'] }).play(
      { occurrenceId: 'o5', assets: [asset(20_000)], filePaths: [long] },
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error('preempted')), 200);
    await expect(play).rejects.toThrow('preempted');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('relays a stream for its duration only (-t)', async () => {
    const started = Date.now();
    const result = await player({ inputArgs: ['-re'] }).play(
      { occurrenceId: 'o-stream', assets: [{ kind: 'stream', url: long, durationMs: 400 }] },
      new AbortController().signal,
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(3_000);
    expect(result.endedAt - result.startedAt).toBeGreaterThanOrEqual(350);
  });

  it('aplay mode pipes WAV from the ffmpeg decoder into aplay (fake aplay: no sound card here)', async () => {
    const aplay = join(dir, 'aplay');
    await writeFile(aplay, `#!/bin/sh\necho "$@" > "${dir}/aplay.args"\ncat > "${dir}/aplay.wav"\n`);
    await chmod(aplay, 0o755);
    await new AlsaPlayer({ command: 'aplay', device: 'plughw:0', path: aplay, ffmpegPath: ffmpeg! }).play(
      { occurrenceId: 'o6', assets: [asset(300)], filePaths: [short] },
      new AbortController().signal,
    );
    expect((await readFile(join(dir, 'aplay.args'), 'utf8')).trim()).toBe('-q -D plughw:0 -');
    const wav = await readFile(join(dir, 'aplay.wav'));
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(10_000);
  });

  it('aplay failing (card busy) fails the play with its stderr', async () => {
    const aplay = join(dir, 'aplay-busy');
    await writeFile(
      aplay,
      '#!/bin/sh\ncat >/dev/null\necho "aplay: main:831: audio open error: Device or resource busy" >&2\nexit 1\n',
    );
    await chmod(aplay, 0o755);
    const play = new AlsaPlayer({ command: 'aplay', device: 'default', path: aplay, ffmpegPath: ffmpeg! }).play(
      { occurrenceId: 'o7', assets: [asset(300)], filePaths: [short] },
      new AbortController().signal,
    );
    await expect(play).rejects.toThrow(/aplay-busy exited with code 1: .*Device or resource busy/);
  });
});
