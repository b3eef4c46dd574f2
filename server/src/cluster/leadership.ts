/**
 * Exactly one instance runs the scheduler, the roll-forward and the
 * housekeeping (issue 18). On PostgreSQL the instances elect that one with a
 * session-level advisory lock held on a connection of its own: the lock lives
 * as long as that connection, so when the leader dies (kill -9, a crash, a
 * power cut) PostgreSQL drops its session and the lock with it, and the next
 * instance to try takes it — within one `retryMs`.
 *
 * The leader checks its connection every `checkMs`; when the check fails it
 * steps down at once (`onLose`) and, once connected again, tries for the lock
 * like any other instance. Between the connection's death and that check both
 * might lead for up to `checkMs`: the work that runs under the lock is written
 * to be safe to repeat (compare-and-set on every row it changes).
 *
 * On SQLite there is one instance by construction: it always leads.
 */
import pg from 'pg';
import type { Logger } from 'pino';

/** First 8 bytes of sha256("loaxa:leader") as a signed 64-bit integer: the same on every instance. */
export const LEADER_LOCK_ID = '4062593574833899879';

export interface LeadershipOptions {
  /** postgres://…; undefined (SQLite) leads at once and for good. */
  url?: string;
  logger: Logger;
  /** Called when this instance becomes the leader; awaited before the next check. */
  onAcquire: () => void | Promise<void>;
  /** Called when it stops being the leader (its connection failed, or stop()). */
  onLose: () => void | Promise<void>;
  /** How often a follower asks for the lock (default 1 s). */
  retryMs?: number;
  /** How often the leader checks that its connection (and so its lock) is alive (default 1 s). */
  checkMs?: number;
  /** Which lock (default LEADER_LOCK_ID): tests run two elections on one database. */
  lockId?: string;
  /** This instance's name in pg_stat_activity (`loaxa-leader:<name>`). */
  name?: string;
}

export class Leadership {
  private client: pg.Client | null = null;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The running step (connect, try, check), so stop() can wait for it. */
  private step: Promise<void> = Promise.resolve();
  private tries = 0;

  constructor(private readonly options: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** How many times this instance asked for the lock. */
  get attempts(): number {
    return this.tries;
  }

  /**
   * Takes part in the election; resolves once the first attempt is over (this instance then
   * leads, with its leader work started, or follows). On SQLite it leads from the first attempt.
   */
  start(): Promise<void> {
    this.stopped = false;
    this.step = this.tick().finally(() =>
      this.schedule(this.leading ? (this.options.checkMs ?? 1000) : (this.options.retryMs ?? 1000)),
    );
    return this.step;
  }

  /** Steps down (releasing the lock by closing its connection) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.step;
    await this.lose('stopped');
    await this.disconnect();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.step = this.tick().finally(() =>
        this.schedule(this.leading ? (this.options.checkMs ?? 1000) : (this.options.retryMs ?? 1000)),
      );
    }, ms);
  }

  private async tick(): Promise<void> {
    const { url, logger } = this.options;
    if (url === undefined) {
      if (!this.leading) await this.acquire();
      return;
    }
    try {
      const client = await this.connected(url);
      if (this.leading) {
        // A round trip on the lock's own connection: if it answers, the session (and the lock) lives.
        await client.query('SELECT 1');
        return;
      }
      this.tries++;
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(${this.options.lockId ?? LEADER_LOCK_ID}) AS locked`,
      );
      if (rows[0]?.locked && !this.stopped) await this.acquire();
    } catch (err) {
      logger.warn({ err }, 'leader election: the database connection failed');
      await this.lose('connection lost');
      await this.disconnect();
    }
  }

  private async connected(url: string): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: url,
      application_name: `loaxa-leader${this.options.name ? `:${this.options.name}` : ''}`,
      // A dead peer (a cut cable, not a closed socket) is noticed by the query timeout below.
      keepAlive: true,
      query_timeout: 5_000,
      connectionTimeoutMillis: 5_000,
    });
    // An error between queries (the server went away): the next tick's query fails and steps down.
    client.on('error', (err) => this.options.logger.warn({ err }, 'leader election: connection error'));
    await client.connect();
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async acquire(): Promise<void> {
    this.leading = true;
    this.options.logger.info('this instance now runs the scheduler and housekeeping');
    try {
      await this.options.onAcquire();
    } catch (err) {
      this.options.logger.error({ err }, 'leader election: starting the leader work failed');
    }
  }

  private async lose(reason: string): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    // A stop is expected (a restart, a shutdown); a lost connection is worth a warning.
    const log = reason === 'stopped' ? this.options.logger.info : this.options.logger.warn;
    log.call(this.options.logger, { reason }, 'this instance no longer runs the scheduler and housekeeping');
    try {
      await this.options.onLose();
    } catch (err) {
      this.options.logger.error({ err }, 'leader election: stopping the leader work failed');
    }
  }
}
