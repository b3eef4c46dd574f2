/**
 * Plays one live session in step with the other loudspeakers. Each frame says
 * when its first sample sounds on the server's clock; the clock sync turns that
 * into device time, and the sink says when the next written sample will sound.
 * The player writes PCM continuously a little ahead of the card and keeps the
 * two lined up: single samples dropped or repeated (at most one per 10 ms, which
 * nobody hears) for the slow drift between the card's crystal, the device clock
 * and the offset estimate; a jump when it is far out (an outage, a stalled event
 * loop), because stale audio in step is worse than a short gap.
 */
import {
  LIVE_FRAME_MS,
  LIVE_FRAME_SAMPLES,
  LIVE_SAMPLE_RATE,
  LIVE_LINK_LOST_END_MS,
  type LiveAsset,
  type LiveFrame,
} from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import { JitterBuffer } from './jitter-buffer';
import { LiveDecoder } from './opus';
import type { LiveSink } from './sinks';

/** The server's clock as the player needs it (LiveClockSync is one). */
export interface ServerTimeline {
  /** False until the offset can be trusted: the player waits rather than play out of step. */
  readonly ready: boolean;
  serverToDevice(serverMs: number): number;
}

export interface LivePlayerOptions {
  asset: Pick<LiveAsset, 'key' | 'durationMs'>;
  timeline: ServerTimeline;
  sink: LiveSink;
  clock: Clock;
  /** Audio kept queued ahead of the card, ms; covers timer lateness. Default 40. */
  leadMs?: number;
  /** How often the queue is topped up, ms. Default 10. */
  tickMs?: number;
}

export type LiveEnd = 'end-frame' | 'silence' | 'duration' | 'aborted';

export interface LiveStats {
  /** Slots played from their own frame's packet (from its message, or a copy of it in a later one). */
  played: number;
  /**
   * Of `played`, slots whose own message was lost (or had not come by then), played from a copy
   * of the packet that a later message carried: no audio lost.
   */
  redundant: number;
  /** Lost frames rebuilt from the next frame's in-band FEC. */
  recovered: number;
  /** Lost (or corrupt) frames guessed by Opus concealment. */
  concealed: number;
  /** Frames lost after a run of concealment (an outage): quiet slots. */
  silent: number;
  /** Slots jumped over to catch up after falling behind. */
  skipped: number;
  /** Frames that came after their slot was played (or skipped). */
  late: number;
  duplicate: number;
  /** Frames of another session's key. */
  foreign: number;
  /** Samples dropped or repeated to stay in step. */
  corrections: number;
  /** Longest run of slots without the real audio (concealed, silent or skipped), ms. */
  maxGapMs: number;
  endedBy?: LiveEnd;
  /** Device time the first slot's audio sounds. */
  firstSoundAt?: number;
  /** Device time the player stopped (before the sink closed). */
  endedAt?: number;
}

const SAMPLES_PER_MS = LIVE_SAMPLE_RATE / 1000;
/** Off by more than this and the player trims single samples. */
const TRIM_MS = 2;
/** At most one trim per this many samples (10 ms). */
const TRIM_SPACING = SAMPLES_PER_MS * 10;
/** Off by more than this and the player jumps (or waits) instead of trimming. */
const JUMP_MS = 60;
/** When not yet in step (start, after an underrun) alignment is exact, to within this. */
const ALIGN_MS = 0.25;
/** Opus concealment past this many frames is a drone, not speech: silence instead. */
const MAX_CONCEALED_RUN = 5;
/** The sink's queue ending later than the player left it: the card ran dry meanwhile. */
const UNDERRUN_MS = 1;

export class LivePlayer {
  private readonly buffer: JitterBuffer;
  private readonly stats: LiveStats = {
    played: 0,
    redundant: 0,
    recovered: 0,
    concealed: 0,
    silent: 0,
    skipped: 0,
    late: 0,
    duplicate: 0,
    foreign: 0,
    corrections: 0,
    maxGapMs: 0,
  };
  private decoder: LiveDecoder | undefined;
  /** A frame whose play-out time the others are reckoned from (the latest one taken). */
  private anchor: { seq: number; playAt: number } | undefined;
  /** Next sample to write: slot `seq`, `offset` samples in. */
  private cursor: { seq: number; offset: number } | undefined;
  /** The current slot's audio, once taken. */
  private pcm: Int16Array | undefined;
  /** The first slot not to play: after the end frame (or at it, when it carries no audio). */
  private endSeq: number | undefined;
  private lastHeardAt = -Infinity;
  /** Where the sink's queue ended after the last write; undefined before the first. */
  private queueEnd: number | undefined;
  /** Writing the slots without a break since the last alignment. */
  private inStep = false;
  private sinceTrim = TRIM_SPACING;
  private missingRun = 0;
  private concealedRun = 0;
  private draining = false;
  private playing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LivePlayerOptions) {
    this.buffer = new JitterBuffer(options.asset.key);
  }

  /**
   * Hands over a frame from the live topic; any order, any repetition, any session. The
   * copies of earlier packets it carries fill the slots still missing theirs.
   */
  onFrame(frame: LiveFrame): void {
    if (frame.key !== this.options.asset.key) {
      this.stats.foreign++;
      return;
    }
    this.lastHeardAt = this.options.clock.now();
    if (frame.end) {
      const endSeq = frame.opus.byteLength > 0 ? frame.seq + 1 : frame.seq;
      this.endSeq = Math.min(this.endSeq ?? endSeq, endSeq);
    }
    const arrival = this.buffer.push(frame);
    if (arrival === 'late') this.stats.late++;
    else if (arrival === 'duplicate') this.stats.duplicate++;
    this.anchor ??= { seq: frame.seq, playAt: frame.playAt };
  }

  /** A copy of the counters so far. */
  snapshot(): LiveStats {
    return { ...this.stats };
  }

  /**
   * Plays until an end frame's audio has sounded, LIVE_LINK_LOST_END_MS without a
   * frame, `durationMs` from now, or the signal aborts; then closes the sink and
   * resolves (aborting too: `endedBy` says why). Rejects only when the sink fails.
   */
  play(signal?: AbortSignal): Promise<LiveStats> {
    const { clock, sink, asset } = this.options;
    if (this.decoder) throw new Error('a live player plays one session, once');
    const startedAt = clock.now();
    this.lastHeardAt = Math.max(this.lastHeardAt, startedAt);
    this.decoder = new LiveDecoder();
    return new Promise<LiveStats>((resolve, reject) => {
      const stop = (outcome: { end: LiveEnd } | { error: Error }) => {
        if (!this.playing) return;
        this.playing = false;
        clearInterval(this.timer);
        signal?.removeEventListener('abort', onAbort);
        this.decoder?.close();
        if ('end' in outcome) this.stats.endedBy = outcome.end;
        this.stats.endedAt = clock.now();
        // Closing drops whatever is still queued: the session is over, nothing stale may sound.
        void sink.close().then(() => ('error' in outcome ? reject(outcome.error) : resolve(this.snapshot())), reject);
      };
      const onAbort = () => stop({ end: 'aborted' });
      this.playing = true;
      if (signal?.aborted) return stop({ end: 'aborted' });
      signal?.addEventListener('abort', onAbort, { once: true });
      const tick = () => {
        try {
          if (sink.error) return stop({ error: sink.error });
          const now = clock.now();
          if (now - this.lastHeardAt >= LIVE_LINK_LOST_END_MS) return stop({ end: 'silence' });
          if (now - startedAt >= asset.durationMs) return stop({ end: 'duration' });
          this.fill(now);
          if (this.draining && now >= (this.queueEnd ?? now)) return stop({ end: 'end-frame' });
        } catch (err) {
          stop({ error: err as Error });
        }
      };
      this.timer = setInterval(tick, this.options.tickMs ?? 10);
      tick();
    });
  }

  /**
   * Tops the sink's queue up to `leadMs` past the earliest a sample can sound (now + the output's
   * own buffer: an ALSA sink's queue never ends sooner than that, so a horizon from now alone
   * never asked it for a sample).
   */
  private fill(now: number): void {
    if (this.draining || !this.anchor || !this.options.timeline.ready) return;
    const horizon = now + this.options.sink.latencyMs + (this.options.leadMs ?? 40);
    while (!this.draining && this.playing && this.options.sink.nextSampleAt() < horizon) this.writeChunk(horizon);
  }

  /**
   * The first slot still to come (seqs start at 0, so a lost first frame is
   * still a slot to fill). Chosen again for every chunk of silence before the
   * first sound, as the clock estimate moves. A slot that began less than
   * ALIGN_MS ago still counts: the silence before it ends a hair late on a
   * fast card, and the slot must not slip to the next one for that.
   */
  private firstSlot(at: number): number {
    const anchor = this.anchor!;
    return Math.max(0, anchor.seq + Math.ceil((at - ALIGN_MS - this.slotAt(anchor.seq)) / LIVE_FRAME_MS));
  }

  /** Device time the first sample of slot `seq` should sound. */
  private slotAt(seq: number): number {
    const anchor = this.anchor!;
    return this.options.timeline.serverToDevice(anchor.playAt + (seq - anchor.seq) * LIVE_FRAME_MS);
  }

  /** Writes up to the next 10 ms boundary of the slot, or silence to wait, or jumps to catch up. */
  private writeChunk(horizon: number): void {
    const sink = this.options.sink;
    const at = sink.nextSampleAt();
    if (this.stats.firstSoundAt === undefined && !this.pcm) this.cursor = { seq: this.firstSlot(at), offset: 0 };
    const cursor = this.cursor!;
    const errorMs = at - (this.slotAt(cursor.seq) + cursor.offset / SAMPLES_PER_MS);
    const underran = this.queueEnd !== undefined && at - this.queueEnd > UNDERRUN_MS;
    if (underran) this.inStep = false;
    const tolerance = this.inStep ? JUMP_MS : ALIGN_MS;

    if (errorMs < -tolerance) {
      // Early: the card waits in silence, up to the horizon at a time.
      const wait = Math.min(Math.round(-errorMs * SAMPLES_PER_MS), Math.ceil((horizon - at) * SAMPLES_PER_MS));
      sink.write(new Int16Array(Math.max(1, wait)));
      this.queueEnd = sink.nextSampleAt();
      this.inStep = false;
      return;
    }
    if (errorMs > tolerance) {
      // Late: what should be sounding now is further on.
      this.advance(Math.round(errorMs * SAMPLES_PER_MS));
      this.inStep = false;
      return;
    }

    const pcm = (this.pcm ??= this.enterSlot(cursor.seq));
    if (!pcm) return;
    const count = TRIM_SPACING - (cursor.offset % TRIM_SPACING);
    let chunk = pcm.subarray(cursor.offset, cursor.offset + count);
    if (this.inStep && Math.abs(errorMs) > TRIM_MS && this.sinceTrim >= TRIM_SPACING) {
      chunk = errorMs > 0 ? chunk.subarray(1) : repeatFirst(chunk);
      this.stats.corrections++;
      this.sinceTrim = 0;
    }
    this.stats.firstSoundAt ??= at;
    sink.write(chunk);
    this.queueEnd = sink.nextSampleAt();
    this.inStep = true;
    this.sinceTrim += chunk.length;
    this.advance(count);
  }

  /** Moves the cursor on by `samples`; whole slots passed over unplayed are skipped. */
  private advance(samples: number): void {
    const cursor = this.cursor!;
    const offset = cursor.offset + samples;
    const slots = Math.floor(offset / LIVE_FRAME_SAMPLES);
    if (slots === 0) {
      cursor.offset = offset;
      return;
    }
    // Slots left before their audio was taken were never played.
    const jumped = this.pcm ? slots - 1 : slots;
    if (jumped > 0) {
      this.stats.skipped += jumped;
      this.noteGap(jumped);
    }
    cursor.seq += slots;
    cursor.offset = offset % LIVE_FRAME_SAMPLES;
    this.pcm = undefined;
  }

  /** The audio of slot `seq`, or undefined when the session ends before it. */
  private enterSlot(seq: number): Int16Array | undefined {
    if (this.endSeq !== undefined && seq >= this.endSeq) {
      this.draining = true;
      return undefined;
    }
    const decoder = this.decoder!;
    const slot = this.buffer.take(seq);
    if ((slot.kind === 'frame' || slot.kind === 'redundant') && slot.frame.opus.byteLength > 0) {
      this.anchor = { seq, playAt: slot.frame.playAt };
      try {
        const pcm = decoder.decode(slot.frame.opus);
        this.stats.played++;
        if (slot.kind === 'redundant') this.stats.redundant++;
        this.noteGap(0);
        return pcm;
      } catch {
        // A corrupt packet: fall through to concealment, as if it had been lost.
      }
    }
    if (slot.kind === 'fec') {
      this.anchor = { seq: slot.next.seq, playAt: slot.next.playAt };
      try {
        const pcm = decoder.recover(slot.next.opus);
        this.stats.recovered++;
        this.noteGap(0);
        return pcm;
      } catch {
        // The next packet is corrupt: nothing to recover from.
      }
    }
    this.noteGap(1);
    if (this.concealedRun < MAX_CONCEALED_RUN) {
      this.concealedRun++;
      this.stats.concealed++;
      return decoder.conceal();
    }
    this.stats.silent++;
    return new Int16Array(LIVE_FRAME_SAMPLES);
  }

  /** Counts `slots` more slots without real audio; zero ends the run. */
  private noteGap(slots: number): void {
    if (slots === 0) {
      this.missingRun = 0;
      this.concealedRun = 0;
      return;
    }
    this.missingRun += slots;
    this.stats.maxGapMs = Math.max(this.stats.maxGapMs, this.missingRun * LIVE_FRAME_MS);
  }
}

/** `chunk` with its first sample twice: 1/48 ms later from here on. */
function repeatFirst(chunk: Int16Array): Int16Array {
  const longer = new Int16Array(chunk.length + 1);
  longer[0] = chunk[0] ?? 0;
  longer.set(chunk, 1);
  return longer;
}
