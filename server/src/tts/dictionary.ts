/**
 * Each commune's abbreviation dictionary: its own entries (SQLite, table
 * `abbreviations`, keyed by commune and abbreviation) over the built-in
 * DEFAULT_ABBREVIATIONS. The normaliser gets the commune's entries and lets
 * them win; here they are listed, added, changed and removed, each change
 * written to the audit log by the caller. One commune's entries never reach
 * another's notices.
 */
import type { Db } from '../db/database';
import { CommuneService } from '../tenancy/communes';
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

/**
 * One frozen object per database, commune and version of its entries, shared by
 * every AbbreviationDictionary on that database (the routes' and the renderer's),
 * so the normaliser compiles it once and a change is seen by the next render.
 */
const snapshots = new WeakMap<Db, Map<string, Readonly<Record<string, string>>>>();

function snapshotsOf(db: Db): Map<string, Readonly<Record<string, string>>> {
  let byCommune = snapshots.get(db);
  if (!byCommune) snapshots.set(db, (byCommune = new Map()));
  return byCommune;
}

export class AbbreviationDictionary {
  constructor(private readonly db: Db) {}

  /**
   * The commune's own entries (for normalizeVietnamese's `abbreviations`); without
   * `communeId`, the commune the install started with.
   */
  communeEntries(communeId: string = new CommuneService(this.db).defaultId()): Readonly<Record<string, string>> {
    const byCommune = snapshotsOf(this.db);
    let snapshot = byCommune.get(communeId);
    if (!snapshot) {
      const rows = this.db
        .prepare('SELECT abbreviation, expansion FROM abbreviations WHERE commune_id = ?')
        .all(communeId) as Row[];
      snapshot = Object.freeze(Object.fromEntries(rows.map((r) => [r.abbreviation, r.expansion])));
      byCommune.set(communeId, snapshot);
    }
    return snapshot;
  }

  /** Built-in and the commune's entries, merged (the commune's win), sorted by abbreviation. */
  list(communeId: string): DictionaryEntry[] {
    const rows = this.db.prepare('SELECT * FROM abbreviations WHERE commune_id = ?').all(communeId) as Row[];
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
  get(communeId: string, abbreviation: string): DictionaryEntry | null {
    const row = this.db
      .prepare('SELECT * FROM abbreviations WHERE commune_id = ? AND abbreviation = ?')
      .get(communeId, abbreviation) as Row | undefined;
    if (row) return this.toEntry(row);
    const builtin = DEFAULT_ABBREVIATIONS[abbreviation];
    return builtin === undefined
      ? null
      : { abbreviation, expansion: builtin, source: 'builtin', builtin: null, updatedAt: null, updatedBy: null };
  }

  /** Adds or replaces the commune's entry; returns it and what it replaced (null when new). */
  put(
    communeId: string,
    rawAbbreviation: string,
    rawExpansion: string,
    actor: string,
  ): { entry: DictionaryEntry; previous: DictionaryEntry | null } {
    const abbreviation = checkAbbreviation(rawAbbreviation);
    const expansion = checkExpansion(rawExpansion);
    const previous = this.get(communeId, abbreviation);
    this.db
      .prepare(
        `INSERT INTO abbreviations (commune_id, abbreviation, expansion, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(commune_id, abbreviation) DO UPDATE SET expansion = excluded.expansion,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .run(communeId, abbreviation, expansion, Date.now(), actor);
    snapshotsOf(this.db).delete(communeId);
    return { entry: this.get(communeId, abbreviation)!, previous };
  }

  /** Removes the commune's entry (a built-in one it replaced applies again); null when it had none. */
  remove(communeId: string, rawAbbreviation: string): DictionaryEntry | null {
    const abbreviation = checkAbbreviation(rawAbbreviation);
    const row = this.db
      .prepare('SELECT * FROM abbreviations WHERE commune_id = ? AND abbreviation = ?')
      .get(communeId, abbreviation) as Row | undefined;
    if (!row) return null;
    this.db.prepare('DELETE FROM abbreviations WHERE commune_id = ? AND abbreviation = ?').run(communeId, abbreviation);
    snapshotsOf(this.db).delete(communeId);
    return this.toEntry(row);
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
