/**
 * Who did what, when: every change, broadcast and login. Append-only — the
 * database refuses updates and deletes of audit rows.
 */
import type { Db } from '../db/database';
import { toCsv } from '../csv';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  record(entry: { actor: string; action: string; target?: string | null; detail?: object; ip?: string }): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        Date.now(),
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.detail ? JSON.stringify(entry.detail) : null,
        entry.ip ?? null,
      );
  }

  list(options: { limit?: number; before?: number; action?: string } = {}): AuditEntry[] {
    const rows = this.db
      .prepare(
        `SELECT id, at, actor, action, target, detail, ip FROM audit_log
         WHERE (? IS NULL OR id < ?) AND (? IS NULL OR action = ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
        options.before ?? null,
        options.before ?? null,
        options.action ?? null,
        options.action ?? null,
        options.limit ?? 100,
      ) as {
      id: number;
      at: number;
      actor: string;
      action: string;
      target: string | null;
      detail: string | null;
      ip: string | null;
    }[];
    return rows.map((r) => ({
      ...r,
      at: new Date(r.at).toISOString(),
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }
}

/** The entries as CSV (see toCsv: RFC 4180, with a BOM for spreadsheet programs). */
export function auditCsv(entries: AuditEntry[]): string {
  return toCsv(
    ['id', 'at', 'actor', 'action', 'target', 'detail', 'ip'],
    entries.map((e) => [e.id, e.at, e.actor, e.action, e.target, e.detail, e.ip]),
  );
}
