/**
 * The province's communes. Every tenant row (zone, device, notice, programme,
 * schedule, occurrence, dictionary entry, setting, commune user) carries a
 * commune_id; a commune user sees only their commune's (tenancy/scope.ts).
 */
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import { slugify, uniqueId } from '../devices/ids';
import { PROVINCE, type Scope } from './scope';

export interface Commune {
  id: string;
  name: string;
  /** Administrative codes a disaster alert's geocodes reach every loudspeaker of the commune by. */
  geocodes: string[];
  revision: number;
  createdAt: string;
}

/**
 * An input the rules refuse: `statusCode` is the HTTP answer (the error
 * handler sends it as is), `field` the input at fault, `extra.current` the
 * commune as it is now after a lost compare-and-set.
 */
export class CommuneError extends Error {
  readonly extra?: { current: Commune };
  constructor(
    readonly statusCode: 400 | 404 | 409,
    readonly field: string,
    message: string,
    current?: Commune,
  ) {
    super(message);
    this.name = 'CommuneError';
    if (current) this.extra = { current };
  }
}

interface Row {
  id: string;
  name: string;
  revision: number;
  created_at: number;
  geocodes: string;
}

const view = (r: Row): Commune => ({
  id: r.id,
  name: r.name,
  geocodes: JSON.parse(r.geocodes) as string[],
  revision: r.revision,
  createdAt: new Date(r.created_at).toISOString(),
});

const COLUMNS = ['id', 'name', 'revision', 'created_at', 'geocodes'] as const;

export class CommuneService {
  private constructor(
    private readonly sqlDb: SqlDb,
    private readonly defaultCommuneId: string,
  ) {}

  /**
   * The service over `sqlDb`. The default commune's id is read here, once: the migration that
   * made communes set it and nothing changes it after, so `defaultId()` stays a plain getter.
   */
  static async open(sqlDb: SqlDb): Promise<CommuneService> {
    const row = (await sqlDb.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'default_commune')
      .executeTakeFirst()) as { value: string } | undefined;
    return new CommuneService(sqlDb, row?.value ?? 'default');
  }

  /** The communes visible in `scope`, by name. */
  async list(scope: Scope): Promise<Commune[]> {
    const rows = (await this.sqlDb.db
      .selectFrom('communes')
      .select(COLUMNS)
      .$if(scope.communeId !== null, (q) => q.where('id', '=', scope.communeId))
      .orderBy('name')
      .orderBy('id')
      .execute()) as Row[];
    return rows.map(view);
  }

  /** `db`: a transaction, when the read belongs to a change (see update). */
  async get(scope: Scope, id: string, db: Kysely<Tables> = this.sqlDb.db): Promise<Commune | null> {
    if (scope.communeId !== null && scope.communeId !== id) return null;
    const row = (await db.selectFrom('communes').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as
      Row | undefined;
    return row ? view(row) : null;
  }

  /** The commune a database served before communes existed; also the first commune of a new install. */
  defaultId(): string {
    return this.defaultCommuneId;
  }

  private async nameTaken(name: string, exceptId: string | null, db: Kysely<Tables> = this.sqlDb.db): Promise<boolean> {
    const row = await db
      .selectFrom('communes')
      .select('id')
      .where('name', '=', name)
      .$if(exceptId !== null, (q) => q.where('id', '<>', exceptId))
      .executeTakeFirst();
    return !!row;
  }

  async create(name: string): Promise<Commune> {
    const trimmed = name.trim();
    if (!trimmed) throw new CommuneError(400, 'name', 'name: give the commune a name');
    const taken = () => new CommuneError(409, 'name', `name: a commune named "${trimmed}" already exists`);
    const base = slugify(trimmed, 'xa');
    for (;;) {
      if (await this.nameTaken(trimmed, null)) throw taken();
      // The ids base, base-2, base-3… in use (the slug has no LIKE wildcards: a-z, 0-9 and "-").
      const used = new Set(
        (
          (await this.sqlDb.db
            .selectFrom('communes')
            .select('id')
            .where((eb) => eb.or([eb('id', '=', base), eb('id', 'like', `${base}-%`)]))
            .execute()) as { id: string }[]
        ).map((r) => r.id),
      );
      const id = uniqueId(base, (c) => used.has(c));
      // Another instance may take the id or the name between the reads and this insert:
      // then nothing is inserted and the loop looks again (and answers 409 for the name).
      const row = (await this.sqlDb.db
        .insertInto('communes')
        .values({ id, name: trimmed, created_at: Date.now() })
        .onConflict((oc) => oc.doNothing())
        .returning(COLUMNS)
        .executeTakeFirst()) as Row | undefined;
      if (row) return view(row);
    }
  }

  /**
   * Renames a commune and/or sets the codes alerts reach it by, if it is still at `revision`
   * (compare-and-set; 409 with the current one if not).
   */
  async update(id: string, change: { name?: string; geocodes?: string[] }, revision: number): Promise<Commune> {
    const trimmed = change.name?.trim();
    if (trimmed === '') throw new CommuneError(400, 'name', 'name: give the commune a name');
    const conflict = (current: Commune) =>
      new CommuneError(
        409,
        'revision',
        `revision: someone changed this commune first (now revision ${current.revision})`,
        current,
      );
    return this.sqlDb.db.transaction().execute(async (tx) => {
      const current = await this.get(PROVINCE, id, tx);
      if (!current) throw new CommuneError(404, 'id', `no commune with id ${id}`);
      if (current.revision !== revision) throw conflict(current);
      if (trimmed !== undefined && (await this.nameTaken(trimmed, id, tx))) {
        throw new CommuneError(409, 'name', `name: a commune named "${trimmed}" already exists`);
      }
      const row = (await tx
        .updateTable('communes')
        .set({
          name: trimmed ?? current.name,
          geocodes: JSON.stringify(change.geocodes ?? current.geocodes),
          revision: sql`revision + 1`,
        })
        .where('id', '=', id)
        .where('revision', '=', revision)
        .returning(COLUMNS)
        .executeTakeFirst()) as Row | undefined;
      if (row) return view(row);
      // Changed by another instance since the read above (PostgreSQL; SQLite runs one transaction at a time).
      const now = await this.get(PROVINCE, id, tx);
      if (!now) throw new CommuneError(404, 'id', `no commune with id ${id}`);
      throw conflict(now);
    });
  }

  /**
   * The commune something new is created in. A commune user creates only in
   * their own (naming another is 404: ids do not leak). A province user names
   * one, or may leave it out while the province has only one commune.
   */
  async forWrite(scope: Scope, requested: string | undefined): Promise<string> {
    if (scope.communeId !== null) {
      if (requested !== undefined && requested !== scope.communeId) {
        throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
      }
      return scope.communeId;
    }
    if (requested !== undefined) {
      if (!(await this.get(scope, requested))) {
        throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
      }
      return requested;
    }
    const all = await this.list(scope);
    if (all.length === 1) return all[0]!.id;
    throw new CommuneError(
      400,
      'commune',
      `commune: required for a province user when the province has ${all.length} communes (one of: ${all
        .map((c) => c.id)
        .join(', ')})`,
    );
  }

  /**
   * The scope of a list: the caller's, narrowed to one commune when asked
   * (`?commune=`). A commune the caller cannot see is answered like one that
   * does not exist.
   */
  async listScope(scope: Scope, requested: string | undefined): Promise<Scope> {
    if (requested === undefined) return scope;
    if (!(await this.get(scope, requested)))
      throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
    return { communeId: requested };
  }

  /** The commune a row belongs to, when it is visible in `scope` (else null: treat as not found). */
  static visible(scope: Scope, communeId: string | undefined | null): boolean {
    return communeId !== undefined && communeId !== null && (scope.communeId === null || scope.communeId === communeId);
  }
}
