import type { Db } from '../db/database';
import { generatePassword, hashPassword, hashToken, newToken, verifyPassword } from './passwords';

export const ROLES = ['admin', 'approver', 'editor', 'technician', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  username: string;
  role: Role;
  /**
   * The password is one its owner did not choose (generated at first start, or
   * reset by an administrator): the session may only change it (http/auth.ts).
   */
  mustChangePassword: boolean;
}

export interface UserAccount extends User {
  createdAt: string;
  disabled: boolean;
  /** Set while the account is locked after too many wrong passwords. */
  lockedUntil: string | null;
}

/** A change the rules refuse; `field` names the input at fault. */
export class UserChangeError extends Error {
  constructor(
    readonly field: 'disabled' | 'role',
    message: string,
  ) {
    super(message);
    this.name = 'UserChangeError';
  }
}

const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export class UserService {
  constructor(private readonly db: Db) {}

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  async create(username: string, password: string, role: Role, mustChangePassword = false): Promise<User> {
    const hash = await hashPassword(password);
    this.db
      .prepare(
        'INSERT INTO users (username, password_hash, role, created_at, must_change_password) VALUES (?, ?, ?, ?, ?)',
      )
      .run(username, hash, role, Date.now(), mustChangePassword ? 1 : 0);
    return { username, role, mustChangePassword };
  }

  /**
   * First-run setup: with no users, creates `admin` with the given password or a
   * generated one. Returns the generated password (to print once), else null. A
   * generated password must be replaced at the first sign-in: it has been on a screen.
   */
  async ensureAdmin(password: string | undefined): Promise<{ created: boolean; generated: string | null }> {
    if (this.count() > 0) return { created: false, generated: null };
    const generated = password ? null : generatePassword();
    await this.create('admin', password ?? (generated as string), 'admin', generated !== null);
    return { created: true, generated };
  }

  list(now = Date.now(), only?: string): UserAccount[] {
    return (
      this.db
        .prepare(
          `SELECT u.username, u.role, u.created_at, u.disabled, u.must_change_password, f.locked_until FROM users u
           LEFT JOIN login_failures f ON f.username = lower(u.username) AND f.locked_until > ?
           WHERE ? IS NULL OR u.username = ?
           ORDER BY u.username`,
        )
        .all(now, only ?? null, only ?? null) as {
        username: string;
        role: Role;
        created_at: number;
        disabled: number;
        must_change_password: number;
        locked_until: number | null;
      }[]
    ).map((r) => ({
      username: r.username,
      role: r.role,
      mustChangePassword: r.must_change_password === 1,
      createdAt: new Date(r.created_at).toISOString(),
      disabled: r.disabled === 1,
      lockedUntil: r.locked_until ? new Date(r.locked_until).toISOString() : null,
    }));
  }

  /** One account as `list` shows it, or null. */
  get(username: string, now = Date.now()): UserAccount | null {
    return this.list(now, username)[0] ?? null;
  }

  exists(username: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username);
  }

  /**
   * Sets a new password and ends every session of the user (a reset must lock out
   * whoever had it). `mustChange`: someone other than the owner chose it, so the
   * owner must replace it at the next sign-in.
   */
  async setPassword(username: string, password: string, options: { mustChange: boolean }): Promise<boolean> {
    const hash = await hashPassword(password);
    const changed = this.db
      .prepare('UPDATE users SET password_hash = ?, must_change_password = ? WHERE username = ?')
      .run(hash, options.mustChange ? 1 : 0, username).changes;
    if (changed) this.db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
    return changed > 0;
  }

  /**
   * Changes an account's role and/or disabled flag. Refuses (UserChangeError) to
   * let the acting admin disable themselves or to leave no enabled admin.
   * Disabling ends every session of the account at once. Returns null for an
   * unknown user, else the account before and after.
   */
  update(
    actor: string,
    username: string,
    change: { disabled?: boolean; role?: Role },
  ): { before: UserAccount; after: UserAccount } | null {
    return this.db.transaction(() => {
      const before = this.get(username);
      if (!before) return null;
      if (change.disabled === true && username === actor) {
        throw new UserChangeError('disabled', 'disabled: you cannot disable your own account');
      }
      const disabled = change.disabled ?? before.disabled;
      const role = change.role ?? before.role;
      const wasEnabledAdmin = before.role === 'admin' && !before.disabled;
      if (wasEnabledAdmin && (disabled || role !== 'admin')) {
        const others = (
          this.db
            .prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND username <> ?")
            .get(username) as { n: number }
        ).n;
        if (others === 0) {
          const field = disabled ? 'disabled' : 'role';
          throw new UserChangeError(
            field,
            `${field}: ${username} is the last enabled administrator; make another administrator first`,
          );
        }
      }
      this.db
        .prepare('UPDATE users SET role = ?, disabled = ? WHERE username = ?')
        .run(role, disabled ? 1 : 0, username);
      if (disabled) this.db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
      return { before, after: this.get(username)! };
    })();
  }

  async authenticate(username: string, password: string): Promise<User | null> {
    const result = await this.checkLogin(username, password);
    return 'user' in result ? result.user : null;
  }

  /**
   * A login attempt. A disabled account is told apart from a wrong password
   * only when the password is right, so the answer reveals nothing to a guesser.
   */
  async checkLogin(
    username: string,
    password: string,
  ): Promise<{ user: User } | { refused: 'credentials' | 'disabled' }> {
    const row = this.db
      .prepare(
        'SELECT username, role, password_hash AS hash, disabled, must_change_password FROM users WHERE username = ?',
      )
      .get(username) as
      { username: string; role: Role; hash: string; disabled: number; must_change_password: number } | undefined;
    if (!row) {
      // Spend the same time as a real check so timing does not reveal which usernames exist.
      await verifyPassword(password, DUMMY_HASH);
      return { refused: 'credentials' };
    }
    if (!(await verifyPassword(password, row.hash))) return { refused: 'credentials' };
    if (row.disabled) return { refused: 'disabled' };
    return {
      user: { username: row.username, role: row.role, mustChangePassword: row.must_change_password === 1 },
    };
  }

  startSession(username: string): { token: string; expiresAt: number } {
    const token = newToken();
    const now = Date.now();
    const expiresAt = now + SESSION_TTL_MS;
    this.db
      .prepare('INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashToken(token), username, now, expiresAt);
    return { token, expiresAt };
  }

  userForSession(token: string): User | null {
    const row = this.db
      .prepare(
        `SELECT u.username, u.role, u.must_change_password FROM sessions s JOIN users u ON u.username = s.username
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
      )
      .get(hashToken(token), Date.now()) as { username: string; role: Role; must_change_password: number } | undefined;
    return row ? { username: row.username, role: row.role, mustChangePassword: row.must_change_password === 1 } : null;
  }

  endSession(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(token));
  }

  /** Deletes the sessions expired by `now`; returns how many (see session-housekeeping.ts). */
  purgeExpiredSessions(now = Date.now()): number {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
