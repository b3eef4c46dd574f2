import type { Clock } from '../clock/clock';
import type { PlayerConfig } from '../config';
import { NullPlayer } from './null-player';
import type { Player } from './player';
import { SimPlayer } from './sim-player';

export function createPlayer(config: PlayerConfig, clock?: Clock): Player {
  switch (config.type) {
    case 'null':
      return new NullPlayer(config.log, clock);
    case 'sim':
      return new SimPlayer(clock);
  }
}
