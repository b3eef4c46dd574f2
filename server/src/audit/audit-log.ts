/**
 * Who did what, when: every change, broadcast and login. Append-only — the
 * database refuses updates and deletes of audit rows.
 */
import type { Db } from '../db/database';
import { toCsv } from '../csv';
import { inScope, type Scope } from '../tenancy/scope';

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
  constructor(private readonly db: Db) {}

  /**
   * `communeId` is required so every caller decides whose log the entry is in:
   * a commune's (its users see it) or the province's (null: province users only).
   */
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    detail?: object;
    ip?: string;
    communeId: string | null;
  }): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, target, detail, ip, commune_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(
        Date.now(),
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.detail ? JSON.stringify(entry.detail) : null,
        entry.ip ?? null,
        entry.communeId,
      );
  }

  /** Newest first; a commune's scope sees its own entries only, the province's every entry. */
  list(scope: Scope, options: { limit?: number; before?: number; action?: string } = {}): AuditEntry[] {
    const rows = this.db
      .prepare(
        `SELECT id, at, actor, action, target, detail, ip, commune_id FROM audit_log
         WHERE (? IS NULL OR id < ?) AND (? IS NULL OR action = ?) AND (? IS NULL OR commune_id = ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
        options.before ?? null,
        options.before ?? null,
        options.action ?? null,
        options.action ?? null,
        ...inScope(scope),
        options.limit ?? 100,
      ) as {
      id: number;
      at: number;
      actor: string;
      action: string;
      target: string | null;
      detail: string | null;
      ip: string | null;
      commune_id: string | null;
    }[];
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
