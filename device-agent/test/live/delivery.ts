/**
 * Sends a session's frames as the server does (each when captured) over a lossy path, through the wire format.
 * A frame listed twice (the end frame, which the server repeats) is sent twice.
 */
import { decodeLiveFrame, encodeLiveFrame, LIVE_FRAME_MS, type LiveFrame } from '@loaxa/protocol';
import { lossyPath, type PathConditions } from './network';
import type { Random } from './random';

export interface Delivery {
  /** Seqs of which no copy arrived. */
  lost: Set<number>;
}

/**
 * Schedules every frame on fake timers: it leaves the server `latencyMs` before
 * its play-out time (plus the frame's own 20 ms of capture) and arrives after
 * the path's delay, or never.
 */
export function deliverFrames(
  frames: readonly LiveFrame[],
  options: { random: Random; latencyMs: number; path: PathConditions; serverNow: () => number },
  onFrame: (frame: LiveFrame) => void,
): Delivery {
  const lost = new Set(frames.map((frame) => frame.seq));
  const { random, path } = options;
  const send = lossyPath(random, path, (bytes: Buffer) => {
    const frame = decodeLiveFrame(bytes);
    if (!frame) return;
    lost.delete(frame.seq);
    onFrame(frame);
  });
  // One timer at a time, each arming the next: fake timers look through every pending timer at each step.
  const sendFrom = (index: number) => {
    const frame = frames[index];
    if (!frame) return;
    const sentAt = frame.playAt - options.latencyMs + LIVE_FRAME_MS;
    setTimeout(() => {
      send(encodeLiveFrame(frame));
      sendFrom(index + 1);
    }, sentAt - options.serverNow());
  };
  sendFrom(0);
  return { lost };
}
