/**
 * The device's idea of "now", UTC epoch ms. Scheduled plays follow this clock,
 * not the server's, so a node keeps playing on time with no network. Sims
 * inject a skew to reproduce nodes whose NTP has not converged.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function skewedClock(skewMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + skewMs };
}
