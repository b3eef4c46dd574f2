import type { Asset } from '@loaxa/protocol';
import type { Mixer } from '../mixer/mixer';

export interface PlayItem {
  occurrenceId: string;
  /** Played in order, back to back. */
  assets: readonly Asset[];
  /** Local files, index-aligned with assets, when the cache keeps files. */
  filePaths?: readonly (string | undefined)[];
  /** 0–100. */
  volume?: number;
}

export interface PlayResult {
  startedAt: number;
  endedAt: number;
}

/**
 * Audio output. `play` resolves when the last asset ends and rejects when the
 * signal aborts (preemption, stop) or the output fails; it must release the
 * output before settling so the next item can start at once.
 */
export interface Player {
  play(item: PlayItem, signal: AbortSignal): Promise<PlayResult>;
  /**
   * Relays a live stream (a `{url, durationMs}` asset) for at most `durationMs`.
   * Optional: backends that cannot stream leave it out, and the caller fails the item.
   */
  playStream?(url: string, durationMs: number, signal: AbortSignal): Promise<PlayResult>;
  /** Hardware the `volume` and `amp` commands drive; absent parts are only recorded. */
  readonly controls?: OutputControls;
}

export interface OutputControls {
  mixer?: Mixer;
  /** Operator switch: on stays on until off; off switches off now. */
  amp?: { set(on: boolean): Promise<void> };
}

export function totalDurationMs(assets: readonly Pick<Asset, 'durationMs'>[]): number {
  return assets.reduce((sum, asset) => sum + asset.durationMs, 0);
}
