import { appendFile, mkdir } from 'node:fs/promises';
import { isLive, isStream, type StreamAsset } from '@loaxa/protocol';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock/clock';
import { sleep } from '../clock/timer';
import { VirtualSoundCard } from '../live/sinks';
import { playLive, type Player, type PlayItem, type PlayResult } from './player';

export interface PlayLogLine {
  occurrenceId: string;
  /** The file played; absent for a stream relay. */
  sha256?: string;
  /** The stream relayed, and how many bytes of it arrived. */
  stream?: string;
  bytes?: number;
  startedAt: number;
  endedAt: number;
  /** Present only when playback was cut short. */
  interrupted?: true;
}

/** A line of the start log: written before the item can be heard, so a kill mid-play still leaves it. */
export interface PlayStartLine {
  occurrenceId: string;
  startedAt: number;
}

/** Pause before re-connecting to a stream that dropped mid-relay. */
const STREAM_RETRY_MS = 1_000;

/**
 * Silent player that records what would have played: one JSON line per asset
 * played, so tests and headless nodes can prove timing and order. A stream
 * relay really connects to the URL and reads it for the asset's duration
 * (without the device's credentials), so an unreachable radio fails here as
 * it would on a pole.
 */
export class NullPlayer implements Player {
  private logDir: Promise<unknown> | undefined;

  constructor(
    private readonly logPath: string,
    private readonly clock: Clock = systemClock,
    /** `startLog`: one line per item as it starts (the play log only has lines for assets that ended). */
    private readonly options: { startLog?: string } = {},
  ) {}

  async play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    const logs = [this.logPath, ...(this.options.startLog !== undefined ? [this.options.startLog] : [])];
    await (this.logDir ??= Promise.all(logs.map((log) => mkdir(dirname(log), { recursive: true }))));
    const startedAt = this.clock.now();
    if (this.options.startLog !== undefined) {
      const line: PlayStartLine = { occurrenceId: item.occurrenceId, startedAt };
      await appendFile(this.options.startLog, `${JSON.stringify(line)}\n`);
    }
    for (const asset of item.assets) {
      if (isLive(asset)) {
        await playLive(item, asset, new VirtualSoundCard(this.clock), signal);
        continue;
      }
      const line: PlayLogLine = isStream(asset)
        ? { occurrenceId: item.occurrenceId, stream: asset.url, bytes: 0, startedAt: this.clock.now(), endedAt: 0 }
        : { occurrenceId: item.occurrenceId, sha256: asset.sha256, startedAt: this.clock.now(), endedAt: 0 };
      try {
        if (isStream(asset)) await this.relay(asset, line, signal);
        else await sleep(asset.durationMs, signal);
      } catch (err) {
        await this.log({ ...line, endedAt: this.clock.now(), interrupted: true });
        throw err;
      }
      await this.log({ ...line, endedAt: this.clock.now() });
    }
    return { startedAt, endedAt: this.clock.now() };
  }

  /**
   * Reads the stream for its duration, counting bytes into `line`. The first
   * connection must succeed; a drop later re-connects while time is left.
   */
  private async relay(asset: StreamAsset, line: PlayLogLine, signal: AbortSignal): Promise<void> {
    const over = new AbortController();
    const timer = setTimeout(() => over.abort(), asset.durationMs);
    const stop = AbortSignal.any([signal, over.signal]);
    try {
      let connected = false;
      while (!stop.aborted) {
        try {
          const res = await fetch(asset.url, { signal: stop });
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          connected = true;
          const reader = res.body.getReader();
          for (let r = await reader.read(); !r.done; r = await reader.read()) line.bytes! += r.value.byteLength;
        } catch (err) {
          if (stop.aborted) break;
          if (!connected) throw new Error(`stream ${asset.url} could not be played: ${reasonOf(err)}`);
        }
        await sleep(STREAM_RETRY_MS, stop).catch(() => {});
      }
      signal.throwIfAborted();
    } finally {
      clearTimeout(timer);
    }
  }

  private log(line: PlayLogLine): Promise<void> {
    return appendFile(this.logPath, `${JSON.stringify(line)}\n`);
  }
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
