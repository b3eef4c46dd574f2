import { describe, expect, it } from 'vitest';
import type { Asset } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import type { Player, PlayItem, PlayResult } from '../player/player';
import { Playback, type PlayRequest } from './playback';

/** A device clock the test moves by hand. */
function handClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** The sound card's edge: records what it was asked to play and when (by the device clock); ends on demand. */
class RecordingPlayer implements Player {
  readonly started: { occurrenceId: string; at: number; volume: number | undefined }[] = [];
  private readonly ends = new Map<string, (result: PlayResult | Error) => void>();
  constructor(
    private readonly clock: Clock,
    private readonly failing = new Set<string>(),
  ) {}

  play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    const at = this.clock.now();
    this.started.push({ occurrenceId: item.occurrenceId, at, volume: item.volume });
    if (this.failing.has(item.occurrenceId)) return Promise.reject(new Error('no such device'));
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      this.ends.set(item.occurrenceId, (r) => (r instanceof Error ? reject(r) : resolve(r)));
    });
  }

  end(occurrenceId: string): void {
    this.ends.get(occurrenceId)?.({ startedAt: 0, endedAt: this.clock.now() });
  }
}

/** A playback on a hand clock with a recording player, default volume 70 unless given. */
function rig(volume: () => number = () => 70, failing?: Set<string>) {
  const clock = handClock();
  const player = new RecordingPlayer(clock, failing);
  return { clock, player, playback: new Playback(player, clock, volume) };
}

const asset: Asset = { sha256: 'a'.repeat(64), url: '/media/a', durationMs: 1_000, bytes: 10 } as Asset;

function request(occurrenceId: string, startAt: number, extra: Partial<PlayRequest> = {}): PlayRequest {
  return { occurrenceId, priority: 'normal', startAt, assets: [asset], ...extra };
}

describe('Playback: items handed over before their start', () => {
  it('starts a cued item at its instant, not before, and raises "started" before it can end', async () => {
    const { clock, player, playback } = rig();
    const events: string[] = [];
    const startAt = clock.now() + 10;
    const outcome = playback.submit(
      request('cued', startAt, { onStart: (at) => events.push(`started ${at - startAt}`) }),
    );
    await turns(5);
    expect(player.started).toEqual([]);
    clock.advance(9);
    await turns(5);
    expect(player.started).toEqual([]);
    clock.advance(1);
    await turns(2);
    expect(player.started).toEqual([{ occurrenceId: 'cued', at: startAt, volume: 70 }]);
    player.end('cued');
    const result = await outcome;
    events.push(result.kind);
    expect(events).toEqual(['started 0', 'finished']);
  });

  it('plays a cued item at the volume of its start, not of the moment it was cued', async () => {
    let volume = 40;
    const { clock, player, playback } = rig(() => volume);
    void playback.submit(request('cued', clock.now() + 10));
    volume = 90;
    clock.advance(10);
    await turns(3);
    expect(player.started.map((s) => s.volume)).toEqual([90]);
  });

  it('withdraws a cued item that is cancelled, stopped or closed before its instant: it never reaches the player', async () => {
    const { clock, player, playback } = rig();
    const cancel = new AbortController();
    const byCancel = playback.submit(request('a', clock.now() + 10), cancel.signal);
    const byStop = playback.submit(request('b', clock.now() + 10));
    const byClose = playback.submit(request('c', clock.now() + 10));
    cancel.abort(new Error('cancelled by the server'));
    expect(playback.stop('stopped by the officer', 'b')).toBe(true);
    expect(await byCancel).toEqual({ kind: 'interrupted', started: false, reason: 'cancelled by the server' });
    expect(await byStop).toEqual({ kind: 'interrupted', started: false, reason: 'stopped by the officer' });
    playback.close();
    expect(await byClose).toEqual({ kind: 'interrupted', started: false, reason: 'agent stopping' });
    clock.advance(20);
    await turns(5);
    expect(player.started).toEqual([]);
  });

  it('a cued normal item due while an emergency plays waits for it, then plays', async () => {
    const { clock, player, playback } = rig();
    const emergency = playback.submit(request('emergency', clock.now(), { priority: 'emergency' }));
    const normal = playback.submit(request('normal', clock.now() + 10));
    clock.advance(10);
    await turns(5);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['emergency']);
    player.end('emergency');
    expect((await emergency).kind).toBe('finished');
    await turns(3);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['emergency', 'normal']);
    player.end('normal');
    expect((await normal).kind).toBe('finished');
  });

  it('an emergency cued for an instant preempts what plays then', async () => {
    const { clock, player, playback } = rig();
    const normal = playback.submit(request('normal', clock.now()));
    const emergency = playback.submit(request('emergency', clock.now() + 10, { priority: 'emergency' }));
    clock.advance(10);
    expect(await normal).toEqual({
      kind: 'interrupted',
      started: true,
      reason: 'preempted by emergency occurrence emergency',
    });
    await turns(3);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['normal', 'emergency']);
    player.end('emergency');
    expect((await emergency).kind).toBe('finished');
  });

  it('reports "started" and then the failure when the player fails at once', async () => {
    const { clock, playback } = rig(undefined, new Set(['broken']));
    const events: string[] = [];
    const outcome = await playback.submit(request('broken', clock.now(), { onStart: () => events.push('started') }));
    events.push(outcome.kind);
    expect(events).toEqual(['started', 'failed']);
    expect(outcome).toMatchObject({ started: true, error: 'player error: no such device' });
  });
});

describe('Playback: a notice in several languages', () => {
  it('plays an emergency’s later version after the one before it instead of cutting it off', async () => {
    const { clock, player, playback } = rig();
    const vi = playback.submit(request('vi', clock.now(), { priority: 'emergency' }));
    await turns(2);
    const hmn = playback.submit(request('hmn', clock.now(), { priority: 'emergency', after: 'vi' }));
    await turns(5);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['vi']);
    player.end('vi');
    expect((await vi).kind).toBe('finished');
    await turns(5);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['vi', 'hmn']);
    player.end('hmn');
    expect((await hmn).kind).toBe('finished');
  });
});

describe('Playback: what the loudspeaker holds', () => {
  it('names the playing item’s assets from its start to its end (the cache keeps their files)', async () => {
    const { clock, player, playback } = rig();
    const other: Asset = { ...asset, sha256: 'b'.repeat(64) } as Asset;
    const outcome = playback.submit(request('notice', clock.now() + 10, { assets: [asset, other] }));
    expect(playback.playingAssets).toEqual([]);
    clock.advance(10);
    await turns(3);
    expect(player.started.map((s) => s.occurrenceId)).toEqual(['notice']);
    expect(playback.playingAssets).toEqual([asset, other]);
    player.end('notice');
    expect((await outcome).kind).toBe('finished');
    expect(playback.playingAssets).toEqual([]);
  });

  it('with the caller’s controller, hands the player its signal, aborts it on preemption and withdraws on its abort', async () => {
    const clock = handClock();
    const player = new RecordingPlayer(clock);
    const signals: AbortSignal[] = [];
    const playback = new Playback(
      { play: (item, signal) => (signals.push(signal), player.play(item, signal)) },
      clock,
      () => 70,
    );
    const first = new AbortController();
    const normal = playback.submit(request('normal', clock.now()), first);
    await turns(2);
    expect(signals).toEqual([first.signal]);
    const urgent = new AbortController();
    const emergency = playback.submit(request('emergency', clock.now(), { priority: 'emergency' }), urgent);
    const reason = 'preempted by emergency occurrence emergency';
    expect(await normal).toEqual({ kind: 'interrupted', started: true, reason });
    // The caller learns of the interruption from its own signal, with the reason.
    expect(first.signal.aborted).toBe(true);
    expect((first.signal.reason as Error).message).toBe(reason);
    await turns(3);
    expect(signals).toEqual([first.signal, urgent.signal]);
    // And the caller aborting its controller withdraws the item.
    urgent.abort(new Error('stopped by command cmd-9'));
    expect(await emergency).toEqual({ kind: 'interrupted', started: true, reason: 'stopped by command cmd-9' });
  });

  it('gives the player the live receiver it was made with, with every item', async () => {
    const clock = handClock();
    const player = new RecordingPlayer(clock);
    const seen: PlayItem[] = [];
    const live = async () => {};
    const playback = new Playback(
      { play: (item, signal) => (seen.push(item), player.play(item, signal)) },
      clock,
      () => 70,
      {
        live,
      },
    );
    void playback.submit(request('notice', clock.now()));
    await turns(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.live).toBe(live);
  });
});
