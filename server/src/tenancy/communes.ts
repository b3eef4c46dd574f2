/**
 * The province's communes. Every tenant row (zone, device, notice, programme,
 * schedule, occurrence, dictionary entry, setting, commune user) carries a
 * commune_id; a commune user sees only their commune's (tenancy/scope.ts).
 */
import type { Db } from '../db/database';
import { slugify, uniqueId } from '../devices/ids';
import type { Scope } from './scope';

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

export class CommuneService {
  constructor(private readonly db: Db) {}

  /** The communes visible in `scope`, by name. */
  list(scope: Scope): Commune[] {
    return (
      this.db
        .prepare(
          'SELECT id, name, revision, created_at, geocodes FROM communes WHERE (? IS NULL OR id = ?) ORDER BY name, id',
        )
        .all(scope.communeId, scope.communeId) as Row[]
    ).map(view);
  }

  get(scope: Scope, id: string): Commune | null {
    return this.list(scope).find((c) => c.id === id) ?? null;
  }

  /** The commune a database served before communes existed; also the first commune of a new install. */
  defaultId(): string {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'default_commune'").get() as
      { value: string } | undefined;
    return row?.value ?? 'default';
  }

  create(name: string): Commune {
    const trimmed = name.trim();
    if (!trimmed) throw new CommuneError(400, 'name', 'name: give the commune a name');
    if (this.db.prepare('SELECT 1 FROM communes WHERE name = ?').get(trimmed)) {
      throw new CommuneError(409, 'name', `name: a commune named "${trimmed}" already exists`);
    }
    const id = uniqueId(slugify(trimmed, 'xa'), (c) => !!this.db.prepare('SELECT 1 FROM communes WHERE id = ?').get(c));
    this.db.prepare('INSERT INTO communes (id, name, created_at) VALUES (?, ?, ?)').run(id, trimmed, Date.now());
    return this.get({ communeId: null }, id)!;
  }

  /**
   * Renames a commune and/or sets the codes alerts reach it by, if it is still at `revision`
   * (compare-and-set; 409 with the current one if not).
   */
  update(id: string, change: { name?: string; geocodes?: string[] }, revision: number): Commune {
    const trimmed = change.name?.trim();
    if (trimmed === '') throw new CommuneError(400, 'name', 'name: give the commune a name');
    return this.db.transaction(() => {
      const current = this.get({ communeId: null }, id);
      if (!current) throw new CommuneError(404, 'id', `no commune with id ${id}`);
      if (current.revision !== revision) {
        throw new CommuneError(
          409,
          'revision',
          `revision: someone changed this commune first (now revision ${current.revision})`,
          current,
        );
      }
      if (
        trimmed !== undefined &&
        this.db.prepare('SELECT 1 FROM communes WHERE name = ? AND id != ?').get(trimmed, id)
      ) {
        throw new CommuneError(409, 'name', `name: a commune named "${trimmed}" already exists`);
      }
      this.db
        .prepare('UPDATE communes SET name = ?, geocodes = ?, revision = revision + 1 WHERE id = ?')
        .run(trimmed ?? current.name, JSON.stringify(change.geocodes ?? current.geocodes), id);
      return this.get({ communeId: null }, id)!;
    })();
  }

  /**
   * The commune something new is created in. A commune user creates only in
   * their own (naming another is 404: ids do not leak). A province user names
   * one, or may leave it out while the province has only one commune.
   */
  forWrite(scope: Scope, requested: string | undefined): string {
    if (scope.communeId !== null) {
      if (requested !== undefined && requested !== scope.communeId) {
        throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
      }
      return scope.communeId;
    }
    if (requested !== undefined) {
      if (!this.get(scope, requested))
        throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
      return requested;
    }
    const all = this.list(scope);
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
  listScope(scope: Scope, requested: string | undefined): Scope {
    if (requested === undefined) return scope;
    if (!this.get(scope, requested)) throw new CommuneError(404, 'commune', `commune: no commune with id ${requested}`);
    return { communeId: requested };
  }

  /** The commune a row belongs to, when it is visible in `scope` (else null: treat as not found). */
  static visible(scope: Scope, communeId: string | undefined | null): boolean {
    return communeId !== undefined && communeId !== null && (scope.communeId === null || scope.communeId === communeId);
  }
}
