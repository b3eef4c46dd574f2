import { LIVE_FRAME_MS, LIVE_LINK_LOST_END_MS, type LiveFrame } from '@loaxa/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../clock/clock';
import { CLICK_AMPLITUDE, clickStream, endFrame, type ClickStream } from '../../test/live/clicks';
import { deliverFrames } from '../../test/live/delivery';
import { pingServer } from '../../test/live/network';
import { seededRandom } from '../../test/live/random';
import { LiveClockSync } from './clock-sync';
import { LivePlayer, type LiveStats, type ServerTimeline } from './live-player';
import { VirtualSoundCard } from './sinks';

// Fake timers drive everything; Date.now() is the server's clock, each loudspeaker's is offset from it.
const T0 = 1_700_000_000_000;
const server: Clock = { now: () => Date.now() };
const skewed = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs });
const KEY = 0xc0ffee;
const LATENCY_MS = 400;
const THRESHOLD = CLICK_AMPLITUDE / 4;

/**
 * Moves fake time on. Players, syncs and paths all work synchronously inside
 * their timers, so the timers run back to back (yielding between each, as the
 * async variant does, made a 30 s session take 10 s); only the promises of
 * finished players are left to settle.
 */
async function run(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await vi.advanceTimersByTimeAsync(0);
}

/** A timeline that knows the offset exactly, for tests about the player rather than the sync. */
const exactTimeline = (offsetMs: number): ServerTimeline => ({ ready: true, serverToDevice: (ms) => ms + offsetMs });

/** Clicks a card played, on the server's clock (the device's true offset taken back out). */
function heardAt(card: VirtualSoundCard, offsetMs: number): number[] {
  return card.onsets(THRESHOLD).map((at) => at - offsetMs);
}

/** For each expected click, how far from it (ms) the nearest heard click was. */
function clickErrors(stream: ClickStream, heard: readonly number[]): number[] {
  return stream.clicksAt.map((at) => Math.min(...heard.map((h) => Math.abs(h - at))));
}

/** The frames as the server sends them: each (the end frame too) with copies of the `copies` packets before it. */
function withCopies(frames: readonly LiveFrame[], copies = 2): LiveFrame[] {
  return frames.map((frame, index) => ({
    ...frame,
    redundant: frames
      .slice(Math.max(0, index - copies), index)
      .map((before) => before.opus)
      .reverse(),
  }));
}

/**
 * How each of `count` audio slots should play when the messages of `lost` never came (the end
 * frame, seq `count`, carries copies too): its own packet, a copy from one of the next `copies`
 * messages, the in-band FEC of the next frame's packet (its own or a copy), or concealment.
 */
function expectedSlots(count: number, lost: ReadonlySet<number>, copies: number) {
  const held = (seq: number) => {
    for (let message = seq; message <= Math.min(seq + copies, count); message++) if (!lost.has(message)) return true;
    return false;
  };
  const expected = { own: 0, redundant: 0, recovered: 0, concealed: 0 };
  for (let seq = 0; seq < count; seq++) {
    if (!lost.has(seq)) expected.own++;
    else if (held(seq)) expected.redundant++;
    else if (seq + 1 < count && held(seq + 1)) expected.recovered++;
    else expected.concealed++;
  }
  return expected;
}

describe('LivePlayer', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('keeps two loudspeakers within 10 ms of the plan and of each other over a lossy, reordering link', async () => {
    const durationMs = 30_000;
    // The session starts once the clock sync has run a while, as it would on a node that is up.
    const base = T0 + 10_000 + LATENCY_MS;
    const stream = clickStream({ key: KEY, base, durationMs });
    // QoS 0 may lose the end frame too: the server sends it three times.
    const frames = [...stream.frames, endFrame(stream), endFrame(stream), endFrame(stream)];

    const speakers = [
      { offsetMs: 250, ppm: 0, seed: 1 },
      { offsetMs: -80, ppm: 100, seed: 2 },
    ].map(({ offsetMs, ppm, seed }) => {
      const clock = skewed(offsetMs);
      const random = seededRandom(seed);
      const jitter = { delayMs: () => random.gaussian(40, 10), loss: 0.05 };
      const sync = new LiveClockSync({ clock, send: (ping) => send(ping) });
      const send = pingServer(random, server, { up: jitter, down: jitter }, (pong) => sync.onPong(pong));
      sync.start();
      const card = new VirtualSoundCard(clock, { ppm, keepMs: Infinity });
      const player = new LivePlayer({ asset: { key: KEY, durationMs: 60_000 }, timeline: sync, sink: card, clock });
      const delivery = deliverFrames(
        frames,
        {
          random,
          latencyMs: LATENCY_MS,
          serverNow: server.now,
          path: { delayMs: () => random.between(30, 150), loss: 0.05, duplicate: 0.03 },
        },
        (frame) => player.onFrame(frame),
      );
      return { offsetMs, card, player, sync, delivery };
    });

    // The play-now command reaches both as the first frame is sent.
    await run(base - LATENCY_MS - T0);
    const results = speakers.map((speaker) => speaker.player.play());
    await run(LATENCY_MS + durationMs + 1_000);
    const stats = await Promise.all(results);
    for (const speaker of speakers) speaker.sync.stop();

    const heard = speakers.map((speaker) => heardAt(speaker.card, speaker.offsetMs));
    for (const [index, speaker] of speakers.entries()) {
      const lost = new Set([...speaker.delivery.lost].filter((seq) => seq < stream.frames.length));
      const result = stats[index]!;
      expect(result.endedBy).toBe('end-frame');
      // A click is gone only when its frame and the next (which carries its FEC copy) are both lost.
      const audible = stream.clickSlots.map((slot) => !(lost.has(slot) && lost.has(slot + 1)));
      const errors = clickErrors(stream, heard[index]!);
      errors.forEach((error, click) => {
        if (audible[click]) expect(error, `click ${click} on loudspeaker ${index}`).toBeLessThanOrEqual(10);
      });
      expect(heard[index]!.length).toBe(audible.filter(Boolean).length);
      // Every lost frame is rebuilt or concealed, no more; none came too late to play.
      expect(lost.size).toBeGreaterThan(0);
      expect(result.concealed).toBeLessThanOrEqual(lost.size);
      expect(result.concealed + result.recovered).toBe(lost.size);
      expect(result.played).toBe(stream.frames.length - lost.size);
      expect(result.duplicate).toBeGreaterThan(0);
      expect(result.late).toBe(0);
      expect(result.skipped).toBe(0);
      expect(result.maxGapMs).toBeLessThanOrEqual(100);
    }
    // The two loudspeakers agree with each other, click by click.
    for (const at of heard[0]!) {
      const other = heard[1]!.find((h) => Math.abs(h - at) < 100);
      if (other !== undefined) expect(Math.abs(other - at)).toBeLessThanOrEqual(10);
    }
  });

  it.each([
    [300, 'fast', 'repeating'],
    [-300, 'slow', 'dropping'],
  ])('follows a sound card %d ppm off (%s) by %s single samples', async (ppm) => {
    const offsetMs = -3_000;
    const clock = skewed(offsetMs);
    const base = T0 + LATENCY_MS;
    const stream = clickStream({ key: KEY, base, durationMs: 20_000 });
    const card = new VirtualSoundCard(clock, { ppm, keepMs: Infinity });
    const player = new LivePlayer({
      asset: { key: KEY, durationMs: 60_000 },
      timeline: exactTimeline(offsetMs),
      sink: card,
      clock,
    });
    deliverFrames(
      [...stream.frames, endFrame(stream)],
      { random: seededRandom(7), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 60, loss: 0 } },
      (frame) => player.onFrame(frame),
    );
    const result = player.play();
    await run(LATENCY_MS + 21_000);
    const stats = await result;

    // Uncorrected, the last clicks would be 6 ms off; trimmed, they stay within the 2 ms dead band.
    const errors = clickErrors(stream, heardAt(card, offsetMs));
    for (const error of errors) expect(error).toBeLessThanOrEqual(2.2);
    // 6 ms is 288 samples; one trim per 10 ms at most, none while within the dead band.
    expect(stats.corrections).toBeGreaterThan(150);
    expect(stats.corrections).toBeLessThan(300);
    expect(stats.skipped).toBe(0);
  });

  it('catches up after falling behind (a stalled event loop) instead of playing late', async () => {
    const offsetMs = 1_000;
    const clock = skewed(offsetMs);
    const base = T0 + LATENCY_MS;
    const stream = clickStream({ key: KEY, base, durationMs: 4_000 });
    const card = new VirtualSoundCard(clock, { keepMs: Infinity });
    const player = new LivePlayer({
      asset: { key: KEY, durationMs: 60_000 },
      timeline: exactTimeline(offsetMs),
      sink: card,
      clock,
    });
    deliverFrames(
      [...stream.frames, endFrame(stream)],
      { random: seededRandom(3), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 50, loss: 0 } },
      (frame) => player.onFrame(frame),
    );
    const result = player.play();
    await run(LATENCY_MS + 1_700);
    // 150 ms pass with no timer run: the card runs dry meanwhile.
    vi.setSystemTime(Date.now() + 150);
    await run(3_000);
    const stats = await result;

    expect(stats.endedBy).toBe('end-frame');
    expect(stats.skipped).toBeGreaterThanOrEqual(5);
    const errors = clickErrors(stream, heardAt(card, offsetMs));
    for (const error of errors) expect(error).toBeLessThanOrEqual(10);
  });

  it.each([
    [-100, 'late: jumps ahead'],
    [100, 'early: waits in silence'],
  ])('re-aligns at once when the clock estimate moves %d ms (%s)', async (shiftMs) => {
    let offsetMs = 500;
    const clock = skewed(offsetMs);
    const timeline: ServerTimeline = { ready: true, serverToDevice: (ms) => ms + offsetMs };
    const base = T0 + LATENCY_MS;
    const stream = clickStream({ key: KEY, base, durationMs: 4_000 });
    const card = new VirtualSoundCard(clock, { keepMs: Infinity });
    const player = new LivePlayer({ asset: { key: KEY, durationMs: 60_000 }, timeline, sink: card, clock });
    deliverFrames(
      [...stream.frames, endFrame(stream)],
      { random: seededRandom(8), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 50, loss: 0 } },
      (frame) => player.onFrame(frame),
    );
    const result = player.play();
    // Between clicks, so the 100 ms jumped over holds none.
    await run(LATENCY_MS + 1_800);
    // An NTP step, or a burst of pongs that moves the median: trimming 100 ms would take most of a minute.
    const movedAt = clock.now();
    offsetMs += shiftMs;
    await run(3_000);
    const stats = await result;

    const onsets = card.onsets(THRESHOLD);
    const before = onsets.filter((at) => at < movedAt).map((at) => at - 500);
    const after = onsets.filter((at) => at > movedAt + 200).map((at) => at - offsetMs);
    for (const error of clickErrors(stream, [...before, ...after])) expect(error).toBeLessThanOrEqual(0.5);
    if (shiftMs < 0) expect(stats.skipped).toBeGreaterThanOrEqual(4);
    else expect(stats.skipped).toBe(0);
    expect(stats.corrections).toBeLessThan(5);
  });

  describe('redundancy (copies of the packets before in each message)', () => {
    it('conceals at most 0.1 % of 20,000 frames at 5 % independent message loss (FEC alone: ~0.25 %)', async () => {
      const offsetMs = 120;
      const clock = skewed(offsetMs);
      const stream = clickStream({ key: KEY, base: T0 + LATENCY_MS, durationMs: 100_000 });
      const count = stream.frames.length;
      const end = endFrame(stream);
      // The end frame is sent three times, as the server does.
      const asSent = (frames: LiveFrame[]) => [...frames, frames.at(-1)!, frames.at(-1)!];
      const variants = {
        copies: asSent(withCopies([...stream.frames, end])),
        fecOnly: asSent([...stream.frames, end]),
      };
      // The same seed draws the same losses and delays for both: the same messages are lost.
      const runs = [21, 22, 23, 24].flatMap((seed) =>
        (['copies', 'fecOnly'] as const).map((variant) => {
          const random = seededRandom(seed);
          const player = new LivePlayer({
            asset: { key: KEY, durationMs: 200_000 },
            timeline: exactTimeline(offsetMs),
            sink: new VirtualSoundCard(clock),
            clock,
          });
          const delivery = deliverFrames(
            variants[variant],
            {
              random,
              latencyMs: LATENCY_MS,
              serverNow: server.now,
              path: { delayMs: () => random.between(30, 150), loss: 0.05, duplicate: 0.03 },
            },
            (frame) => player.onFrame(frame),
          );
          return { variant, delivery, result: player.play() };
        }),
      );
      await run(LATENCY_MS + 101_000);
      const totals = { copies: { slots: 0, concealed: 0 }, fecOnly: { slots: 0, concealed: 0 } };
      for (const { variant, delivery, result } of runs) {
        const stats: LiveStats = await result;
        const expected = expectedSlots(count, delivery.lost, variant === 'copies' ? 2 : 0);
        expect(stats.endedBy).toBe('end-frame');
        expect(stats.played + stats.recovered + stats.concealed + stats.silent).toBe(count);
        // Every slot is what the messages that came allow: nothing late, nothing played twice.
        expect({
          own: stats.played - stats.redundant,
          redundant: stats.redundant,
          recovered: stats.recovered,
          concealed: stats.concealed + stats.silent,
        }).toEqual(expected);
        expect(stats.late).toBe(0);
        expect(stats.skipped).toBe(0);
        expect(stats.duplicate).toBeGreaterThan(0);
        expect(stats.maxGapMs).toBeLessThanOrEqual(100);
        totals[variant].slots += count;
        totals[variant].concealed += stats.concealed + stats.silent;
        if (variant === 'copies') expect(stats.redundant).toBeGreaterThan(count * 0.04);
      }
      expect(totals.copies.slots).toBe(20_000);
      expect(totals.copies.concealed / totals.copies.slots).toBeLessThanOrEqual(0.001);
      // The test can tell: without the copies the same losses conceal more than the target.
      expect(totals.fecOnly.concealed / totals.fecOnly.slots).toBeGreaterThan(0.001);
    }, 60_000);

    it('conceals nothing when two messages in a row are lost, the last two of the session too', async () => {
      const offsetMs = -40;
      const clock = skewed(offsetMs);
      const stream = clickStream({ key: KEY, base: T0 + LATENCY_MS, durationMs: 4_000 });
      const count = stream.frames.length;
      const [, first, , second] = stream.clickSlots;
      // Each pair takes a click's frame and the next (which holds its FEC): without copies it is gone.
      const lost = new Set([first!, first! + 1, second!, second! + 1, count - 2, count - 1]);
      const sent = withCopies([...stream.frames, endFrame(stream)]);
      const card = new VirtualSoundCard(clock, { keepMs: Infinity });
      const player = new LivePlayer({
        asset: { key: KEY, durationMs: 60_000 },
        timeline: exactTimeline(offsetMs),
        sink: card,
        clock,
      });
      deliverFrames(
        [...sent, sent.at(-1)!, sent.at(-1)!].filter((frame) => !lost.has(frame.seq)),
        { random: seededRandom(9), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 50, loss: 0 } },
        (frame) => player.onFrame(frame),
      );
      const result = player.play();
      await run(LATENCY_MS + 5_000);
      const stats = await result;

      expect(stats).toMatchObject({
        endedBy: 'end-frame',
        played: count,
        redundant: lost.size,
        recovered: 0,
        concealed: 0,
        silent: 0,
        skipped: 0,
        late: 0,
        // Only the end frame's two repeats.
        duplicate: 2,
        maxGapMs: 0,
      });
      // Every click sounds, on time.
      const errors = clickErrors(stream, heardAt(card, offsetMs));
      expect(errors.length).toBe(stream.clicksAt.length);
      for (const error of errors) expect(error).toBeLessThanOrEqual(0.5);
    });

    it('plays a frame once when its copy comes before its own message, and rebuilds three lost in a row', async () => {
      const clock = skewed(0);
      const stream = clickStream({ key: KEY, base: T0 + LATENCY_MS, durationMs: 2_000 });
      const sent = withCopies([...stream.frames, endFrame(stream)]);
      const player = new LivePlayer({
        asset: { key: KEY, durationMs: 60_000 },
        timeline: exactTimeline(0),
        sink: new VirtualSoundCard(clock),
        clock,
      });
      // Messages 40–42 lost: 41 and 42 come as copies in 43, 40 from 41's in-band FEC.
      // Message 20 is held up 100 ms: the copies in 21 and 22 come first; it still plays once.
      const lost = new Set([40, 41, 42]);
      deliverFrames(
        sent.filter((frame) => !lost.has(frame.seq)),
        {
          random: seededRandom(10),
          latencyMs: LATENCY_MS,
          serverNow: server.now,
          path: {
            delayMs: (() => {
              let message = 0;
              return () => (message++ === 20 ? 150 : 50);
            })(),
            loss: 0,
          },
        },
        (frame) => player.onFrame(frame),
      );
      const result = player.play();
      await run(LATENCY_MS + 3_000);
      const stats = await result;
      expect(stats).toMatchObject({
        endedBy: 'end-frame',
        played: stream.frames.length - 1,
        redundant: 2,
        recovered: 1,
        concealed: 0,
        silent: 0,
        late: 0,
        duplicate: 0,
        maxGapMs: 0,
      });
    });
  });

  describe('ending', () => {
    function session(options: { durationMs?: number; frames: number; end?: boolean; sinkLatencyMs?: number }) {
      const clock = skewed(-80);
      const base = T0 + LATENCY_MS;
      const stream = clickStream({ key: KEY, base, durationMs: options.frames * LIVE_FRAME_MS });
      const card = new VirtualSoundCard(clock, { keepMs: Infinity, latencyMs: options.sinkLatencyMs ?? 0 });
      const player = new LivePlayer({
        asset: { key: KEY, durationMs: options.durationMs ?? 60_000 },
        timeline: exactTimeline(-80),
        sink: card,
        clock,
      });
      const frames = options.end ? [...stream.frames, endFrame(stream)] : stream.frames;
      deliverFrames(
        frames,
        { random: seededRandom(4), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 40, loss: 0 } },
        (frame) => player.onFrame(frame),
      );
      return { clock, card, player, stream, result: player.play() };
    }

    it('ends when the end frame’s slot comes, after playing everything before it', async () => {
      const { result, stream } = session({ frames: 100, end: true });
      await run(10_000);
      const stats = await result;
      expect(stats.endedBy).toBe('end-frame');
      expect(stats.played).toBe(100);
      const endSlotAt = endFrame(stream).playAt - 80;
      expect(stats.endedAt! - endSlotAt).toBeGreaterThanOrEqual(0);
      expect(stats.endedAt! - endSlotAt).toBeLessThanOrEqual(20);
    });

    it('plays every frame on time through an output with its own 40 ms buffer (ALSA’s), then ends', async () => {
      const { result, card, stream } = session({ frames: 100, end: true, sinkLatencyMs: 40 });
      await run(10_000);
      const stats = await result;
      expect(stats.endedBy).toBe('end-frame');
      expect(stats.played).toBe(100);
      const errors = clickErrors(stream, heardAt(card, -80));
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(error).toBeLessThanOrEqual(1);
    });

    it('ends LIVE_LINK_LOST_END_MS after the last frame, having gone quiet', async () => {
      const { result, card, stream } = session({ frames: 50 });
      const lastArrival = stream.frames.at(-1)!.playAt - LATENCY_MS + LIVE_FRAME_MS + 40 - 80;
      await run(LIVE_LINK_LOST_END_MS + 3_000);
      const stats = await result;
      expect(stats.endedBy).toBe('silence');
      expect(stats.concealed).toBe(5);
      expect(stats.silent).toBeGreaterThan(0);
      expect(stats.endedAt! - lastArrival).toBeGreaterThanOrEqual(LIVE_LINK_LOST_END_MS);
      expect(stats.endedAt! - lastArrival).toBeLessThanOrEqual(LIVE_LINK_LOST_END_MS + 20);
      // After the last slot and a short concealment tail, nothing but silence was written.
      const lastSlotEnd = stream.frames.at(-1)!.playAt + LIVE_FRAME_MS - 80;
      expect(card.peakAfter(lastSlotEnd + 120)).toBe(0);
      expect(card.closed).toBe(true);
    });

    it('ends at durationMs even while frames keep coming', async () => {
      const { result, clock } = session({ frames: 500, durationMs: 1_000 });
      const startedAt = clock.now();
      await run(2_000);
      const stats = await result;
      expect(stats.endedBy).toBe('duration');
      expect(stats.endedAt! - startedAt).toBeGreaterThanOrEqual(1_000);
      expect(stats.endedAt! - startedAt).toBeLessThanOrEqual(1_020);
    });

    it('stops at once when aborted and writes nothing more', async () => {
      const clock = skewed(0);
      const stream = clickStream({ key: KEY, base: T0 + LATENCY_MS, durationMs: 5_000 });
      const card = new VirtualSoundCard(clock, { keepMs: Infinity });
      const player = new LivePlayer({
        asset: { key: KEY, durationMs: 60_000 },
        timeline: exactTimeline(0),
        sink: card,
        clock,
      });
      deliverFrames(
        stream.frames,
        { random: seededRandom(5), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 40, loss: 0 } },
        (frame) => player.onFrame(frame),
      );
      const controller = new AbortController();
      const result = player.play(controller.signal);
      await run(1_000);
      controller.abort(new Error('preempted'));
      const stats = await result;
      const written = card.samplesWritten;
      await run(1_000);
      expect(stats.endedBy).toBe('aborted');
      expect(card.closed).toBe(true);
      expect(card.samplesWritten).toBe(written);
      expect(stats.played).toBeGreaterThan(20);
    });

    it('rejects when the sink fails (aplay died), having closed it', async () => {
      const { result, card } = session({ frames: 200 });
      const failing = Object.assign(card, { error: undefined as Error | undefined });
      const outcome = result.catch((err: Error) => err);
      await run(1_000);
      failing.error = new Error('aplay exited (1) during a live session');
      await run(100);
      expect(await outcome).toBe(failing.error);
      expect(card.closed).toBe(true);
    });

    it('ignores frames of another session', async () => {
      const clock = skewed(0);
      const card = new VirtualSoundCard(clock, { keepMs: Infinity });
      const player = new LivePlayer({
        asset: { key: KEY, durationMs: 60_000 },
        timeline: exactTimeline(0),
        sink: card,
        clock,
      });
      const stream = clickStream({ key: KEY + 1, base: T0 + LATENCY_MS, durationMs: 1_000 });
      deliverFrames(
        stream.frames,
        { random: seededRandom(6), latencyMs: LATENCY_MS, serverNow: server.now, path: { delayMs: () => 40, loss: 0 } },
        (frame) => player.onFrame(frame),
      );
      const result = player.play();
      await run(LIVE_LINK_LOST_END_MS + 3_000);
      const stats = await result;
      expect(stats.endedBy).toBe('silence');
      expect(stats.foreign).toBe(50);
      expect(stats.played).toBe(0);
      expect(card.peakAfter(0)).toBe(0);
    });
  });
});
