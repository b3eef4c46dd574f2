/**
 * Account lock-out: after `maxFailures` wrong passwords for one username
 * within `windowMs`, that username is locked for `lockMs`, even for the right
 * password. Counters live in the database so a restart does not clear them.
 * Usernames are counted whether or not they exist, so the replies do not tell
 * an attacker which accounts are real.
 */
import type { Db } from '../db/database';

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
    private readonly db: Db,
    options: Partial<LockoutOptions> = {},
  ) {
    this.options = { ...DEFAULT_LOCKOUT, ...options };
  }

  private static key(username: string): string {
    return username.trim().toLowerCase();
  }

  private row(username: string): Row | undefined {
    return this.db
      .prepare('SELECT failures, first_failure_at, locked_until FROM login_failures WHERE username = ?')
      .get(LoginLockout.key(username)) as Row | undefined;
  }

  /** The instant the lock ends, or null if the username may try now. */
  lockedUntil(username: string, now = Date.now()): number | null {
    const until = this.row(username)?.locked_until;
    return until && until > now ? until : null;
  }

  /**
   * Counts a wrong password. `lockedUntil` is set when this failure locks the
   * account (once per lock: the caller audits it).
   */
  fail(username: string, now = Date.now()): { failures: number; lockedUntil: number | null } {
    const key = LoginLockout.key(username);
    const { maxFailures, windowMs, lockMs } = this.options;
    return this.db.transaction(() => {
      // Forget windows that passed without a lock, and ended locks, so the table stays small.
      this.db
        .prepare(
          `DELETE FROM login_failures WHERE (locked_until IS NULL AND first_failure_at <= ?)
             OR (locked_until IS NOT NULL AND locked_until <= ?)`,
        )
        .run(now - windowMs, now);
      const current = this.row(key);
      if (current?.locked_until) return { failures: current.failures, lockedUntil: null }; // already locked
      const failures = (current?.failures ?? 0) + 1;
      const lockedUntil = failures >= maxFailures ? now + lockMs : null;
      this.db
        .prepare(
          `INSERT INTO login_failures (username, failures, first_failure_at, locked_until) VALUES (?, ?, ?, ?)
           ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
        )
        .run(key, failures, current?.first_failure_at ?? now, lockedUntil);
      return { failures, lockedUntil };
    })();
  }

  /** A successful login or an admin's unlock: the count starts again. Returns whether anything was cleared. */
  clear(username: string): boolean {
    return this.db.prepare('DELETE FROM login_failures WHERE username = ?').run(LoginLockout.key(username)).changes > 0;
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
