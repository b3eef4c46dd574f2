import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock/clock';
import { sleep } from '../clock/timer';
import type { Player, PlayItem, PlayResult } from './player';

export interface PlayLogLine {
  occurrenceId: string;
  sha256: string;
  startedAt: number;
  endedAt: number;
  /** Present only when playback was cut short. */
  interrupted?: true;
}

/**
 * Silent player that records what would have played: one JSON line per asset
 * played, so tests and headless nodes can prove timing and order.
 */
export class NullPlayer implements Player {
  private logDir: Promise<unknown> | undefined;

  constructor(
    private readonly logPath: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    await (this.logDir ??= mkdir(dirname(this.logPath), { recursive: true }));
    const startedAt = this.clock.now();
    for (const asset of item.assets) {
      const assetStart = this.clock.now();
      try {
        await sleep(asset.durationMs, signal);
      } catch (err) {
        await this.log({
          occurrenceId: item.occurrenceId,
          sha256: asset.sha256,
          startedAt: assetStart,
          endedAt: this.clock.now(),
          interrupted: true,
        });
        throw err;
      }
      await this.log({
        occurrenceId: item.occurrenceId,
        sha256: asset.sha256,
        startedAt: assetStart,
        endedAt: this.clock.now(),
      });
    }
    return { startedAt, endedAt: this.clock.now() };
  }

  private log(line: PlayLogLine): Promise<void> {
    return appendFile(this.logPath, `${JSON.stringify(line)}\n`);
  }
}
