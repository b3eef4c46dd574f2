import { captureOutput } from '../player/child-process';

/** The output volume, 0–100 %. `set` resolves once the hardware holds the level. */
export interface Mixer {
  set(percent: number): Promise<void>;
  get(): Promise<number>;
}

/** Test double; `failWith` makes every call fail like a missing control would. */
export class FakeMixer implements Mixer {
  readonly levels: number[] = [];
  failWith: string | undefined;
  constructor(public level = 100) {}

  set(percent: number): Promise<void> {
    if (this.failWith) return Promise.reject(new Error(this.failWith));
    this.level = percent;
    this.levels.push(percent);
    return Promise.resolve();
  }

  get(): Promise<number> {
    return this.failWith ? Promise.reject(new Error(this.failWith)) : Promise.resolve(this.level);
  }
}

export interface AmixerOptions {
  /** Card index or name, as `amixer -c` takes it (`0`, `Headphones`). */
  card: string | number;
  /** Simple control, e.g. `PCM`, `Master`, `Speaker`. */
  control: string;
  /** Path of amixer; defaults to `amixer` on PATH. */
  path?: string;
}

/**
 * First `[NN%]` of `amixer sget` output. Stereo controls print one line per
 * channel; we always set both together, so the first is the level.
 */
export function parseAmixerPercent(text: string): number | null {
  const match = /\[(\d{1,3})%\]/.exec(text);
  return match ? Number(match[1]) : null;
}

/** Volume through the ALSA mixer with `amixer`; the level is read back after setting. */
export class AmixerMixer implements Mixer {
  constructor(private readonly options: AmixerOptions) {}

  async set(percent: number): Promise<void> {
    const level = Math.round(Math.min(100, Math.max(0, percent)));
    const out = await captureOutput([...this.base(), 'sset', this.options.control, `${level}%`]);
    const applied = parseAmixerPercent(out) ?? (await this.get());
    // Cards with coarse steps land near, not on, the level asked for.
    if (Math.abs(applied - level) > 2) {
      throw new Error(`mixer ${this.options.control} is at ${applied}% after setting ${level}%`);
    }
  }

  async get(): Promise<number> {
    const out = await captureOutput([...this.base(), 'sget', this.options.control]);
    const level = parseAmixerPercent(out);
    if (level === null) throw new Error(`no volume level in amixer output for ${this.options.control}`);
    return level;
  }

  private base(): string[] {
    return [this.options.path ?? 'amixer', '-c', String(this.options.card)];
  }
}
