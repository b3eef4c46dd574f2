import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlsaSink, aplayLiveArgv, VirtualSoundCard } from './sinks';

/** A device clock the test moves by hand. */
function manualClock(start = 10_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const click = (length: number, at: number, amplitude = 10_000) => {
  const samples = new Int16Array(length);
  samples[at] = amplitude;
  return samples;
};

describe('VirtualSoundCard', () => {
  it('plays from the first write on, 48 samples a millisecond', () => {
    const clock = manualClock();
    const card = new VirtualSoundCard(clock, { keepMs: Infinity });
    expect(card.nextSampleAt()).toBe(10_000);
    card.write(new Int16Array(960));
    expect(card.nextSampleAt()).toBe(10_020);
    clock.advance(15);
    card.write(click(480, 96));
    expect(card.nextSampleAt()).toBe(10_030);
    expect(card.onsets(5_000)).toEqual([10_022]);
  });

  it('plays silence when the writer is late, and the next samples sound later (underrun)', () => {
    const clock = manualClock();
    const card = new VirtualSoundCard(clock, { keepMs: Infinity });
    card.write(new Int16Array(480));
    clock.advance(50);
    expect(card.nextSampleAt()).toBe(10_050);
    card.write(click(480, 0));
    expect(card.onsets(5_000)).toEqual([10_050]);
  });

  it('runs its own crystal: a card 100 ppm fast plays a second of samples 100 µs early', () => {
    const card = new VirtualSoundCard(manualClock(0), { ppm: 100 });
    card.write(new Int16Array(48_000));
    expect(card.nextSampleAt()).toBeCloseTo(1_000 / 1.0001, 6);
  });

  it('hears a click only after 50 ms below the threshold', () => {
    const card = new VirtualSoundCard(manualClock(0), { keepMs: Infinity });
    const samples = new Int16Array(48 * 200);
    samples[48 * 10] = 9_000; // 10 ms
    samples[48 * 40] = -9_000; // 30 ms later: part of the same sound
    samples[48 * 100] = 9_000; // 60 ms of quiet before it
    samples[48 * 150] = 4_000; // below the threshold
    card.write(samples);
    expect(card.onsets(5_000)).toEqual([10, 100]);
    expect(card.peakAfter(101)).toBe(4_000);
  });

  it('forgets played audio older than keepMs (a simulated fleet must not hold hours of it)', () => {
    const clock = manualClock(0);
    const card = new VirtualSoundCard(clock, { keepMs: 100 });
    for (let ms = 0; ms < 1_000; ms += 20) card.write(click(960, 0));
    expect(card.samplesWritten).toBe(48_000);
    // At least the last 100 ms: whole writes are kept or forgotten.
    expect(card.onsets(5_000, 10)).toEqual([860, 880, 900, 920, 940, 960, 980]);
    const forgetful = new VirtualSoundCard(clock);
    forgetful.write(click(960, 0));
    expect(forgetful.onsets(5_000)).toEqual([]);
  });

  it('ignores writes once closed', async () => {
    const card = new VirtualSoundCard(manualClock());
    await card.close();
    card.write(new Int16Array(10));
    expect(card.samplesWritten).toBe(0);
  });
});

describe('aplayLiveArgv', () => {
  it('reads raw 48 kHz mono S16_LE from stdin with a small ALSA buffer', () => {
    expect(aplayLiveArgv({ device: 'plughw:CARD=Headphones' })).toEqual([
      'aplay',
      '-q',
      '-t',
      'raw',
      '-f',
      'S16_LE',
      '-r',
      '48000',
      '-c',
      '1',
      '--buffer-time=40000',
      '-D',
      'plughw:CARD=Headphones',
    ]);
    expect(aplayLiveArgv({ device: 'default', path: '/usr/bin/aplay', bufferTimeUs: 60_000 })).toEqual(
      expect.arrayContaining(['/usr/bin/aplay', '--buffer-time=60000', 'default']),
    );
  });
});

describe('AlsaSink', () => {
  it('reports an aplay that cannot run as its error, for the player to end with', async () => {
    const sink = new AlsaSink({ device: 'default', path: '/nonexistent/aplay' }, manualClock());
    sink.write(new Int16Array(960));
    await sink.close();
    expect(sink.error?.message).toMatch(/cannot run \/nonexistent\/aplay/);
  });

  // Node's kill() on a child that could not be run, before its 'error' event, signals pid 0: the
  // whole process group. Here in a process group of its own, so that a regression kills only it.
  it('closing at once a sink whose aplay cannot run signals nobody else', async () => {
    const TRIES = 200;
    // Whether Node signals pid 0 or the failed child's own (gone) pid is a race inside libuv: many
    // tries make the old behaviour show.
    const script = `
      import { AlsaSink } from ${JSON.stringify(path.join(import.meta.dirname, 'sinks.ts'))};
      for (let i = 0; i < ${TRIES}; i++) {
        const sink = new AlsaSink({ device: 'default', path: '/nonexistent/aplay' }, { now: () => Date.now() });
        sink.write(new Int16Array(960));
        await sink.close();
        if (!/cannot run/.test(sink.error?.message ?? '')) throw new Error('no error: ' + sink.error);
      }
      console.log('survived ${TRIES} sinks');
    `;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-sink-')), 'close-at-once.mjs');
    fs.writeFileSync(file, script);
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    expect({ code, signal, out }).toMatchObject({ code: 0, signal: null });
    expect(out).toMatch(new RegExp(`survived ${TRIES} sinks`));
  });
});
