import type { Clock } from './clock';

/** setTimeout fires 1–2 ms late at best and much later under load, so the last stretch is covered by polling. */
const SPIN_WINDOW_MS = 20;
/**
 * Long waits are cut into chunks so a device clock that is stepped (NTP, sync-time)
 * is noticed within a chunk instead of after the whole original delay.
 */
const MAX_CHUNK_MS = 30_000;

interface Waiter {
  clock: Clock;
  at: number;
  done(): void;
}

/**
 * Waiters in their last SPIN_WINDOW_MS, checked together by one setImmediate
 * loop. One loop instead of one per waiter: a simulated fleet runs thousands
 * of agents in a process, all due on the same instant, and a queue of
 * thousands of immediates made the last of them start tens of ms late.
 */
const spinning = new Set<Waiter>();
let spinner: NodeJS.Immediate | undefined;

function spin(): void {
  spinner = undefined;
  const due: Waiter[] = [];
  // Passes until one finds nothing new: the clock can tick over an instant while the set is read,
  // and a waiter read just before that tick must not wait for the next turn, behind the work of
  // every waiter read just after it.
  for (let found = true; found;) {
    found = false;
    for (const waiter of spinning) {
      if (waiter.clock.now() < waiter.at) continue;
      spinning.delete(waiter);
      due.push(waiter);
      found = true;
    }
  }
  if (spinning.size > 0) spinner = setImmediate(spin);
  for (const waiter of due) {
    try {
      waiter.done();
    } catch (err) {
      // One waiter's failure must not keep the others from their instant; it still surfaces.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

/**
 * Calls `fn` as soon as `clock.now() >= at`, typically within a millisecond; the returned function
 * cancels it. Coarse timers bring the wait to ~20 ms before `at`, then setImmediate polling takes
 * it the rest of the way without blocking the event loop. `fn` runs in the polling pass itself,
 * not a promise turn later: a start instant shared by a whole simulated fleet costs each device
 * as little as it can. It is called at once when `at` has passed.
 */
export function atInstant(clock: Clock, at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const waiter: Waiter = { clock, at, done: fn };
  const step = () => {
    timer = undefined;
    const remaining = at - clock.now();
    if (remaining <= 0) return fn();
    if (remaining > SPIN_WINDOW_MS) {
      timer = setTimeout(step, Math.min(remaining - SPIN_WINDOW_MS, MAX_CHUNK_MS));
    } else {
      spinning.add(waiter);
      spinner ??= setImmediate(spin);
    }
  };
  step();
  return () => {
    if (timer) clearTimeout(timer);
    spinning.delete(waiter);
  };
}

/** atInstant as a promise; rejects with the signal's reason when aborted first. */
export function waitUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let settled = false;
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = atInstant(clock, at, () => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    if (!settled) signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Abortable sleep by wall time (retry gaps, not schedule instants). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
