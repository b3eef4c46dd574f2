/**
 * Account lock-out: after `maxFailures` wrong passwords for one username
 * within `windowMs`, that username is locked for `lockMs`, even for the right
 * password. Counters live in the database so a restart does not clear them.
 * Usernames are counted whether or not they exist, so the replies do not tell
 * an attacker which accounts are real.
 */
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql';

export interface LockoutOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutOptions = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

interface Row {
  failures: number;
  first_failure_at: number;
  locked_until: number | null;
}

export class LoginLockout {
  private readonly options: LockoutOptions;

  constructor(
    private readonly sqlDb: SqlDb,
    options: Partial<LockoutOptions> = {},
  ) {
    this.options = { ...DEFAULT_LOCKOUT, ...options };
  }

  private static key(username: string): string {
    return username.trim().toLowerCase();
  }

  /** The instant the lock ends, or null if the username may try now. */
  async lockedUntil(username: string, now = Date.now()): Promise<number | null> {
    const row = await this.sqlDb.db
      .selectFrom('login_failures')
      .select('locked_until')
      .where('username', '=', LoginLockout.key(username))
      .executeTakeFirst();
    const until = (row as { locked_until: number | null } | undefined)?.locked_until;
    return until && until > now ? until : null;
  }

  /**
   * Counts a wrong password. `lockedUntil` is set when this failure locks the
   * account (once per lock: the caller audits it).
   *
   * One upsert counts the failure, so two server instances counting the same
   * username at once each add one (no read-then-write in between), and a
   * locked row is left alone (its WHERE), which is how "already locked" shows.
   * (The CAST: PostgreSQL types a parameter inside CASE as text otherwise.)
   */
  async fail(username: string, now = Date.now()): Promise<{ failures: number; lockedUntil: number | null }> {
    const key = LoginLockout.key(username);
    const { maxFailures, windowMs, lockMs } = this.options;
    const { db } = this.sqlDb;
    // Forget windows that passed without a lock, and ended locks, so the table stays small.
    await db
      .deleteFrom('login_failures')
      .where((eb) =>
        eb.or([
          eb.and([eb('locked_until', 'is', null), eb('first_failure_at', '<=', now - windowMs)]),
          eb.and([eb('locked_until', 'is not', null), eb('locked_until', '<=', now)]),
        ]),
      )
      .execute();
    const counted = (
      await sql<Row>`
      INSERT INTO login_failures (username, failures, first_failure_at, locked_until)
      VALUES (${key}, 1, ${now}, ${maxFailures <= 1 ? now + lockMs : null})
      ON CONFLICT (username) DO UPDATE SET
        failures = login_failures.failures + 1,
        locked_until = CASE WHEN login_failures.failures + 1 >= ${maxFailures} THEN CAST(${now + lockMs} AS BIGINT) ELSE NULL END
      WHERE login_failures.locked_until IS NULL
      RETURNING failures, first_failure_at, locked_until`.execute(db)
    ).rows[0];
    if (!counted) {
      const locked = await db
        .selectFrom('login_failures')
        .select('failures')
        .where('username', '=', key)
        .executeTakeFirst();
      return { failures: (locked as { failures: number } | undefined)?.failures ?? maxFailures, lockedUntil: null };
    }
    return { failures: counted.failures, lockedUntil: counted.locked_until };
  }

  /** A successful login or an admin's unlock: the count starts again. Returns whether anything was cleared. */
  async clear(username: string): Promise<boolean> {
    const result = await this.sqlDb.db
      .deleteFrom('login_failures')
      .where('username', '=', LoginLockout.key(username))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

/** The reply to a locked account, Vietnamese first. */
export function lockedMessage(lockedUntil: number, now = Date.now()): string {
  const minutes = Math.max(1, Math.ceil((lockedUntil - now) / 60_000));
  return (
    `Tài khoản tạm khóa vì nhập sai mật khẩu quá nhiều lần; thử lại sau ${minutes} phút hoặc nhờ quản trị viên mở khóa. / ` +
    `Account locked after too many wrong passwords; try again in ${minutes} minute(s) or ask an administrator to unlock it.`
  );
}
