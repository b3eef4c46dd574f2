import { sleep } from '../clock/timer';
import type { AmpSwitch } from '../gpio/amp-switch';
import type { Player, PlayItem, PlayResult } from './player';

export interface AmpTiming {
  /** Relay on → first sound: amplifiers thump and need to settle. */
  preRollMs: number;
  /** Kept on after the last play, so back-to-back items do not click the relay. */
  holdMs: number;
}

export const DEFAULT_AMP_TIMING: AmpTiming = { preRollMs: 2_000, holdMs: 5_000 };

/**
 * Powers the amplifier around every play: on, wait the pre-roll, play, and off
 * once `holdMs` has passed with nothing playing. An operator's `amp on` pins it
 * on until `amp off`.
 *
 * A relay that fails to switch does not stop the broadcast (the amplifier may be
 * wired always-on); the error goes to `onAmpError` for the log.
 */
export class AmpControlledPlayer implements Player {
  private active = 0;
  private offTimer: NodeJS.Timeout | undefined;
  private pinned = false;

  constructor(
    private readonly inner: Player,
    readonly amp: AmpSwitch,
    private readonly timing: AmpTiming = DEFAULT_AMP_TIMING,
    private readonly onAmpError: (err: unknown) => void = () => {},
  ) {}

  play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    return this.around(signal, () => this.inner.play(item, signal));
  }

  /** The `amp` command: on pins the relay on; off releases the pin and switches off now. */
  async setManual(on: boolean): Promise<void> {
    this.pinned = on;
    this.cancelOff();
    await this.amp.set(on);
  }

  /** Switches off at once (agent stopping). */
  async close(): Promise<void> {
    this.cancelOff();
    this.pinned = false;
    await this.amp.close();
  }

  private async around(signal: AbortSignal, play: () => Promise<PlayResult>): Promise<PlayResult> {
    this.active++;
    this.cancelOff();
    try {
      if (!this.amp.isOn) {
        let switched = true;
        await this.amp.set(true).catch((err: unknown) => {
          switched = false;
          this.onAmpError(err);
        });
        if (switched && this.timing.preRollMs > 0) await sleep(this.timing.preRollMs, signal);
      }
      return await play();
    } finally {
      this.active--;
      if (this.active === 0) this.scheduleOff();
    }
  }

  private scheduleOff(): void {
    if (this.pinned) return;
    this.offTimer = setTimeout(() => {
      this.offTimer = undefined;
      if (this.active > 0 || this.pinned) return;
      this.amp.set(false).catch((err: unknown) => this.onAmpError(err));
    }, this.timing.holdMs);
    this.offTimer.unref?.();
  }

  private cancelOff(): void {
    clearTimeout(this.offTimer);
    this.offTimer = undefined;
  }
}
