import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { Scope } from '../tenancy/scope';
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

interface AccountRow {
  username: string;
  role: Role;
  created_at: number;
  disabled: number;
  must_change_password: number;
  commune_id: string | null;
  locked_until: number | null;
}

export class UserService {
  constructor(private readonly sqlDb: SqlDb) {}

  async count(): Promise<number> {
    const row = (await this.sqlDb.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()) as { n: number };
    return Number(row.n);
  }

  async create(
    username: string,
    password: string,
    role: Role,
    options: { communeId: string | null; mustChangePassword?: boolean },
  ): Promise<User> {
    await this.insert(username, password, role, options, false);
    return { username, role, mustChangePassword: options.mustChangePassword ?? false, communeId: options.communeId };
  }

  /** Inserts the account; with `ifAbsent`, a name taken meanwhile is no error: resolves false. */
  private async insert(
    username: string,
    password: string,
    role: Role,
    options: { communeId: string | null; mustChangePassword?: boolean },
    ifAbsent: boolean,
  ): Promise<boolean> {
    const hash = await hashPassword(password);
    const result = await this.sqlDb.db
      .insertInto('users')
      .values({
        username,
        password_hash: hash,
        role,
        created_at: Date.now(),
        must_change_password: options.mustChangePassword ? 1 : 0,
        commune_id: options.communeId,
      })
      .$if(ifAbsent, (q) => q.onConflict((oc) => oc.column('username').doNothing()))
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
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
    if ((await this.count()) > 0) return { created: false, generated: null };
    const generated = password ? null : generatePassword();
    // Server instances starting together on one new database: the first insert wins.
    const created = await this.insert(
      'admin',
      password ?? (generated as string),
      'admin',
      { communeId, mustChangePassword: generated !== null },
      true,
    );
    return created ? { created, generated } : { created, generated: null };
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
    const hasOne = async () =>
      !!(await this.sqlDb.db
        .selectFrom('users')
        .select('username')
        .where('commune_id', 'is', null)
        .where('role', '=', 'admin')
        .where('disabled', '=', 0)
        .executeTakeFirst());
    for (;;) {
      if (await hasOne()) return null;
      let username = 'tinh';
      for (let i = 2; await this.exists(username); i++) username = `tinh-${i}`;
      const generated = password ? null : generatePassword();
      const options = { communeId: null, mustChangePassword: generated !== null };
      // Another instance starting at the same moment may take the name first: then look again.
      if (await this.insert(username, password ?? (generated as string), 'admin', options, true)) {
        return { username, generated };
      }
    }
  }

  /**
   * The accounts visible in `scope` (a commune's users, or everyone for the province).
   * `db`: a transaction, when the read belongs to a change (see update).
   */
  async list(
    scope: Scope,
    now = Date.now(),
    only?: string,
    db: Kysely<Tables> = this.sqlDb.db,
  ): Promise<UserAccount[]> {
    const rows = (await db
      .selectFrom('users as u')
      .leftJoin('login_failures as f', (join) =>
        join.on((eb) =>
          eb.and([eb('f.username', '=', eb.fn('lower', ['u.username'])), eb('f.locked_until', '>', now)]),
        ),
      )
      .select([
        'u.username',
        'u.role',
        'u.created_at',
        'u.disabled',
        'u.must_change_password',
        'u.commune_id',
        'f.locked_until',
      ])
      .$if(only !== undefined, (q) => q.where('u.username', '=', only))
      .$if(scope.communeId !== null, (q) => q.where('u.commune_id', '=', scope.communeId))
      .orderBy('u.username')
      .execute()) as AccountRow[];
    return rows.map((r) => ({
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
  async get(
    scope: Scope,
    username: string,
    now = Date.now(),
    db: Kysely<Tables> = this.sqlDb.db,
  ): Promise<UserAccount | null> {
    return (await this.list(scope, now, username, db))[0] ?? null;
  }

  /**
   * The commune of an account; null for a province user or an unknown name.
   * Case-insensitive, like the lock-out counters (a guess typed as "CANBO" is about canbo);
   * the exact name first when two accounts differ only in case.
   */
  async communeOf(username: string): Promise<string | null> {
    const row = (await this.sqlDb.db
      .selectFrom('users')
      .select('commune_id')
      .where(sql`lower(username)`, '=', sql<string>`lower(CAST(${username} AS TEXT))`)
      .orderBy(sql`CASE WHEN username = ${username} THEN 0 ELSE 1 END`)
      .limit(1)
      .executeTakeFirst()) as { commune_id: string | null } | undefined;
    return row?.commune_id ?? null;
  }

  async exists(username: string): Promise<boolean> {
    return !!(await this.sqlDb.db
      .selectFrom('users')
      .select('username')
      .where('username', '=', username)
      .executeTakeFirst());
  }

  /**
   * Sets a new password and ends every session of the user (a reset must lock out
   * whoever had it). `mustChange`: someone other than the owner chose it, so the
   * owner must replace it at the next sign-in.
   */
  async setPassword(username: string, password: string, options: { mustChange: boolean }): Promise<boolean> {
    const hash = await hashPassword(password);
    return this.sqlDb.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('users')
        .set({ password_hash: hash, must_change_password: options.mustChange ? 1 : 0 })
        .where('username', '=', username)
        .executeTakeFirst();
      const changed = Number(result.numUpdatedRows) > 0;
      if (changed) await tx.deleteFrom('sessions').where('username', '=', username).execute();
      return changed;
    });
  }

  /**
   * Changes an account's role and/or disabled flag. Refuses (UserChangeError) to
   * let the acting admin disable themselves or to leave no enabled admin.
   * Disabling ends every session of the account at once. Returns null for an
   * unknown user, else the account before and after.
   */
  async update(
    scope: Scope,
    actor: string,
    username: string,
    change: { disabled?: boolean; role?: Role },
  ): Promise<{ before: UserAccount; after: UserAccount } | null> {
    return this.sqlDb.db.transaction().execute(async (tx) => {
      if (this.sqlDb.engine === 'postgres') await lockAdministrators(tx, username);
      const before = await this.get(scope, username, Date.now(), tx);
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
        const others = (await tx
          .selectFrom('users')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('role', '=', 'admin')
          .where('disabled', '=', 0)
          .where('username', '<>', username)
          .where('commune_id', before.communeId === null ? 'is' : '=', before.communeId)
          .executeTakeFirstOrThrow()) as { n: number };
        if (Number(others.n) === 0) {
          const field = disabled ? 'disabled' : 'role';
          const of = before.communeId === null ? 'the province' : 'the commune';
          throw new UserChangeError(
            field,
            `${field}: ${username} is the last enabled administrator of ${of}; make another administrator first`,
          );
        }
      }
      await tx
        .updateTable('users')
        .set({ role, disabled: disabled ? 1 : 0 })
        .where('username', '=', username)
        .execute();
      if (disabled) await tx.deleteFrom('sessions').where('username', '=', username).execute();
      return { before, after: (await this.get(scope, username, Date.now(), tx))! };
    });
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
    const row = (await this.sqlDb.db
      .selectFrom('users')
      .select(['username', 'role', 'password_hash', 'disabled', 'must_change_password', 'commune_id'])
      .where('username', '=', username)
      .executeTakeFirst()) as
      | {
          username: string;
          role: Role;
          password_hash: string;
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
    if (!(await verifyPassword(password, row.password_hash))) return { refused: 'credentials' };
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

  async startSession(username: string): Promise<{ token: string; expiresAt: number }> {
    const token = newToken();
    const now = Date.now();
    const expiresAt = now + SESSION_TTL_MS;
    await this.sqlDb.db
      .insertInto('sessions')
      .values({ token_hash: hashToken(token), username, created_at: now, expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }

  /** The signed-in user of a session token, or null. Runs on every request: one indexed query. */
  async userForSession(token: string): Promise<User | null> {
    const row = (await this.sqlDb.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.username', 's.username')
      .select(['u.username', 'u.role', 'u.must_change_password', 'u.commune_id'])
      .where('s.token_hash', '=', hashToken(token))
      .where('s.expires_at', '>', Date.now())
      .where('u.disabled', '=', 0)
      .executeTakeFirst()) as
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

  async endSession(token: string): Promise<void> {
    await this.sqlDb.db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
  }

  /** Deletes the sessions expired by `now`; returns how many (see session-housekeeping.ts). */
  async purgeExpiredSessions(now = Date.now()): Promise<number> {
    const result = await this.sqlDb.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * PostgreSQL only: locks the administrators of `username`'s commune (and the account itself),
 * in one order, until the transaction ends. Two admins disabling each other at once would
 * otherwise each count the other as still enabled and leave the commune with none; with the
 * lock the second waits and then counts what the first committed (READ COMMITTED reads anew
 * per statement). One statement in username order, so the two wait rather than deadlock.
 * SQLite needs none: its one connection runs one transaction at a time.
 */
async function lockAdministrators(tx: Kysely<Tables>, username: string): Promise<void> {
  await sql`
    SELECT username FROM users
    WHERE commune_id IS NOT DISTINCT FROM (SELECT commune_id FROM users WHERE username = ${username})
      AND (role = 'admin' OR username = ${username})
    ORDER BY username
    FOR UPDATE`.execute(tx);
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
