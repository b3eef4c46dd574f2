import { isLive, isStream } from '@loaxa/protocol';
import { systemClock, type Clock } from '../clock/clock';
import { runProcesses, type ProcessSpec } from './child-process';
import { AlsaSink } from '../live/sinks';
import { playLive, type Player, type PlayItem, type PlayResult } from './player';

export type AlsaCommand = 'ffmpeg' | 'ffplay' | 'aplay';

export interface AlsaPlayerOptions {
  /** ALSA PCM name, e.g. `default`, `hw:0,0`, `plughw:CARD=Headphones`. */
  device: string;
  /**
   * `ffmpeg` decodes and writes to ALSA itself; `ffplay` uses SDL's ALSA output;
   * `aplay` gets WAV from an ffmpeg decoder through a pipe (for ffmpeg builds without ALSA output).
   */
  command: AlsaCommand;
  /** Program path for `command`; defaults to the name on PATH. */
  path?: string;
  /** ffmpeg used as the decoder in `aplay` mode; defaults to `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /**
   * Replaces the ALSA output arguments of the `ffmpeg` command (tests use
   * `['-f', 'null', '-']` on machines without a sound card).
   */
  outputArgs?: readonly string[];
  /** Extra ffmpeg input options placed before `-i` (tests use `-re` to play in real time). */
  inputArgs?: readonly string[];
}

type Source = { kind: 'file'; path: string } | { kind: 'stream'; url: string; durationMs: number };

/** The command lines for one source; pure, so the argv of every mode is tested by table. */
export function alsaCommandFor(options: AlsaPlayerOptions, source: Source): ProcessSpec[] {
  const input = source.kind === 'file' ? source.path : source.url;
  const limit = source.kind === 'stream' ? ['-t', seconds(source.durationMs)] : [];
  // A relayed radio stream that drops (4G) reconnects instead of ending the relay early.
  const reconnect =
    source.kind === 'stream' && /^https?:/.test(source.url)
      ? ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '5']
      : [];
  const ffmpeg = options.command === 'ffmpeg' ? (options.path ?? 'ffmpeg') : (options.ffmpegPath ?? 'ffmpeg');
  const decoderHead = [
    ffmpeg,
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...(options.inputArgs ?? []),
    ...reconnect,
  ];
  switch (options.command) {
    case 'ffmpeg':
      return [
        {
          argv: [...decoderHead, '-i', input, ...limit, ...(options.outputArgs ?? ['-f', 'alsa', options.device])],
        },
      ];
    case 'ffplay':
      return [
        {
          argv: [options.path ?? 'ffplay', '-nodisp', '-autoexit', '-loglevel', 'error', ...limit, input],
          env: { ...process.env, SDL_AUDIODRIVER: 'alsa', AUDIODEV: options.device },
        },
      ];
    case 'aplay':
      return [
        { argv: [...decoderHead, '-i', input, ...limit, '-f', 'wav', '-'] },
        { argv: [options.path ?? 'aplay', '-q', '-D', options.device, '-'] },
      ];
  }
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/**
 * Plays cached files, and relays streams for their duration, through ALSA
 * with one child process per asset. Aborting
 * SIGTERMs the child; the promise settles once it has exited, so the card is
 * free for the next item.
 */
export class AlsaPlayer implements Player {
  constructor(
    private readonly options: AlsaPlayerOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  async play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    const startedAt = this.clock.now();
    for (const [index, asset] of item.assets.entries()) {
      if (isLive(asset)) {
        await playLive(item, asset, new AlsaSink({ device: this.options.device }, this.clock), signal);
        continue;
      }
      if (isStream(asset)) {
        const source = { kind: 'stream', url: asset.url, durationMs: asset.durationMs } as const;
        await runProcesses(alsaCommandFor(this.options, source), signal);
        continue;
      }
      const path = item.filePaths?.[index];
      if (!path) throw new Error(`asset ${asset.sha256.slice(0, 12)} has no local file to play`);
      await runProcesses(alsaCommandFor(this.options, { kind: 'file', path }), signal);
    }
    return { startedAt, endedAt: this.clock.now() };
  }
}
