/**
 * Where live PCM goes. A sound card plays samples at its own rate from a queue;
 * what the player needs to know is when the next sample it writes will sound,
 * on the device clock, so it can line each frame up with its play-out time.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Writable } from 'node:stream';
import { LIVE_SAMPLE_RATE } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import { killChild } from '../player/child-process';

export interface LiveSink {
  /** Device time, ms, at which the next sample written will sound. */
  nextSampleAt(): number;
  /** From write to sound when the queue is empty (the output's own buffer), ms; the player fills past it. */
  readonly latencyMs: number;
  /** Appends 48 kHz mono samples to the output queue. */
  write(samples: Int16Array): void;
  /** Goes quiet at once (queued samples are dropped) and releases the output. */
  close(): Promise<void>;
  /** Set once the output has failed; the player ends with it. */
  readonly error?: Error | undefined;
}

/**
 * When queued samples sound, for a card that starts on the first write and
 * plays silence whenever its queue runs dry: then the next samples sound later,
 * as an underrun does on real hardware.
 */
export class OutputTimeline {
  /** Device time of the first sample of the current run (since the last underrun). */
  private runStart = 0;
  private runSamples = 0;
  private started = false;
  private readonly samplesPerMs: number;

  /**
   * @param latencyMs from write to sound when the queue is empty (the card's own buffer).
   * @param ppm how fast the card's crystal runs against the device clock (+100: 100 µs/s fast).
   */
  constructor(
    private readonly clock: Clock,
    readonly latencyMs = 0,
    ppm = 0,
  ) {
    this.samplesPerMs = (LIVE_SAMPLE_RATE / 1000) * (1 + ppm / 1e6);
  }

  nextSampleAt(): number {
    const earliest = this.clock.now() + this.latencyMs;
    return this.started ? Math.max(this.queueEnd(), earliest) : earliest;
  }

  /** Queues `count` samples; returns the device time the first of them sounds. */
  append(count: number): number {
    const earliest = this.clock.now() + this.latencyMs;
    if (!this.started || this.queueEnd() < earliest) {
      this.started = true;
      this.runStart = earliest;
      this.runSamples = 0;
    }
    const at = this.queueEnd();
    this.runSamples += count;
    return at;
  }

  /** Device time at which the queue runs dry. */
  queueEnd(): number {
    return this.runStart + this.runSamples / this.samplesPerMs;
  }

  get msPerSample(): number {
    return 1 / this.samplesPerMs;
  }
}

export interface VirtualSoundCardOptions {
  /** Sample-clock error against the device clock, parts per million (+ runs fast). */
  ppm?: number;
  latencyMs?: number;
  /**
   * How much of what it played the card remembers for `onsets` and `peakAfter`,
   * ms; default none. A simulated fleet must not hold hours of audio per node
   * (4 h is 1.4 GB); tests and the bench ask for what they check.
   */
  keepMs?: number;
}

/**
 * A sound card for simulated loudspeakers and tests: consumes samples at
 * exactly 48 kHz (± ppm) of the device clock, with no timer, and remembers when
 * the samples it kept sounded, so a test or the bench can hear where clicks landed.
 */
export class VirtualSoundCard implements LiveSink {
  private readonly timeline: OutputTimeline;
  private readonly runs: { at: number; samples: Int16Array }[] = [];
  private readonly keepMs: number;
  private written = 0;
  readonly latencyMs: number;
  closed = false;

  constructor(clock: Clock, options: VirtualSoundCardOptions = {}) {
    this.timeline = new OutputTimeline(clock, options.latencyMs ?? 0, options.ppm ?? 0);
    this.latencyMs = this.timeline.latencyMs;
    this.keepMs = options.keepMs ?? 0;
  }

  nextSampleAt(): number {
    return this.timeline.nextSampleAt();
  }

  write(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    const at = this.timeline.append(samples.length);
    this.written += samples.length;
    if (this.keepMs <= 0) return;
    this.runs.push({ at, samples: samples.slice() });
    const forgetBefore = at - this.keepMs;
    while (
      this.runs.length > 1 &&
      this.runs[0]!.at + this.runs[0]!.samples.length * this.timeline.msPerSample < forgetBefore
    ) {
      this.runs.shift();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Samples written, silence of underruns not included. */
  get samplesWritten(): number {
    return this.written;
  }

  /** The loudest sample that sounds at or after device time `at` (0: silence). */
  peakAfter(at: number): number {
    const step = this.timeline.msPerSample;
    let peak = 0;
    for (const run of this.runs) {
      const from = Math.max(0, Math.ceil((at - run.at) / step));
      for (let i = from; i < run.samples.length; i++) peak = Math.max(peak, Math.abs(run.samples[i]!));
    }
    return peak;
  }

  /**
   * Device times at which a click sounds: a sample of magnitude ≥ threshold after at
   * least `quietMs` (default 50) of samples below it, or of nothing (underrun) at all.
   */
  onsets(threshold: number, quietMs = 50): number[] {
    const found: number[] = [];
    const step = this.timeline.msPerSample;
    let lastLoud = -Infinity;
    for (const run of this.runs) {
      for (let i = 0; i < run.samples.length; i++) {
        if (Math.abs(run.samples[i]!) < threshold) continue;
        const at = run.at + i * step;
        if (at - lastLoud >= quietMs) found.push(at);
        lastLoud = at;
      }
    }
    return found;
  }
}

const KILL_GRACE_MS = 2_000;

export interface AlsaSinkOptions {
  /** ALSA PCM name, e.g. `default`, `plughw:CARD=Headphones`. */
  device: string;
  /** aplay's path; defaults to `aplay` on PATH. */
  path?: string;
  /**
   * ALSA buffer, µs; default 40 000. Small, because audio queued in the card is
   * audio the player can no longer align, and the player keeps its own lead.
   */
  bufferTimeUs?: number;
}

/** aplay reading raw 48 kHz mono S16_LE on stdin; pure, for the tests. */
export function aplayLiveArgv(options: AlsaSinkOptions): string[] {
  return [
    options.path ?? 'aplay',
    '-q',
    '-t',
    'raw',
    '-f',
    'S16_LE',
    '-r',
    String(LIVE_SAMPLE_RATE),
    '-c',
    '1',
    `--buffer-time=${options.bufferTimeUs ?? 40_000}`,
    '-D',
    options.device,
  ];
}

/**
 * Live audio to ALSA through aplay's stdin. aplay does not tell how much it has
 * queued, so the timeline assumes the card plays at 48 kHz of the device clock
 * from the first write, one ALSA buffer late; the player's drift correction
 * cannot see the card's own crystal error (tens of ppm: a few ms over a long
 * session).
 */
export class AlsaSink implements LiveSink {
  private readonly timeline: OutputTimeline;
  private readonly child: ChildProcessByStdio<Writable, null, null>;
  private readonly exited: Promise<void>;
  private closing = false;
  error: Error | undefined;

  constructor(options: AlsaSinkOptions, clock: Clock) {
    this.timeline = new OutputTimeline(clock, (options.bufferTimeUs ?? 40_000) / 1000);
    const [program, ...args] = aplayLiveArgv(options);
    this.child = spawn(program!, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    // EPIPE when aplay dies; its exit reports why.
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.error ??= new Error(`cannot run ${program}: ${err.message}`);
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        if (!this.closing) this.error ??= new Error(`${program} exited (${code ?? signal}) during a live session`);
        resolve();
      });
    });
  }

  nextSampleAt(): number {
    return this.timeline.nextSampleAt();
  }

  get latencyMs(): number {
    return this.timeline.latencyMs;
  }

  write(samples: Int16Array): void {
    if (this.closing || this.error) return;
    this.timeline.append(samples.length);
    // S16_LE: Int16Array is little-endian on every board we ship (ARM, x86).
    this.child.stdin.write(
      Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength)),
    );
  }

  /**
   * SIGTERM rather than end-of-input alone: aplay would otherwise play out its buffer first. Then
   * end its input too: aplay 1.2.8 blocked reading an idle stdin aborts the PCM on SIGTERM but goes
   * back to the read and only exits at the SIGKILL 2 s later (measured), holding the card and the
   * play that ends with it (a stop command arriving meanwhile turned "finished" into "preempted").
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      if (killChild(this.child, 'SIGTERM')) {
        this.child.stdin.end();
        // The card must be free for whatever plays next, even if aplay hangs in the driver.
        const kill = setTimeout(() => killChild(this.child, 'SIGKILL'), KILL_GRACE_MS);
        void this.exited.then(() => clearTimeout(kill));
      }
    }
    await this.exited;
  }
}
