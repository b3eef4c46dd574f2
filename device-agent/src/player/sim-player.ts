import { systemClock, type Clock } from '../clock/clock';
import { sleep } from '../clock/timer';
import { isLive } from '@loaxa/protocol';
import { VirtualSoundCard } from '../live/sinks';
import { playLive, totalDurationMs, type Player, type PlayItem, type PlayResult } from './player';

/** Plays nothing; takes as long as the audio would (a stream relay too: simulated nodes do not connect to it). For simulated nodes. */
export class SimPlayer implements Player {
  constructor(
    private readonly clock: Clock = systemClock,
    /** The card each live session plays into (the live bench keeps them to find the clicks). */
    readonly liveSink: () => VirtualSoundCard = () => new VirtualSoundCard(clock),
  ) {}

  async play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    const startedAt = this.clock.now();
    // The virtual output runs from here; arming its end can wait a microtask, so that the other
    // simulated devices of this process due on the same instant start first.
    await Promise.resolve();
    const live = item.assets.find(isLive);
    // Live audio goes through the real receiver into a virtual card that records when each sample sounds.
    if (live) await playLive(item, live, this.liveSink(), signal);
    else await sleep(totalDurationMs(item.assets), signal);
    return { startedAt, endedAt: this.clock.now() };
  }
}
