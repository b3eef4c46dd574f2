/**
 * Bulletins play through the broadcast service: one occurrence per commune,
 * tagged with the bulletin, so deliveries, reports and the live matrix treat
 * them like any other play.
 */
import type { BroadcastService } from '../broadcasts/service';
import type { BulletinAiring } from './bulletins';

export function bulletinAiring(broadcasts: BroadcastService): BulletinAiring {
  return {
    air: (input) => broadcasts.airBulletin(input),
    resend: (occurrenceId, deviceId, expiresAt) => broadcasts.resendPlayNow(occurrenceId, deviceId, expiresAt),
  };
}
