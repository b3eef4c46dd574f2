import type { Asset, LiveAsset } from '@loaxa/protocol';
import type { Mixer } from '../mixer/mixer';
import type { LiveSink } from '../live/sinks';

/** Plays a live session into `sink` until it ends; rejects when `signal` aborts (the agent's LiveHub). */
export type LivePlay = (asset: LiveAsset, sink: LiveSink, signal: AbortSignal) => Promise<unknown>;

export interface PlayItem {
  occurrenceId: string;
  /** Played in order, back to back; a stream asset is relayed from its URL for its duration. */
  assets: readonly Asset[];
  /** Local files, index-aligned with assets (none for a stream), when the cache keeps files. */
  filePaths?: readonly (string | undefined)[];
  /** 0–100. */
  volume?: number;
  /** How a live asset is played (the agent sets it); a player writes the live audio into its own sink. */
  live?: LivePlay;
}

/** Plays a live asset of `item` through its `live`, into `sink`. */
export async function playLive(item: PlayItem, asset: LiveAsset, sink: LiveSink, signal: AbortSignal): Promise<void> {
  if (!item.live) {
    await sink.close();
    throw new Error('live audio needs the agent’s live receiver');
  }
  await item.live(asset, sink, signal);
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
