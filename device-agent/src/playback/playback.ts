import type { Asset, Priority } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import { atInstant } from '../clock/timer';
import type { LivePlay, Player, PlayItem, PlayResult } from '../player/player';
import { admit, nextInLine, type Contender } from './arbiter';

export interface PlayRequest {
  occurrenceId: string;
  priority: Priority;
  startAt: number;
  assets: readonly Asset[];
  filePaths?: readonly (string | undefined)[];
  volume?: number;
  /** Plays after this occurrence when it is playing or waiting here (see Contender.after). */
  after?: string;
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
  /** The caller's controller, used for the player's signal too (see submit). */
  controller?: AbortController;
  detach: () => void;
  /** Made when the item was cued, so that its start instant has as little to do as it can. */
  prepared?: Active;
}

/** An item from its start on (made ready before it). */
interface Active {
  owner: Playback;
  entry: Entry;
  item: PlayItem;
  controller: AbortController;
  /** Device-clock time the player was started at (NaN before). */
  startedAt: number;
  /** Set once "started" is raised (see announce). */
  announced: boolean;
  /** The player's end when it came before "started" was raised; reported right after it. */
  early?: PlayOutcome;
  /** Why we aborted the player, so its rejection is reported as an interruption, not a failure. */
  interruptReason?: string;
}

export interface PlaybackOptions {
  /** How items with a live asset are played (the agent's live receiver); given to the player with every item. */
  live?: LivePlay;
}

/**
 * The one loudspeaker: runs at most one item, queues the rest and applies the
 * priority rules of the arbiter.
 */
export class Playback {
  private active: Active | null = null;
  private readonly waiting: Entry[] = [];
  /** Items handed over before their start, each waiting for its instant (see submit). */
  private readonly cued = new Set<Entry>();
  private seq = 0;
  /** Set between one item ending and the next starting, so a newcomer cannot jump the queue. */
  private switching = false;
  private closed = false;

  constructor(
    private readonly player: Player,
    private readonly clock: Clock,
    private readonly defaultVolume: () => number,
    private readonly options: PlaybackOptions = {},
  ) {}

  get playing(): string | null {
    return this.active?.entry.occurrenceId ?? null;
  }

  /** The assets of the item playing now (none when silent): their files must stay in the cache. */
  get playingAssets(): readonly Asset[] {
    return this.active?.entry.request.assets ?? [];
  }

  /**
   * Resolves when the item has played, been interrupted, or failed. Aborting `signal` withdraws it.
   * An item whose `startAt` is still ahead is cued: everything it needs is made now, and at its
   * instant it only has to pass the arbiter and start the player. Planned items are handed over
   * about a second early for that: a start instant shared by many loudspeakers (a simulated
   * fleet's, or a slow node's) then costs each of them as little as it can.
   *
   * Given the caller's AbortController instead of a signal, the playback hands the player that
   * controller's signal and aborts it itself when it interrupts the item (preempted, stopped):
   * one controller per item instead of two (in a simulated fleet each costs ≈ 12 µs a command).
   */
  submit(request: PlayRequest, withdrawal?: AbortSignal | AbortController): Promise<PlayOutcome> {
    const shared = withdrawal instanceof AbortController ? withdrawal : undefined;
    const signal = withdrawal instanceof AbortController ? withdrawal.signal : withdrawal;
    return new Promise((resolve) => {
      if (this.closed) return resolve({ kind: 'interrupted', started: false, reason: 'agent stopping' });
      if (signal?.aborted) return resolve({ kind: 'interrupted', started: false, reason: reasonText(signal.reason) });
      const entry: Entry = {
        occurrenceId: request.occurrenceId,
        priority: request.priority,
        startAt: request.startAt,
        seq: ++this.seq,
        ...(request.after !== undefined ? { after: request.after } : {}),
        request,
        settle: resolve,
        signal,
        ...(shared ? { controller: shared } : {}),
        detach: () => {},
      };
      if (signal) {
        const onAbort = () => this.withdraw(entry, reasonText(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detach = () => signal.removeEventListener('abort', onAbort);
      }
      if (request.startAt > this.clock.now()) {
        entry.prepared = this.prepare(entry);
        this.cued.add(entry);
        atInstant(this.clock, request.startAt, () => {
          if (this.cued.delete(entry)) this.admit(entry);
        });
        return;
      }
      this.admit(entry);
    });
  }

  private admit(entry: Entry): void {
    const behind =
      entry.after !== undefined && [...this.cued, ...this.waiting].some((e) => e.occurrenceId === entry.after);
    const decision = this.switching || behind ? 'wait' : admit(this.active?.entry ?? null, entry);
    if (decision === 'start') return this.begin(entry);
    this.waiting.push(entry);
    if (decision === 'preempt' && this.active) {
      this.interrupt(this.active, `preempted by ${entry.priority} occurrence ${entry.occurrenceId}`);
    }
  }

  /** Interrupts the playing item (only if it is `occurrenceId`, when given), or withdraws that waiting item. */
  stop(reason: string, occurrenceId?: string): boolean {
    if (this.active && (occurrenceId === undefined || this.active.entry.occurrenceId === occurrenceId)) {
      this.interrupt(this.active, reason);
      return true;
    }
    const waiting = [...this.cued, ...this.waiting].find((e) => e.occurrenceId === occurrenceId);
    if (waiting) this.withdraw(waiting, reason);
    return waiting !== undefined;
  }

  /** Interrupts everything; nothing new starts afterwards. */
  close(reason = 'agent stopping'): void {
    this.closed = true;
    const unstarted = [...this.cued, ...this.waiting.splice(0)];
    this.cued.clear();
    for (const entry of unstarted) this.finish(entry, { kind: 'interrupted', started: false, reason });
    if (this.active) this.interrupt(this.active, reason);
  }

  private withdraw(entry: Entry, reason: string): void {
    if (this.active?.entry === entry) return this.interrupt(this.active, reason);
    if (this.cued.delete(entry)) return this.finish(entry, { kind: 'interrupted', started: false, reason });
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

  /** What the start needs, made ahead of it for a cued item. */
  private prepare(entry: Entry): Active {
    const { request } = entry;
    const controller = entry.controller ?? new AbortController();
    void controller.signal; // the signal is made on first read: now rather than at the instant
    const item: PlayItem = {
      occurrenceId: request.occurrenceId,
      assets: request.assets,
      ...(request.filePaths ? { filePaths: request.filePaths } : {}),
      ...(this.options.live ? { live: this.options.live } : {}),
      volume: undefined,
    };
    return { owner: this, entry, item, controller, startedAt: NaN, announced: false };
  }

  /**
   * The time-critical path, at a cued item's instant: on a node it is what stands between the
   * timer and the sound, and in a simulated fleet every device due on the instant runs it one
   * after another on one event loop. So it reads the clock, starts the player and allocates as
   * little as it can (a collection of the young generation in the middle of a fleet's start
   * costs milliseconds); the rest waits for the loop's check phase (see announce).
   */
  private begin(entry: Entry): void {
    const active = entry.prepared ?? this.prepare(entry);
    // The volume as it is now: a cued item's may have changed since.
    active.item.volume = entry.request.volume ?? this.defaultVolume();
    this.active = active;
    active.startedAt = this.clock.now();
    let play: Promise<PlayResult>;
    try {
      play = this.player.play(active.item, active.controller.signal);
    } catch (err) {
      play = Promise.reject(err);
    }
    // Handled from now on (a player failing at once is never "unhandled"), but reported only
    // after "started" (see settle).
    play.then(
      (result) => this.settle(active, result),
      (err: unknown) => this.settle(active, undefined, err),
    );
    if (toAnnounce.push(active) === 1) setImmediate(announceStarts);
  }

  /**
   * Raises "started" for an item begun in this turn, then reports its end if that came first.
   * It runs on the loop's check phase: on a node that is the same instant, and in a simulated
   * fleet every device whose timer fired in this pass has started before any of them does this
   * (a microtask would not do: Node drains microtasks after each timer callback). A stop arriving
   * in between finds the item active and aborts it.
   */
  static announce(active: Active): void {
    active.announced = true;
    active.entry.request.onStart?.(active.startedAt);
    if (active.early) active.owner.ended(active, active.early);
  }

  private settle(active: Active, result: PlayResult | undefined, err?: unknown): void {
    const { startedAt } = active;
    // A player that ignores the abort still ends as interrupted: the caller asked it to stop.
    const outcome: PlayOutcome =
      active.interruptReason !== undefined
        ? { kind: 'interrupted', started: true, reason: active.interruptReason }
        : result
          ? { kind: 'finished', startedAt, endedAt: Math.max(startedAt, result.endedAt) }
          : { kind: 'failed', started: true, error: `player error: ${reasonText(err)}` };
    if (active.announced) this.ended(active, outcome);
    else active.early = outcome;
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

/**
 * Items of every Playback begun in this turn, announced together on the loop's check phase: one
 * immediate for a whole simulated fleet starting on one instant instead of one per device.
 */
const toAnnounce: Active[] = [];

function announceStarts(): void {
  for (const active of toAnnounce.splice(0)) {
    try {
      Playback.announce(active);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
