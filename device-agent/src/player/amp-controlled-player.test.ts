import type { Asset } from '@loaxa/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sleep } from '../clock/timer';
import { FakeAmpSwitch } from '../gpio/amp-switch';
import { AmpControlledPlayer } from './amp-controlled-player';
import type { Player, PlayItem, PlayResult } from './player';

const PRE_ROLL = 40;
const HOLD = 100;
const PLAY = 50;
const asset: Asset = { sha256: 'b'.repeat(64), url: '/m', bytes: 1, durationMs: PLAY, format: 'ogg' };
const item = (id: string): PlayItem => ({ occurrenceId: id, assets: [asset] });

// Timers and Date.now are faked: the timeline is exact, whatever the load on the machine, and
// "the relay stayed on" is proven by moving time past the hold, not by hoping a sleep was long enough.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** Records when each play started and ended; plays for the asset's duration or fails when told. */
class TimedPlayer implements Player {
  readonly plays: { id: string; startedAt: number; endedAt?: number }[] = [];
  failNext = false;
  async play(playItem: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    const entry: { id: string; startedAt: number; endedAt?: number } = {
      id: playItem.occurrenceId,
      startedAt: Date.now(),
    };
    this.plays.push(entry);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('card gone');
    }
    await sleep(PLAY, signal);
    entry.endedAt = Date.now();
    return { startedAt: entry.startedAt, endedAt: entry.endedAt };
  }
}

function setup() {
  const amp = new FakeAmpSwitch();
  const inner = new TimedPlayer();
  const errors: unknown[] = [];
  const player = new AmpControlledPlayer(inner, amp, { preRollMs: PRE_ROLL, holdMs: HOLD }, (e) => errors.push(e));
  return { amp, inner, player, errors, signal: new AbortController().signal };
}

/** Plays `id` and moves time on until it has settled. */
async function playThrough(player: AmpControlledPlayer, id: string, signal: AbortSignal): Promise<void> {
  const played = player.play(item(id), signal);
  await advance(PRE_ROLL + PLAY);
  await played;
}

/** Offsets of the relay transitions from t0, to compare with a timeline. */
const timeline = (amp: FakeAmpSwitch, t0: number) => amp.transitions.map((t) => [t.on ? 'on' : 'off', t.at - t0]);

describe('AmpControlledPlayer timeline (pre-roll 40 ms, hold 100 ms)', () => {
  it('one play: on, pre-roll, play, hold, off', async () => {
    const { amp, inner, player, signal } = setup();
    const t0 = Date.now();
    await playThrough(player, 'a', signal);
    expect(amp.isOn).toBe(true);
    await advance(HOLD - 1);
    expect(amp.isOn).toBe(true);
    await advance(1);
    expect(timeline(amp, t0)).toEqual([
      ['on', 0],
      ['off', PRE_ROLL + PLAY + HOLD],
    ]);
    expect(inner.plays[0]).toEqual({ id: 'a', startedAt: t0 + PRE_ROLL, endedAt: t0 + PRE_ROLL + PLAY });
  });

  it.each([
    { gap: 30, transitions: ['on', 'off'], waited: 0 },
    { gap: HOLD + 80, transitions: ['on', 'off', 'on', 'off'], waited: PRE_ROLL },
  ])('two plays $gap ms apart → $transitions', async ({ gap, transitions, waited }) => {
    const { amp, inner, player, signal } = setup();
    await playThrough(player, 'a', signal);
    await advance(gap);
    const secondAsked = Date.now();
    await playThrough(player, 'b', signal);
    await advance(HOLD);
    expect(amp.transitions.map((t) => (t.on ? 'on' : 'off'))).toEqual(transitions);
    // Within the hold the relay is still on: no second pre-roll.
    expect(inner.plays[1]!.startedAt - secondAsked).toBe(waited);
  });

  it('an abort during the pre-roll plays nothing and still switches off after the hold', async () => {
    const { amp, inner, player } = setup();
    const controller = new AbortController();
    const played = player.play(item('a'), controller.signal);
    const rejected = expect(played).rejects.toThrow('stopped');
    await advance(10);
    controller.abort(new Error('stopped'));
    await rejected;
    expect(inner.plays).toHaveLength(0);
    await advance(HOLD);
    expect(amp.transitions.map((t) => t.on)).toEqual([true, false]);
  });

  it('a failed play still releases the relay after the hold', async () => {
    const { amp, inner, player, signal } = setup();
    inner.failNext = true;
    const played = player.play(item('a'), signal);
    const rejected = expect(played).rejects.toThrow('card gone');
    await advance(PRE_ROLL);
    await rejected;
    expect(amp.isOn).toBe(true);
    await advance(HOLD);
    expect(amp.isOn).toBe(false);
  });

  it('a relay that fails to switch does not stop the broadcast', async () => {
    const { amp, inner, player, errors, signal } = setup();
    amp.failWith = 'line busy';
    const played = player.play(item('a'), signal);
    await advance(PLAY); // no pre-roll: the relay never switched
    await played;
    expect(inner.plays).toHaveLength(1);
    expect(String(errors[0])).toContain('line busy');
  });

  it('amp on pins the relay past the hold; amp off switches it off at once', async () => {
    const { amp, player, signal } = setup();
    await player.setManual(true);
    const played = player.play(item('a'), signal);
    await advance(PLAY); // already on: no pre-roll
    await played;
    await advance(HOLD * 10);
    expect(amp.isOn).toBe(true);
    expect(vi.getTimerCount()).toBe(0); // no switch-off waiting to happen
    await player.setManual(false);
    expect(amp.isOn).toBe(false);
    expect(amp.transitions.map((t) => t.on)).toEqual([true, false]);
  });
});
