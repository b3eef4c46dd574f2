/**
 * Who did what, when: every change, broadcast and login. Append-only — the
 * database refuses updates and deletes of audit rows.
 */
import type { Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import { toCsv } from '../csv';
import type { Scope } from '../tenancy/scope';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
  /** The commune the action concerned; null for a province-level action. */
  communeId: string | null;
}

export class AuditLog {
  constructor(private readonly sqlDb: SqlDb) {}

  /**
   * `communeId` is required so every caller decides whose log the entry is in:
   * a commune's (its users see it) or the province's (null: province users only).
   * `db` is a transaction when the entry must stand or fall with the change it records.
   */
  async record(
    entry: {
      actor: string;
      action: string;
      target?: string | null;
      detail?: object;
      ip?: string;
      communeId: string | null;
    },
    db: Kysely<Tables> = this.sqlDb.db,
  ): Promise<void> {
    await db
      .insertInto('audit_log')
      .values({
        at: Date.now(),
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
        ip: entry.ip ?? null,
        commune_id: entry.communeId,
      })
      .execute();
  }

  /** Newest first; a commune's scope sees its own entries only, the province's every entry. */
  async list(scope: Scope, options: { limit?: number; before?: number; action?: string } = {}): Promise<AuditEntry[]> {
    let query = this.sqlDb.db
      .selectFrom('audit_log')
      .select(['id', 'at', 'actor', 'action', 'target', 'detail', 'ip', 'commune_id'])
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId));
    if (options.before !== undefined) query = query.where('id', '<', options.before);
    if (options.action !== undefined) query = query.where('action', '=', options.action);
    const rows: {
      id: number;
      at: number;
      actor: string;
      action: string;
      target: string | null;
      detail: string | null;
      ip: string | null;
      commune_id: string | null;
    }[] = await query.execute();
    return rows.map(({ commune_id, ...r }) => ({
      ...r,
      communeId: commune_id,
      at: new Date(r.at).toISOString(),
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }
}

/** The entries as CSV (see toCsv: RFC 4180, with a BOM for spreadsheet programs). */
export function auditCsv(entries: AuditEntry[]): string {
  return toCsv(
    ['id', 'at', 'actor', 'action', 'target', 'detail', 'ip', 'commune'],
    entries.map((e) => [e.id, e.at, e.actor, e.action, e.target, e.detail, e.ip, e.communeId]),
  );
}
