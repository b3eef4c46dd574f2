import type { Asset, Priority } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import type { Player } from '../player/player';
import { admit, nextInLine, type Contender } from './arbiter';

export interface PlayRequest {
  occurrenceId: string;
  priority: Priority;
  startAt: number;
  assets: readonly Asset[];
  filePaths?: readonly (string | undefined)[];
  volume?: number;
  /** Called synchronously at the moment the player is started, with the device-clock time. */
  onStart?: (at: number) => void;
}

export type PlayOutcome =
  | { kind: 'finished'; startedAt: number; endedAt: number }
  /** Preempted, stopped or cancelled; `started` tells whether any audio went out. */
  | { kind: 'interrupted'; started: boolean; reason: string }
  | { kind: 'failed'; started: boolean; error: string };

interface Entry extends Contender {
  request: PlayRequest;
  settle: (outcome: PlayOutcome) => void;
  signal: AbortSignal | undefined;
  detach: () => void;
}

interface Active {
  entry: Entry;
  controller: AbortController;
  /** Why we aborted the player, so its rejection is reported as an interruption, not a failure. */
  interruptReason?: string;
}

/**
 * The one loudspeaker: runs at most one item, queues the rest and applies the
 * priority rules of the arbiter.
 */
export class Playback {
  private active: Active | null = null;
  private readonly waiting: Entry[] = [];
  private seq = 0;
  /** Set between one item ending and the next starting, so a newcomer cannot jump the queue. */
  private switching = false;
  private closed = false;

  constructor(
    private readonly player: Player,
    private readonly clock: Clock,
    private readonly defaultVolume: () => number,
  ) {}

  get playing(): string | null {
    return this.active?.entry.occurrenceId ?? null;
  }

  /** Resolves when the item has played, been interrupted, or failed. Aborting `signal` withdraws it. */
  submit(request: PlayRequest, signal?: AbortSignal): Promise<PlayOutcome> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ kind: 'interrupted', started: false, reason: 'agent stopping' });
      if (signal?.aborted) return resolve({ kind: 'interrupted', started: false, reason: reasonText(signal.reason) });
      const entry: Entry = {
        occurrenceId: request.occurrenceId,
        priority: request.priority,
        startAt: request.startAt,
        seq: ++this.seq,
        request,
        settle: resolve,
        signal,
        detach: () => {},
      };
      if (signal) {
        const onAbort = () => this.withdraw(entry, reasonText(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detach = () => signal.removeEventListener('abort', onAbort);
      }
      const decision = this.switching ? 'wait' : admit(this.active?.entry ?? null, entry);
      if (decision === 'start') return this.begin(entry);
      this.waiting.push(entry);
      if (decision === 'preempt' && this.active) {
        this.interrupt(this.active, `preempted by ${request.priority} occurrence ${request.occurrenceId}`);
      }
    });
  }

  /** Interrupts the playing item (only if it is `occurrenceId`, when given), or withdraws that waiting item. */
  stop(reason: string, occurrenceId?: string): boolean {
    if (this.active && (occurrenceId === undefined || this.active.entry.occurrenceId === occurrenceId)) {
      this.interrupt(this.active, reason);
      return true;
    }
    const waiting = this.waiting.find((e) => e.occurrenceId === occurrenceId);
    if (waiting) this.withdraw(waiting, reason);
    return waiting !== undefined;
  }

  /** Interrupts everything; nothing new starts afterwards. */
  close(reason = 'agent stopping'): void {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) this.finish(entry, { kind: 'interrupted', started: false, reason });
    if (this.active) this.interrupt(this.active, reason);
  }

  private withdraw(entry: Entry, reason: string): void {
    if (this.active?.entry === entry) return this.interrupt(this.active, reason);
    const index = this.waiting.indexOf(entry);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    this.finish(entry, { kind: 'interrupted', started: false, reason });
  }

  private interrupt(active: Active, reason: string): void {
    if (active.interruptReason !== undefined) return;
    active.interruptReason = reason;
    active.controller.abort(new Error(reason));
  }

  private begin(entry: Entry): void {
    const controller = new AbortController();
    const active: Active = { entry, controller };
    this.active = active;
    const { request } = entry;
    const startedAt = this.clock.now();
    request.onStart?.(startedAt);
    const item = {
      occurrenceId: request.occurrenceId,
      assets: request.assets,
      volume: request.volume ?? this.defaultVolume(),
      ...(request.filePaths ? { filePaths: request.filePaths } : {}),
    };
    let play: Promise<{ startedAt: number; endedAt: number }>;
    try {
      play = this.player.play(item, controller.signal);
    } catch (err) {
      play = Promise.reject(err);
    }
    play.then(
      (result) => {
        // A player that ignores the abort still ends as interrupted: the caller asked it to stop.
        const outcome: PlayOutcome =
          active.interruptReason !== undefined
            ? { kind: 'interrupted', started: true, reason: active.interruptReason }
            : { kind: 'finished', startedAt, endedAt: Math.max(startedAt, result.endedAt) };
        this.ended(active, outcome);
      },
      (err: unknown) => {
        const outcome: PlayOutcome =
          active.interruptReason !== undefined
            ? { kind: 'interrupted', started: true, reason: active.interruptReason }
            : { kind: 'failed', started: true, error: `player error: ${reasonText(err)}` };
        this.ended(active, outcome);
      },
    );
  }

  private ended(active: Active, outcome: PlayOutcome): void {
    this.active = null;
    this.switching = true;
    this.finish(active.entry, outcome);
    // Let the ended item's acks go out before the next item's "started".
    setImmediate(() => {
      this.switching = false;
      this.advance();
    });
  }

  private advance(): void {
    if (this.active || this.closed) return;
    const index = nextInLine(this.waiting);
    if (index < 0) return;
    const [entry] = this.waiting.splice(index, 1);
    if (entry) this.begin(entry);
  }

  private finish(entry: Entry, outcome: PlayOutcome): void {
    entry.detach();
    entry.settle(outcome);
  }
}

export function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'cancelled';
}
