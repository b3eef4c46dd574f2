import { systemClock, type Clock } from '../clock/clock';

/** The amplifier's power relay. `set` resolves once the line is driven. */
export interface AmpSwitch {
  readonly isOn: boolean;
  set(on: boolean): Promise<void>;
  /** Releases the line (agent stopping). */
  close(): Promise<void>;
}

/** For nodes without a relay (`"amp": {"type":"none"}`): remembers the state only. */
export class NoAmpSwitch implements AmpSwitch {
  isOn = false;
  set(on: boolean): Promise<void> {
    this.isOn = on;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface AmpTransition {
  at: number;
  on: boolean;
}

/** Test double: records every transition with the clock's time; can be told to fail. */
export class FakeAmpSwitch implements AmpSwitch {
  isOn = false;
  readonly transitions: AmpTransition[] = [];
  failWith: string | undefined;

  constructor(private readonly clock: Clock = systemClock) {}

  set(on: boolean): Promise<void> {
    if (this.failWith) return Promise.reject(new Error(this.failWith));
    if (on !== this.isOn) this.transitions.push({ at: this.clock.now(), on });
    this.isOn = on;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.set(false);
  }
}
