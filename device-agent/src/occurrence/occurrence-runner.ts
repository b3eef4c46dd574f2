import { fileAssets, isFile, isStream, type Asset, type FileAsset, type Priority } from '@loaxa/protocol';
import type { AckReporter } from '../ack/ack-reporter';
import type { CachedAsset } from '../cache/cache';
import type { Clock } from '../clock/clock';
import { sleep, waitUntil } from '../clock/timer';
import type { Downloader } from '../download/downloader';
import type { Logger } from '../logger';
import { totalDurationMs } from '../player/player';
import { reasonText, type Playback, type PlayOutcome } from '../playback/playback';

export interface OccurrenceSpec {
  occurrenceId: string;
  priority: Priority;
  assets: readonly Asset[];
  volume?: number;
  /** Planned start by the device clock; null plays as soon as the audio is ready (play-now). */
  startAt: number | null;
  /** A later language version: handed to the playback after this occurrence is (see Contender.after). */
  after?: string;
}

export type OccurrenceOrigin = 'plan' | 'command';

/** How long a play-now keeps retrying its download before it is acked failed. */
export const PLAY_NOW_RETRY_MS = 60_000;
/** Downloads whose bytes fail the hash this many times in a row end the item as failed. */
const MAX_HASH_MISMATCHES = 3;
/**
 * How long before its start a planned item is armed (journalled as "may be
 * heard from its start on"): long enough for the fsync of a slow SD card to
 * be done by the start instant, short enough that a restart in between is rare
 * (it reports the item instead of playing it; see recovery.ts).
 */
export const ARM_LEAD_MS = 1_000;
/** pending: not yet audible; started: the loudspeaker has played some of it; done: nothing more will happen. */
export type OccurrencePhase = 'pending' | 'started' | 'done';

interface Run {
  spec: OccurrenceSpec;
  origin: OccurrenceOrigin;
  phase: OccurrencePhase;
  /** Journalled as possibly audible from its start (see ARM_LEAD_MS). */
  armed: boolean;
  controller: AbortController;
  finished: Promise<void>;
  /** Resolves once the run is handed to the playback, or has ended without (a version after it waits for it). */
  handedOver: Promise<void>;
  handOver: () => void;
}

/** Abort reason for a run replaced by a newer version of itself: it ends without an ack. */
class Superseded extends Error {}

export interface OccurrenceRunnerDeps {
  acks: AckReporter;
  downloader: Downloader;
  playback: Playback;
  clock: Clock;
  logger: Logger;
  /** First gap between download attempts of a planned item; doubles up to 60 s. */
  retryBaseMs?: number;
  /** How long a finished play-now occurrence is remembered, so a late duplicate cannot replay it. */
  commandRetentionMs?: number;
  /**
   * Set when the player makes no sound (null or simulated): the "started" and "finished" acks
   * carry it as their detail, so nobody reads a silent pole as one that played.
   */
  simulatedDetail?: string;
}

/** The time after which a planned item can no longer be played in full. */
export function playWindowEnd(startAt: number, assets: readonly Pick<Asset, 'durationMs'>[]): number {
  return startAt + totalDurationMs(assets);
}

/**
 * Drives each occurrence through received → ready → started → finished (or
 * failed/skipped/preempted) and remembers its phase, so a plan re-delivered
 * after a reconnect or a duplicated command never plays anything twice.
 * Between ready and started the item is armed in the ack journal (no ack is
 * sent for that), so a restart after a power cut never plays it twice either.
 */
export class OccurrenceRunner {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly deps: OccurrenceRunnerDeps) {}

  phase(occurrenceId: string): OccurrencePhase | undefined {
    return this.runs.get(occurrenceId)?.phase;
  }

  has(occurrenceId: string): boolean {
    return this.runs.has(occurrenceId);
  }

  /** Starts a run; false when this occurrence is already known. */
  launch(spec: OccurrenceSpec, origin: OccurrenceOrigin): boolean {
    if (this.runs.has(spec.occurrenceId)) return false;
    let handOver = () => {};
    const handedOver = new Promise<void>((resolve) => (handOver = resolve));
    const run: Run = {
      spec,
      origin,
      phase: 'pending',
      armed: false,
      controller: new AbortController(),
      finished: Promise.resolve(),
      handedOver,
      handOver,
    };
    this.runs.set(spec.occurrenceId, run);
    run.finished = this.drive(run)
      .catch((err: unknown) => {
        this.deps.logger.error({ err, occurrenceId: spec.occurrenceId }, 'occurrence run crashed');
        this.deps.acks.occurrence(spec.occurrenceId, 'failed', `agent error: ${reasonText(err)}`);
        run.phase = 'done';
      })
      .then(() => {
        run.handOver();
        // Plan items are forgotten when a plan drops them; commands have no such moment.
        if (origin === 'command') {
          const forget = () => this.runs.get(spec.occurrenceId) === run && this.forget(spec.occurrenceId);
          setTimeout(forget, this.deps.commandRetentionMs ?? 3_600_000).unref();
        }
      });
    return true;
  }

  /** Replaces a run that has not started yet with a new spec, without acking the old one. */
  replace(spec: OccurrenceSpec, origin: OccurrenceOrigin): boolean {
    const old = this.runs.get(spec.occurrenceId);
    if (old && old.phase !== 'pending') return false;
    if (old) {
      old.controller.abort(new Superseded('replaced by a newer plan'));
      this.runs.delete(spec.occurrenceId);
    }
    return this.launch(spec, origin);
  }

  /** Withdraws a run: not yet started → skipped, playing → preempted, with `reason` as detail. */
  cancel(occurrenceId: string, reason: string): void {
    this.runs.get(occurrenceId)?.controller.abort(new Error(reason));
  }

  /** Forgets a finished occurrence, including which acks were sent for it. */
  forget(occurrenceId: string): void {
    const run = this.runs.get(occurrenceId);
    if (run && run.phase !== 'done') return;
    this.runs.delete(occurrenceId);
    this.deps.acks.forgetOccurrence(occurrenceId);
  }

  /** Aborts every run silently and waits for them to end (agent shutdown). */
  async close(): Promise<void> {
    const all = [...this.runs.values()];
    for (const run of all) run.controller.abort(new Superseded('agent stopping'));
    await Promise.all(all.map((run) => run.finished));
  }

  private async drive(run: Run): Promise<void> {
    const { acks, clock } = this.deps;
    const { spec } = run;
    const id = spec.occurrenceId;
    const signal = run.controller.signal;
    const end = () => {
      run.phase = 'done';
    };
    const withdrawn = () => this.reportWithdrawn(run, signal.reason, false);
    if (spec.startAt !== null && playWindowEnd(spec.startAt, spec.assets) <= clock.now()) {
      acks.occurrence(
        id,
        'skipped',
        `start time passed: planned ${iso(spec.startAt)}, device clock ${iso(clock.now())}`,
      );
      return end();
    }
    acks.occurrence(id, 'received');
    let files: CachedAsset[];
    try {
      files = await this.prepare(spec, signal);
    } catch (err) {
      if (signal.aborted) withdrawn();
      else acks.occurrence(id, 'failed', reasonText(err));
      return end();
    }
    acks.occurrence(id, 'ready');
    // The cache has the bytes a command carried inline: the run, remembered for an hour after a
    // play-now, keeps no copy of them (the base64 text is a third larger than the audio; attached
    // bytes hold the whole message they came in).
    const assets = withoutInline(spec.assets);
    run.spec = { ...spec, assets };
    // Nothing may be heard before the journal says it may have been: a restart then reports it rather than replaying it.
    // A planned item is then handed to the playback before its start, which cues it for the instant.
    if (spec.startAt !== null) {
      try {
        await waitUntil(clock, spec.startAt - ARM_LEAD_MS, signal);
        await this.arm(run, spec.startAt);
      } catch {
        withdrawn();
        return end();
      }
    } else {
      // The version before this one goes first: wait until it reached the playback (or ended).
      const before = spec.after !== undefined ? this.runs.get(spec.after) : undefined;
      if (before && before !== run) await before.handedOver;
      if (signal.aborted) {
        withdrawn();
        return end();
      }
      await this.arm(run, clock.now());
    }
    const played = this.deps.playback.submit(
      {
        occurrenceId: id,
        priority: spec.priority,
        startAt: spec.startAt ?? clock.now(),
        assets,
        ...(spec.after !== undefined ? { after: spec.after } : {}),
        filePaths: alignPaths(assets, files),
        ...(spec.volume !== undefined ? { volume: spec.volume } : {}),
        onStart: (at) => {
          run.phase = 'started';
          acks.occurrence(id, 'started', this.deps.simulatedDetail, at);
        },
      },
      // The player's signal too: a preemption aborts it with its reason, reported as before (report).
      run.controller,
    );
    run.handOver();
    const outcome = await played;
    this.report(run, outcome, signal);
    end();
  }

  /** Durable before the item can start. A disk that cannot take it must not silence a broadcast: logged, played. */
  private async arm(run: Run, at: number): Promise<void> {
    run.armed = true;
    await this.deps.acks.arm(run.spec.occurrenceId, at).catch((err: unknown) => {
      this.deps.logger.error({ err, occurrenceId: run.spec.occurrenceId }, 'arm record not saved; playing anyway');
    });
  }

  /**
   * Planned items retry failed downloads (4G drops often) until they could no
   * longer play in full. Play-now retries quickly for a bounded time
   * (PLAY_NOW_RETRY_MS): a server restart or a 4G drop mid-download must not
   * lose a warning, but a notice much later than "now" would confuse.
   */
  private async prepare(spec: OccurrenceSpec, signal: AbortSignal): Promise<CachedAsset[]> {
    const { downloader, clock, logger } = this.deps;
    const playNow = spec.startAt === null;
    const base = playNow ? 500 : (this.deps.retryBaseMs ?? 2_000);
    const maxDelay = playNow ? 5_000 : 60_000;
    const deadline = playNow ? clock.now() + PLAY_NOW_RETRY_MS : playWindowEnd(spec.startAt!, spec.assets);
    let mismatches = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await downloader.fetchAll(fileAssets(spec.assets), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        // Bytes that do not match their hash are re-fetched, but a server that keeps
        // serving the wrong file must not eat the node's 4G data allowance.
        if (/sha256/.test(reasonText(err)) && ++mismatches >= MAX_HASH_MISMATCHES) throw err;
        const ceiling = Math.min(maxDelay, base * 2 ** Math.min(attempt, 10));
        const delay = ceiling / 2 + Math.random() * (ceiling / 2);
        if (clock.now() + delay >= deadline) {
          throw new Error(`assets not ready in time: ${reasonText(err)}`);
        }
        logger.warn(
          { occurrenceId: spec.occurrenceId, err: reasonText(err), retryInMs: Math.round(delay) },
          'download failed; retrying',
        );
        await sleep(delay, signal);
      }
    }
  }

  private report(run: Run, outcome: PlayOutcome, signal: AbortSignal): void {
    const { acks } = this.deps;
    const id = run.spec.occurrenceId;
    switch (outcome.kind) {
      case 'finished':
        acks.occurrence(id, 'finished', this.deps.simulatedDetail, outcome.endedAt);
        return;
      case 'failed':
        acks.occurrence(id, 'failed', outcome.error);
        return;
      case 'interrupted':
        if (signal.aborted) this.reportWithdrawn(run, signal.reason, outcome.started, outcome.reason);
        else acks.occurrence(id, outcome.started ? 'preempted' : 'skipped', outcome.reason);
    }
  }

  private reportWithdrawn(run: Run, reason: unknown, started: boolean, fallback?: string): void {
    const id = run.spec.occurrenceId;
    if (reason instanceof Superseded) {
      // Ends without an ack; unheard, so a restart may run it (or its replacement) after all.
      if (run.armed && !started) this.deps.acks.disarm(id);
      return;
    }
    this.deps.acks.occurrence(id, started ? 'preempted' : 'skipped', fallback ?? reasonText(reason));
  }
}

/**
 * `assets` without inline bytes (the same array when none has any): no `data`, and new objects
 * for `attached` files, whose bytes belong to the object the command decoder returned.
 */
function withoutInline(assets: readonly Asset[]): readonly Asset[] {
  const carries = (a: Asset): a is FileAsset => isFile(a) && ('data' in a || 'attached' in a);
  if (!assets.some(carries)) return assets;
  return assets.map((a) => {
    if (!carries(a)) return a;
    // Not a copy with the fields deleted: `delete` leaves the object in slow dictionary mode.
    const { data, attached, ...rest } = a;
    return rest;
  });
}

/** Local paths index-aligned with `assets`: a file's cached path, nothing for a stream. */
function alignPaths(assets: readonly Asset[], files: readonly CachedAsset[]): (string | undefined)[] {
  let next = 0;
  return assets.map((a) => (isStream(a) ? undefined : files[next++]?.path));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
