/**
 * A live session made of clicks: one short 1 kHz burst every `everyMs`, encoded
 * to Opus frames stamped as the server stamps them (playAt = base + seq · 20 ms
 * on its clock). Clicks are easy to find in what a virtual card played, so a
 * test can tell when each one sounded and compare loudspeakers.
 */
import { LIVE_FRAME_MS, type LiveFrame } from '@loaxa/protocol';
import { codecDelayMs, encodeAll, synthesise, voiceEncoder } from './audio';

export interface ClickStream {
  frames: LiveFrame[];
  /** Server times the clicks should sound: capture time + latency + the codec's delay. */
  clicksAt: number[];
  /** For each click, the frame whose slot it sounds in (lose it and the next, and the click is gone). */
  clickSlots: number[];
}

export const CLICK_AMPLITUDE = 20_000;
const CLICK_MS = 5;

export function clickStream(options: {
  key: number;
  base: number;
  durationMs: number;
  everyMs?: number;
  firstMs?: number;
}): ClickStream {
  const every = options.everyMs ?? 500;
  // Off the frame grid, so a click starts inside a frame rather than on its edge.
  const first = options.firstMs ?? 123.4;
  const count = Math.round(options.durationMs / LIVE_FRAME_MS);
  const pcm = synthesise(count, (t) => {
    const sinceClick = (t * 1000 - first) % every;
    if (t * 1000 < first || sinceClick >= CLICK_MS) return 0;
    return CLICK_AMPLITUDE * Math.sin((2 * Math.PI * sinceClick) / 1);
  });
  const encoder = voiceEncoder();
  const delay = codecDelayMs(encoder);
  const frames = encodeAll(encoder, pcm).map((opus, seq) => ({
    key: options.key,
    seq,
    playAt: options.base + seq * LIVE_FRAME_MS,
    end: false,
    opus,
  }));
  const clicksAt: number[] = [];
  const clickSlots: number[] = [];
  for (let at = first; at + CLICK_MS < options.durationMs - 2 * LIVE_FRAME_MS; at += every) {
    clicksAt.push(options.base + at + delay);
    clickSlots.push(Math.floor((at + delay) / LIVE_FRAME_MS));
  }
  return { frames, clicksAt, clickSlots };
}

/** The session's closing frame, with no audio. */
export function endFrame(stream: ClickStream): LiveFrame {
  const last = stream.frames.at(-1)!;
  return { ...last, seq: last.seq + 1, playAt: last.playAt + LIVE_FRAME_MS, end: true, opus: new Uint8Array(0) };
}
