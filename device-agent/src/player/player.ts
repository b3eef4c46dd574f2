import type { Asset } from '@loaxa/protocol';

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
}

export function totalDurationMs(assets: readonly Pick<Asset, 'durationMs'>[]): number {
  return assets.reduce((sum, asset) => sum + asset.durationMs, 0);
}
