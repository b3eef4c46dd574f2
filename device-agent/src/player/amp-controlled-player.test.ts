import type { Asset } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { sleep } from '../clock/timer';
import { FakeAmpSwitch } from '../gpio/amp-switch';
import { AmpControlledPlayer } from './amp-controlled-player';
import type { Player, PlayItem, PlayResult } from './player';

const PRE_ROLL = 40;
const HOLD = 100;
const asset: Asset = { sha256: 'b'.repeat(64), url: '/m', bytes: 1, durationMs: 50, format: 'ogg' };
const item = (id: string): PlayItem => ({ occurrenceId: id, assets: [asset] });

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
    await sleep(50, signal);
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

/** Offsets of the relay transitions from t0, to compare with a timeline. */
const timeline = (amp: FakeAmpSwitch, t0: number) => amp.transitions.map((t) => [t.on ? 'on' : 'off', t.at - t0]);

describe('AmpControlledPlayer timeline (pre-roll 40 ms, hold 100 ms)', () => {
  it('one play: on, pre-roll, play, hold, off', async () => {
    const { amp, inner, player, signal } = setup();
    const t0 = Date.now();
    await player.play(item('a'), signal);
    expect(amp.isOn).toBe(true);
    await sleep(HOLD + 60);
    const [on, off] = timeline(amp, t0);
    expect(on?.[0]).toBe('on');
    expect(inner.plays[0]!.startedAt - t0).toBeGreaterThanOrEqual(PRE_ROLL - 2);
    expect(off?.[0]).toBe('off');
    const offAfterEnd = amp.transitions[1]!.at - inner.plays[0]!.endedAt!;
    expect(offAfterEnd).toBeGreaterThanOrEqual(HOLD - 2);
    expect(offAfterEnd).toBeLessThan(HOLD + 60);
  });

  it.each([
    { gap: 30, transitions: ['on', 'off'], secondPreRoll: false },
    { gap: HOLD + 80, transitions: ['on', 'off', 'on', 'off'], secondPreRoll: true },
  ])('two plays $gap ms apart → $transitions', async ({ gap, transitions, secondPreRoll }) => {
    const { amp, inner, player, signal } = setup();
    await player.play(item('a'), signal);
    await sleep(gap);
    const secondAsked = Date.now();
    await player.play(item('b'), signal);
    await sleep(HOLD + 60);
    expect(amp.transitions.map((t) => (t.on ? 'on' : 'off'))).toEqual(transitions);
    const waited = inner.plays[1]!.startedAt - secondAsked;
    if (secondPreRoll) expect(waited).toBeGreaterThanOrEqual(PRE_ROLL - 2);
    else expect(waited).toBeLessThan(PRE_ROLL / 2);
  });

  it('an abort during the pre-roll plays nothing and still switches off after the hold', async () => {
    const { amp, inner, player } = setup();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped')), 10);
    await expect(player.play(item('a'), controller.signal)).rejects.toThrow('stopped');
    expect(inner.plays).toHaveLength(0);
    await sleep(HOLD + 60);
    expect(amp.transitions.map((t) => t.on)).toEqual([true, false]);
  });

  it('a failed play still releases the relay after the hold', async () => {
    const { amp, inner, player, signal } = setup();
    inner.failNext = true;
    await expect(player.play(item('a'), signal)).rejects.toThrow('card gone');
    await sleep(HOLD + 60);
    expect(amp.isOn).toBe(false);
  });

  it('a relay that fails to switch does not stop the broadcast', async () => {
    const { amp, inner, player, errors, signal } = setup();
    amp.failWith = 'line busy';
    await player.play(item('a'), signal);
    expect(inner.plays).toHaveLength(1);
    expect(String(errors[0])).toContain('line busy');
  });

  it('amp on pins the relay past the hold; amp off switches it off at once', async () => {
    const { amp, player, signal } = setup();
    await player.setManual(true);
    await player.play(item('a'), signal);
    await sleep(HOLD + 60);
    expect(amp.isOn).toBe(true);
    await player.setManual(false);
    expect(amp.isOn).toBe(false);
    expect(amp.transitions.map((t) => t.on)).toEqual([true, false]);
  });
});
