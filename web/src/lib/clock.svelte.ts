/**
 * A coarse shared "now" for relative times ("2 phút trước"), so every label
 * on the page moves together and only one timer runs.
 */
const TICK_MS = 15_000;

export const clock = $state({ now: Date.now() });

if (typeof window !== 'undefined') {
  setInterval(() => {
    clock.now = Date.now();
  }, TICK_MS);
}
