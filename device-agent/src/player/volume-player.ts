import type { Mixer } from '../mixer/mixer';
import type { Player, PlayItem, PlayResult } from './player';

/**
 * Sets the mixer to the item's volume before it plays (plan items and play-now
 * carry their own level; otherwise Playback passes the device volume). A mixer
 * error does not cancel the broadcast; it goes to `onMixerError`.
 */
export class VolumePlayer implements Player {
  constructor(
    private readonly inner: Player,
    readonly mixer: Mixer,
    private readonly onMixerError: (err: unknown) => void = () => {},
  ) {}

  async play(item: PlayItem, signal: AbortSignal): Promise<PlayResult> {
    if (item.volume !== undefined) await this.mixer.set(item.volume).catch(this.onMixerError);
    return this.inner.play(item, signal);
  }
}
