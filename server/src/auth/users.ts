import type { Db } from '../db/database';
import { inScope, type Scope } from '../tenancy/scope';
import { PROVINCE_ROLES } from './permissions';
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
  /** The commune the user works in; null: a province user, acting across communes. */
  communeId: string | null;
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

  async create(
    username: string,
    password: string,
    role: Role,
    options: { communeId: string | null; mustChangePassword?: boolean },
  ): Promise<User> {
    const hash = await hashPassword(password);
    const mustChangePassword = options.mustChangePassword ?? false;
    this.db
      .prepare(
        `INSERT INTO users (username, password_hash, role, created_at, must_change_password, commune_id)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(username, hash, role, Date.now(), mustChangePassword ? 1 : 0, options.communeId);
    return { username, role, mustChangePassword, communeId: options.communeId };
  }

  /**
   * First-run setup: with no users, creates `admin`, the administrator of the
   * first commune, with the given password or a generated one. Returns the
   * generated password (to print once), else null. A generated password must be
   * replaced at the first sign-in: it has been on a screen.
   */
  async ensureAdmin(
    password: string | undefined,
    communeId: string,
  ): Promise<{ created: boolean; generated: string | null }> {
    if (this.count() > 0) return { created: false, generated: null };
    const generated = password ? null : generatePassword();
    await this.create('admin', password ?? (generated as string), 'admin', {
      communeId,
      mustChangePassword: generated !== null,
    });
    return { created: true, generated };
  }

  /**
   * With no enabled province administrator (a new install, or the first start
   * after an upgrade from a single-commune release), creates one: `tinh`, or
   * `tinh-2`… if that name is taken. Returns who was created and the generated
   * password (to print once), or null when there was one already.
   */
  async ensureProvinceAdmin(
    password: string | undefined,
  ): Promise<{ username: string; generated: string | null } | null> {
    const existing = this.db
      .prepare("SELECT 1 FROM users WHERE commune_id IS NULL AND role = 'admin' AND disabled = 0")
      .get();
    if (existing) return null;
    let username = 'tinh';
    for (let i = 2; this.exists(username); i++) username = `tinh-${i}`;
    const generated = password ? null : generatePassword();
    await this.create(username, password ?? (generated as string), 'admin', {
      communeId: null,
      mustChangePassword: generated !== null,
    });
    return { username, generated };
  }

  /** The accounts visible in `scope` (a commune's users, or everyone for the province). */
  list(scope: Scope, now = Date.now(), only?: string): UserAccount[] {
    return (
      this.db
        .prepare(
          `SELECT u.username, u.role, u.created_at, u.disabled, u.must_change_password, u.commune_id, f.locked_until
           FROM users u
           LEFT JOIN login_failures f ON f.username = lower(u.username) AND f.locked_until > ?
           WHERE (? IS NULL OR u.username = ?) AND (? IS NULL OR u.commune_id = ?)
           ORDER BY u.username`,
        )
        .all(now, only ?? null, only ?? null, ...inScope(scope)) as {
        username: string;
        role: Role;
        created_at: number;
        disabled: number;
        must_change_password: number;
        commune_id: string | null;
        locked_until: number | null;
      }[]
    ).map((r) => ({
      username: r.username,
      role: r.role,
      mustChangePassword: r.must_change_password === 1,
      communeId: r.commune_id,
      createdAt: new Date(r.created_at).toISOString(),
      disabled: r.disabled === 1,
      lockedUntil: r.locked_until ? new Date(r.locked_until).toISOString() : null,
    }));
  }

  /** One account as `list` shows it, or null (also when it is outside `scope`). */
  get(scope: Scope, username: string, now = Date.now()): UserAccount | null {
    return this.list(scope, now, username)[0] ?? null;
  }

  /**
   * The commune of an account; null for a province user or an unknown name.
   * Case-insensitive, like the lock-out counters (a guess typed as "CANBO" is about canbo).
   */
  communeOf(username: string): string | null {
    const row = this.db
      .prepare('SELECT commune_id FROM users WHERE lower(username) = lower(?) ORDER BY username = ? DESC LIMIT 1')
      .get(username, username) as { commune_id: string | null } | undefined;
    return row?.commune_id ?? null;
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
    scope: Scope,
    actor: string,
    username: string,
    change: { disabled?: boolean; role?: Role },
  ): { before: UserAccount; after: UserAccount } | null {
    return this.db.transaction(() => {
      const before = this.get(scope, username);
      if (!before) return null;
      if (change.disabled === true && username === actor) {
        throw new UserChangeError('disabled', 'disabled: you cannot disable your own account');
      }
      const disabled = change.disabled ?? before.disabled;
      const role = change.role ?? before.role;
      if (before.communeId === null && !PROVINCE_ROLES.includes(role)) {
        throw new UserChangeError('role', `role: a province user is ${PROVINCE_ROLES.join(', ')}`);
      }
      const wasEnabledAdmin = before.role === 'admin' && !before.disabled;
      if (wasEnabledAdmin && (disabled || role !== 'admin')) {
        const others = (
          this.db
            .prepare(
              "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND username <> ? AND commune_id IS ?",
            )
            .get(username, before.communeId) as { n: number }
        ).n;
        if (others === 0) {
          const field = disabled ? 'disabled' : 'role';
          const of = before.communeId === null ? 'the province' : 'the commune';
          throw new UserChangeError(
            field,
            `${field}: ${username} is the last enabled administrator of ${of}; make another administrator first`,
          );
        }
      }
      this.db
        .prepare('UPDATE users SET role = ?, disabled = ? WHERE username = ?')
        .run(role, disabled ? 1 : 0, username);
      if (disabled) this.db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
      return { before, after: this.get(scope, username)! };
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
        `SELECT username, role, password_hash AS hash, disabled, must_change_password, commune_id
         FROM users WHERE username = ?`,
      )
      .get(username) as
      | {
          username: string;
          role: Role;
          hash: string;
          disabled: number;
          must_change_password: number;
          commune_id: string | null;
        }
      | undefined;
    if (!row) {
      // Spend the same time as a real check so timing does not reveal which usernames exist.
      await verifyPassword(password, DUMMY_HASH);
      return { refused: 'credentials' };
    }
    if (!(await verifyPassword(password, row.hash))) return { refused: 'credentials' };
    if (row.disabled) return { refused: 'disabled' };
    return {
      user: {
        username: row.username,
        role: row.role,
        mustChangePassword: row.must_change_password === 1,
        communeId: row.commune_id,
      },
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
        `SELECT u.username, u.role, u.must_change_password, u.commune_id FROM sessions s
         JOIN users u ON u.username = s.username
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
      )
      .get(hashToken(token), Date.now()) as
      { username: string; role: Role; must_change_password: number; commune_id: string | null } | undefined;
    return row
      ? {
          username: row.username,
          role: row.role,
          mustChangePassword: row.must_change_password === 1,
          communeId: row.commune_id,
        }
      : null;
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
