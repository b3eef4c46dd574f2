/**
 * Changes to a broker's authorization files come in bursts (a province
 * provisioning devices): they are gathered for `delayMs` and written and
 * reloaded once, one flush at a time. A failed flush is reported and leaves
 * the chain intact, so the next change tries again.
 */
export class CoalescedFlush {
  private timer: NodeJS.Timeout | undefined;
  private waiters: ((ok: boolean) => void)[] = [];
  private flushing: Promise<boolean> = Promise.resolve(true);

  constructor(
    private readonly run: () => Promise<boolean>,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs = 20,
  ) {}

  /** A change was made: flush after the delay (with any other change made meanwhile). */
  request(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const waiters = this.waiters;
      this.waiters = [];
      void this.now().then((ok) => waiters.forEach((w) => w(ok)));
    }, this.delayMs);
  }

  /** Flushes now, after any flush running. */
  now(): Promise<boolean> {
    this.flushing = this.flushing.then(() =>
      this.run().catch((err: unknown) => {
        this.onError(err);
        return false;
      }),
    );
    return this.flushing;
  }

  /** Resolves once every change requested so far is flushed (false: the last flush failed). */
  settled(): Promise<boolean> {
    if (!this.timer) return this.flushing;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
