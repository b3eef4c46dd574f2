/**
 * Frames of one live session, held by sequence number until their slot is
 * played. MQTT QoS 0 over 4G loses, reorders and (after a reconnect) repeats
 * messages, so frames are accepted in any order and the player asks for slots
 * one by one, in order: each slot is the frame, or a copy of its packet that a
 * later message carried (redundancy), or the frame after it (whose in-band FEC
 * rebuilds the lost one), or nothing. A frame that comes both in its own
 * message and as copies is held once.
 */
import { LIVE_FRAME_MS, type LiveFrame } from '@loaxa/protocol';

/** What the player plays in a slot. */
export type Slot =
  | { kind: 'frame'; frame: LiveFrame }
  /** The slot's own message was lost (or is still on its way): its packet, copied into a later message. */
  | { kind: 'redundant'; frame: LiveFrame }
  /** The slot's frame is missing; `next` (seq + 1) carries a low-bitrate copy of it. */
  | { kind: 'fec'; next: LiveFrame }
  /** Neither: conceal (or stay quiet). */
  | { kind: 'missing' };

export type Arrival = 'accepted' | 'duplicate' | 'late' | 'foreign' | 'too-far';

/** Further ahead than this a frame is nonsense or from a stale clock, and would only hold memory. */
const DEFAULT_MAX_AHEAD_MS = 5_000;

export class JitterBuffer {
  private readonly frames = new Map<number, LiveFrame>();
  /** Seqs held only from a copy in a later message (so far). */
  private readonly copied = new Set<number>();
  /** The next slot the player will take; frames before it are late. Unknown until the first take. */
  private next: number | undefined;
  private readonly maxAhead: number;

  constructor(
    private readonly key: number,
    maxAheadMs = DEFAULT_MAX_AHEAD_MS,
  ) {
    this.maxAhead = Math.ceil(maxAheadMs / LIVE_FRAME_MS);
  }

  /**
   * A frame from its own message, and the copies of the packets before it that it carries
   * (each filed for its slot unless that slot is held, played or jumped over). What it
   * says is of the frame itself: copies are no news when their slot is already taken care of.
   */
  push(frame: LiveFrame): Arrival {
    if (frame.key !== this.key) return 'foreign';
    const arrival = this.file(frame, false);
    frame.redundant?.forEach((opus, index) => {
      const back = index + 1;
      if (opus.byteLength === 0 || frame.seq - back < 0) return;
      this.file(
        { key: frame.key, seq: frame.seq - back, playAt: frame.playAt - back * LIVE_FRAME_MS, end: false, opus },
        true,
      );
    });
    return arrival;
  }

  private file(frame: LiveFrame, copy: boolean): Arrival {
    if (this.next !== undefined && frame.seq < this.next) return 'late';
    if (this.frames.has(frame.seq)) {
      // The frame's own message after a copy of it: the same packet, not a repeat of the message.
      if (copy || !this.copied.delete(frame.seq)) return 'duplicate';
      this.frames.set(frame.seq, frame);
      return 'accepted';
    }
    const base = this.next ?? this.lowestSeq ?? frame.seq;
    if (frame.seq - base >= this.maxAhead) return 'too-far';
    this.frames.set(frame.seq, frame);
    if (copy) this.copied.add(frame.seq);
    return 'accepted';
  }

  /** The slot `seq`; it and every slot before it count as played from now on. */
  take(seq: number): Slot {
    for (const held of this.frames.keys()) {
      if (held < seq) {
        this.frames.delete(held);
        this.copied.delete(held);
      }
    }
    this.next = seq + 1;
    const frame = this.frames.get(seq);
    if (frame) {
      this.frames.delete(seq);
      return this.copied.delete(seq) ? { kind: 'redundant', frame } : { kind: 'frame', frame };
    }
    // Kept in the buffer: it is still played in its own slot.
    const next = this.frames.get(seq + 1);
    if (next && next.opus.byteLength > 0) return { kind: 'fec', next };
    return { kind: 'missing' };
  }

  get lowestSeq(): number | undefined {
    let lowest: number | undefined;
    for (const seq of this.frames.keys()) if (lowest === undefined || seq < lowest) lowest = seq;
    return lowest;
  }

  get size(): number {
    return this.frames.size;
  }
}
