/**
 * Each commune's abbreviation dictionary: its own entries (SQLite, table
 * `abbreviations`, keyed by commune and abbreviation) over the built-in
 * DEFAULT_ABBREVIATIONS. The normaliser gets the commune's entries and lets
 * them win; here they are listed, added, changed and removed, each change
 * written to the audit log by the caller. One commune's entries never reach
 * another's notices.
 *
 * The renderer reads a commune's entries at every render, synchronously: every
 * commune's are loaded into memory at start (`load`) and kept current by this
 * instance's `put` and `remove`. The console's `list` and `get` read the
 * database. A change made by another server instance on the same database
 * reaches this one's renders only when it loads again.
 */
import type { SqlDb } from '../db/sql';
import { DEFAULT_ABBREVIATIONS } from './normalize';

export interface DictionaryEntry {
  abbreviation: string;
  /** What the loudspeaker says. */
  expansion: string;
  /** 'builtin': shipped with Loa Xã; 'commune': added or changed by this commune. */
  source: 'builtin' | 'commune';
  /** For a commune entry that replaces a built-in one: the built-in expansion. */
  builtin: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export class DictionaryError extends Error {
  constructor(
    readonly field: 'abbreviation' | 'expansion',
    message: string,
  ) {
    super(message);
    this.name = 'DictionaryError';
  }
}

export const MAX_ABBREVIATION_LENGTH = 32;
export const MAX_EXPANSION_LENGTH = 200;

// Starts with a letter or digit; inside also . & / - (as in "TP.", "GD&ĐT", "V/v", "NĐ-CP"); no spaces.
const ABBREVIATION_RE = /^[\p{L}\p{N}][\p{L}\p{N}.&/-]*$/u;

/** The abbreviation as stored, or a DictionaryError naming the problem. */
export function checkAbbreviation(raw: string): string {
  const abbreviation = raw.normalize('NFC').trim();
  if (abbreviation === '') throw new DictionaryError('abbreviation', 'abbreviation: must not be empty');
  if ([...abbreviation].length > MAX_ABBREVIATION_LENGTH) {
    throw new DictionaryError('abbreviation', `abbreviation: at most ${MAX_ABBREVIATION_LENGTH} characters`);
  }
  if (!ABBREVIATION_RE.test(abbreviation) || !/\p{L}/u.test(abbreviation)) {
    throw new DictionaryError(
      'abbreviation',
      `abbreviation: "${abbreviation}" must be one word of letters and digits (. & / - allowed inside), with at least one letter`,
    );
  }
  return abbreviation;
}

/** The expansion as stored, or a DictionaryError naming the problem. */
export function checkExpansion(raw: string): string {
  const expansion = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (expansion === '') throw new DictionaryError('expansion', 'expansion: must not be empty');
  if ([...expansion].length > MAX_EXPANSION_LENGTH) {
    throw new DictionaryError('expansion', `expansion: at most ${MAX_EXPANSION_LENGTH} characters`);
  }
  if (!/\p{L}/u.test(expansion)) throw new DictionaryError('expansion', 'expansion: must contain words to say');
  return expansion;
}

interface Row {
  abbreviation: string;
  expansion: string;
  updated_at: number;
  updated_by: string;
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

export class AbbreviationDictionary {
  /**
   * Commune id → its entries: one frozen object per version, replaced on each change, so the
   * normaliser compiles it once and a change is seen by the next render. The server holds one
   * AbbreviationDictionary (services.dictionary) for the routes and the renderer alike.
   */
  private snapshots = new Map<string, Readonly<Record<string, string>>>();
  private defaultId = 'default';

  constructor(private readonly sqlDb: SqlDb) {}

  /** Loads every commune's entries (at start, before the first render). */
  async load(): Promise<void> {
    const { db } = this.sqlDb;
    const meta = await db.selectFrom('meta').select('value').where('key', '=', 'default_commune').executeTakeFirst();
    const rows = (await db
      .selectFrom('abbreviations')
      .select(['commune_id', 'abbreviation', 'expansion'])
      .execute()) as (Pick<Row, 'abbreviation' | 'expansion'> & { commune_id: string })[];
    const byCommune = new Map<string, Record<string, string>>();
    for (const r of rows) {
      let own = byCommune.get(r.commune_id);
      if (!own) byCommune.set(r.commune_id, (own = {}));
      own[r.abbreviation] = r.expansion;
    }
    this.defaultId = (meta as { value: string } | undefined)?.value ?? 'default';
    this.snapshots = new Map([...byCommune].map(([communeId, own]) => [communeId, Object.freeze(own)]));
  }

  /**
   * The commune's own entries (for normalizeVietnamese's `abbreviations`); without
   * `communeId`, the commune the install started with.
   */
  communeEntries(communeId: string = this.defaultId): Readonly<Record<string, string>> {
    return this.snapshots.get(communeId) ?? NONE;
  }

  /** Built-in and the commune's entries, merged (the commune's win), sorted by abbreviation. */
  async list(communeId: string): Promise<DictionaryEntry[]> {
    const rows = (await this.sqlDb.db
      .selectFrom('abbreviations')
      .selectAll()
      .where('commune_id', '=', communeId)
      .execute()) as Row[];
    const own = new Map(rows.map((r) => [r.abbreviation, r]));
    const entries: DictionaryEntry[] = [];
    for (const [abbreviation, expansion] of Object.entries(DEFAULT_ABBREVIATIONS)) {
      if (!own.has(abbreviation)) {
        entries.push({ abbreviation, expansion, source: 'builtin', builtin: null, updatedAt: null, updatedBy: null });
      }
    }
    for (const r of rows) entries.push(this.toEntry(r));
    return entries.sort((a, b) => a.abbreviation.localeCompare(b.abbreviation, 'vi'));
  }

  /** The entry the commune's notices use for `abbreviation`: its own, else the built-in one. */
  async get(communeId: string, abbreviation: string): Promise<DictionaryEntry | null> {
    const row = (await this.sqlDb.db
      .selectFrom('abbreviations')
      .selectAll()
      .where('commune_id', '=', communeId)
      .where('abbreviation', '=', abbreviation)
      .executeTakeFirst()) as Row | undefined;
    if (row) return this.toEntry(row);
    const builtin = DEFAULT_ABBREVIATIONS[abbreviation];
    return builtin === undefined
      ? null
      : { abbreviation, expansion: builtin, source: 'builtin', builtin: null, updatedAt: null, updatedBy: null };
  }

  /** Adds or replaces the commune's entry; returns it and what it replaced (null when new). */
  async put(
    communeId: string,
    rawAbbreviation: string,
    rawExpansion: string,
    actor: string,
  ): Promise<{ entry: DictionaryEntry; previous: DictionaryEntry | null }> {
    const abbreviation = checkAbbreviation(rawAbbreviation);
    const expansion = checkExpansion(rawExpansion);
    const previous = await this.get(communeId, abbreviation);
    const row = (await this.sqlDb.db
      .insertInto('abbreviations')
      .values({ commune_id: communeId, abbreviation, expansion, updated_at: Date.now(), updated_by: actor })
      .onConflict((oc) =>
        oc.columns(['commune_id', 'abbreviation']).doUpdateSet((eb) => ({
          expansion: eb.ref('excluded.expansion'),
          updated_at: eb.ref('excluded.updated_at'),
          updated_by: eb.ref('excluded.updated_by'),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow()) as Row;
    this.change(communeId, (own) => (own[abbreviation] = row.expansion));
    return { entry: this.toEntry(row), previous };
  }

  /** Removes the commune's entry (a built-in one it replaced applies again); null when it had none. */
  async remove(communeId: string, rawAbbreviation: string): Promise<DictionaryEntry | null> {
    const abbreviation = checkAbbreviation(rawAbbreviation);
    // RETURNING: the row removed, read and deleted in one statement.
    const row = (await this.sqlDb.db
      .deleteFrom('abbreviations')
      .where('commune_id', '=', communeId)
      .where('abbreviation', '=', abbreviation)
      .returningAll()
      .executeTakeFirst()) as Row | undefined;
    if (!row) return null;
    this.change(communeId, (own) => delete own[abbreviation]);
    return this.toEntry(row);
  }

  /** Replaces the commune's snapshot with a changed copy, once the change is in the database. */
  private change(communeId: string, edit: (own: Record<string, string>) => void): void {
    const own = { ...this.communeEntries(communeId) };
    edit(own);
    this.snapshots.set(communeId, Object.freeze(own));
  }

  private toEntry(r: Row): DictionaryEntry {
    return {
      abbreviation: r.abbreviation,
      expansion: r.expansion,
      source: 'commune',
      builtin: DEFAULT_ABBREVIATIONS[r.abbreviation] ?? null,
      updatedAt: new Date(r.updated_at).toISOString(),
      updatedBy: r.updated_by,
    };
  }
}
