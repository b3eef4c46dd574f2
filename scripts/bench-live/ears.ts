/**
 * What the live bench hears on the simulated loudspeakers: every virtual sound
 * card the fleet makes is tapped as it is created, and each write is scanned
 * once (no audio is kept): click onsets (a sample of magnitude ≥ 8000 after
 * 50 ms below it, as VirtualSoundCard.onsets finds them) and sound starts (the
 * first non-zero sample after 50 ms of zeros or nothing: a silent slot and a
 * wait are written as zeros, a played frame carries the WAV's hum).
 * All times are device times (the card's clock); the bench takes the skew off.
 */
import type { VirtualSoundCard } from '@loaxa/device-agent';
import type { SimFleet } from '@loaxa/firmware-sim';

const CLICK_THRESHOLD = 8_000;
const QUIET_MS = 50;
const MS_PER_SAMPLE = 1000 / 48_000;

export interface HeardCard {
  deviceId: string;
  /** The bench phase the card was made in (one live session per phase). */
  phase: string;
  onsets: number[];
  soundStarts: number[];
  samples: number;
}

export interface Ears {
  /** Cards made from now on belong to `phase`. */
  setPhase(phase: string): void;
  cards(phase: string): HeardCard[];
}

export function listen(fleet: SimFleet): Ears {
  let phase = 'none';
  const heard: HeardCard[] = [];
  const tap = (deviceId: string, card: VirtualSoundCard) => {
    const record: HeardCard = { deviceId, phase, onsets: [], soundStarts: [], samples: 0 };
    heard.push(record);
    let lastLoud = -Infinity;
    let lastSound = -Infinity;
    const write = card.write.bind(card);
    card.write = (samples: Int16Array) => {
      if (card.closed || samples.length === 0) return write(samples);
      const at = card.nextSampleAt();
      write(samples);
      record.samples += samples.length;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        if (s === 0) continue;
        const t = at + i * MS_PER_SAMPLE;
        if (t - lastSound >= QUIET_MS) record.soundStarts.push(t);
        lastSound = t;
        if (s >= CLICK_THRESHOLD || s <= -CLICK_THRESHOLD) {
          if (t - lastLoud >= QUIET_MS) record.onsets.push(t);
          lastLoud = t;
        }
      }
    };
  };
  // The fleet files each new card under its device (SimPlayer's sink factory) before the first
  // write: tapping Map.set sees every card at birth without a hook in the fleet.
  const cards = fleet.liveCards as Map<string, VirtualSoundCard[]>;
  const set = cards.set.bind(cards);
  cards.set = (deviceId: string, list: VirtualSoundCard[]) => {
    const card = list.at(-1);
    if (card && !(cards.get(deviceId) ?? []).includes(card)) tap(deviceId, card);
    return set(deviceId, list);
  };
  return {
    setPhase: (p) => void (phase = p),
    cards: (p) => heard.filter((c) => c.phase === p),
  };
}
