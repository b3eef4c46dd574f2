/**
 * The provincial source tier (Circular 39/2020): the province writes a
 * bulletin, a province approver approves it (an approver's own goes at once),
 * and it goes down to all or chosen communes with a TT39 priority:
 *
 * - normal: lands in each commune's inbox; the commune places it in a slot of
 *   its own (a time and its zones) or declines it with a reason;
 * - priority: placed just ahead of the commune's next scheduled programme, so
 *   it plays before that slot's normal items (the loudspeaker's arbiter queues
 *   them behind it); with no programme ahead it waits in the inbox;
 * - emergency: plays at once on every loudspeaker of the target communes,
 *   preempting, and reaches a loudspeaker that comes back online while the
 *   bulletin is still current (until `expiresAt`).
 *
 * Each commune's handling is one row of bulletin_communes; the plays are
 * ordinary occurrences (occurrences.bulletin_id), so deliveries, reports and
 * the live matrix need nothing new.
 */
import crypto from 'node:crypto';
import type { DeliveryStage, Priority } from '@loaxa/protocol';
import type { Db } from '../db/database';
import type { MediaAsset } from '../media/store';
import { inScope, type Scope } from '../tenancy/scope';

/** An input or a state the rules refuse; goes through the HTTP error handler as is. */
export class BulletinError extends Error {
  readonly extra?: { current: unknown };
  constructor(
    readonly statusCode: 400 | 404 | 409,
    readonly field: string,
    message: string,
    current?: unknown,
  ) {
    super(message);
    this.name = 'BulletinError';
    if (current !== undefined) this.extra = { current };
  }
}

export type BulletinStatus = 'submitted' | 'sent' | 'rejected' | 'cancelled';
export type CommuneHandling = 'received' | 'scheduled' | 'aired' | 'declined';

/** One commune's play of a bulletin, as BulletinAiring.air takes it. */
export interface BulletinAiringInput {
  communeId: string;
  bulletinId: string;
  title: string;
  text: string | null;
  priority: Priority;
  audio: MediaAsset & { engine: string | null };
  zones: string[] | 'all';
  at?: Date;
  /** A play-now command stays playable until then (a loudspeaker offline meanwhile still plays it). */
  expiresAt?: number;
  /** Shown on the commune's public page and podcast once it has aired. */
  public: boolean;
  /** A commune's own placement: its broadcast rules (quiet hours, limits) apply. */
  checkRules?: boolean;
  createdBy: string;
}

/** What turns a bulletin into plays; implemented by the broadcast service. */
export interface BulletinAiring {
  /**
   * Stores an occurrence of the bulletin in `communeId` for the active
   * loudspeakers of `zones` ('all': the whole commune) and sends it: at once
   * as a play-now command (no `at`), or at `at` through the devices' plans.
   * Null when there is no active loudspeaker to play it.
   */
  air(input: BulletinAiringInput): Promise<{ occurrenceId: string; deviceIds: string[] } | null>;
  /** Sends a play-now occurrence again to one device (it was offline when it went out). */
  resend(occurrenceId: string, deviceId: string, expiresAt: number): Promise<void>;
}

export interface BulletinInput {
  title?: string;
  /** Spoken by the TTS; or give `audio`. */
  text?: string;
  /** sha256 of uploaded audio (POST /api/v1/tts/upload); or give `text`. */
  audio?: string;
  priority: Priority;
  communes: string[] | 'all';
  /** Emergency only: until when a loudspeaker coming back online still plays it; default 1 h after sending. */
  expiresAt?: Date;
  voice?: string;
  speed?: number;
  /** Shown on the communes' public pages once aired; default: yes for text, no for uploaded audio. */
  public?: boolean;
}

export interface BulletinDelivery {
  deviceId: string;
  occurrenceId: string;
  stage: DeliveryStage;
  at: string | null;
  detail: string | null;
}

export interface BulletinCommuneView {
  communeId: string;
  name: string;
  status: CommuneHandling;
  declineReason: string | null;
  /** Why the commune's row is as it is (e.g. the slot it was placed in, or "no loudspeakers"). */
  detail: string | null;
  handledBy: string | null;
  handledAt: string | null;
  revision: number;
  occurrences: { id: string; startAt: string }[];
  /** Loudspeakers the bulletin was sent to in this commune, and how many have played it so far. */
  devices: number;
  played: number;
  failed: number;
  deliveries?: BulletinDelivery[];
}

export interface BulletinView {
  id: string;
  title: string;
  text: string | null;
  priority: Priority;
  status: BulletinStatus;
  allCommunes: boolean;
  sha256: string;
  durationMs: number;
  expiresAt: string | null;
  /** Shown on the communes' public pages and podcasts once aired. */
  public: boolean;
  reviewReason: string | null;
  reviewedBy: string | null;
  sentAt: string | null;
  createdBy: string;
  createdAt: string;
  revision: number;
  communes: BulletinCommuneView[];
}

/** An emergency stays current this long after sending unless the author says otherwise. */
export const DEFAULT_EMERGENCY_TTL_MS = 3600_000;
/** A priority bulletin needs this much time before the slot it joins, for the plans to reach the devices. */
export const PRIORITY_PLACEMENT_LEAD_MS = 2 * 60_000;
/** How far ahead a priority bulletin looks for the commune's next programme slot. */
const SLOT_SEARCH_MS = 7 * 24 * 3600_000;

interface BulletinRow {
  id: string;
  title: string;
  text: string | null;
  priority: Priority;
  sha256: string;
  duration_ms: number;
  engine: string | null;
  all_communes: number;
  status: BulletinStatus;
  expires_at: number | null;
  public: number;
  review_reason: string | null;
  reviewed_by: string | null;
  sent_at: number | null;
  revision: number;
  created_by: string;
  created_at: number;
}

interface TargetRow {
  bulletin_id: string;
  commune_id: string;
  name: string;
  status: CommuneHandling;
  decline_reason: string | null;
  detail: string | null;
  handled_by: string | null;
  handled_at: number | null;
  revision: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const PLAYED: ReadonlySet<string> = new Set(['started', 'finished']);
const FAILED: ReadonlySet<string> = new Set(['failed', 'skipped', 'preempted']);

function titleOf(text: string): string {
  const line = text.trim().split(/\n/)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export class BulletinService {
  constructor(
    private readonly deps: {
      db: Db;
      airing: BulletinAiring;
      /** Renders a bulletin's text with the province's voice (the default commune's settings). */
      render(input: { text: string; voice?: string; speed?: number }): Promise<MediaAsset & { engine: string }>;
      media: { get(sha256: string): MediaAsset | null };
      now?: () => number;
      /** Told when a bulletin or a commune's handling of it changed (the live event stream). */
      changed?: (bulletinId: string, communeIds: string[]) => void;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  // ---- the province --------------------------------------------------------

  /**
   * Stores a bulletin; sends it at once when the author may approve
   * (`mayApprove`), else it waits for a province approver.
   */
  async create(input: BulletinInput, author: string, mayApprove: boolean): Promise<BulletinView> {
    const { db } = this.deps;
    const text = input.text?.trim() || null;
    if (!text && !input.audio)
      throw new BulletinError(400, 'text', 'text: write the bulletin, or give `audio` (an uploaded file)');
    if (text && input.audio) throw new BulletinError(400, 'audio', 'audio: give either `text` or `audio`, not both');
    const communeIds = this.targets(input.communes);
    const now = this.now();
    if (input.expiresAt && input.priority !== 'emergency') {
      throw new BulletinError(400, 'expiresAt', 'expiresAt: only an emergency bulletin has an expiry');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= now) {
      throw new BulletinError(400, 'expiresAt', `expiresAt: ${input.expiresAt.toISOString()} is already past`);
    }
    let audio: MediaAsset & { engine: string | null };
    if (text) {
      audio = await this.deps.render({
        text,
        ...(input.voice ? { voice: input.voice } : {}),
        ...(input.speed ? { speed: input.speed } : {}),
      });
    } else {
      const stored = this.deps.media.get(input.audio!);
      if (!stored) throw new BulletinError(404, 'audio', `audio: no uploaded audio ${input.audio}`);
      audio = { ...stored, engine: null };
    }
    const title = input.title?.trim() || (text ? titleOf(text) : 'Bản tin của tỉnh');
    const id = `bt-${now.toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
    db.prepare(
      `INSERT INTO bulletins (id, title, text, priority, sha256, duration_ms, engine, all_communes, status,
         expires_at, public, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?)`,
    ).run(
      id,
      title,
      text,
      input.priority,
      audio.sha256,
      audio.durationMs,
      audio.engine,
      input.communes === 'all' ? 1 : 0,
      input.expiresAt?.getTime() ?? null,
      (input.public ?? text !== null) ? 1 : 0,
      author,
      now,
      now,
    );
    // The chosen communes are kept from the start, so an approver sees where it goes.
    const add = db.prepare("INSERT INTO bulletin_communes (bulletin_id, commune_id, status) VALUES (?, ?, 'received')");
    db.transaction(() => communeIds.forEach((c) => add.run(id, c)))();
    if (mayApprove) return this.send(id, author, null);
    this.deps.changed?.(id, []);
    return this.get({ communeId: null }, id)!;
  }

  /** Approves a submitted bulletin (if still at `revision`) and sends it. */
  async approve(id: string, revision: number, approver: string): Promise<BulletinView> {
    this.transition(id, revision, 'submitted', 'approve');
    return this.send(id, approver, revision);
  }

  reject(id: string, revision: number, reason: string, approver: string): BulletinView {
    const trimmed = reason.trim();
    if (!trimmed) throw new BulletinError(400, 'reason', 'reason: say why the bulletin is rejected');
    this.transition(id, revision, 'submitted', 'reject');
    const now = this.now();
    const changed = this.deps.db
      .prepare(
        `UPDATE bulletins SET status = 'rejected', review_reason = ?, reviewed_by = ?, reviewed_at = ?,
           revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ? AND status = 'submitted'`,
      )
      .run(trimmed, approver, now, now, id, revision).changes;
    if (!changed) this.lost(id);
    this.deps.changed?.(id, []);
    return this.get({ communeId: null }, id)!;
  }

  /** Checks a province transition may happen; throws 404/409 with the bulletin as it is. */
  private transition(id: string, revision: number, from: BulletinStatus, verb: string): void {
    const current = this.get({ communeId: null }, id);
    if (!current) throw new BulletinError(404, 'id', `no bulletin with id ${id}`);
    if (current.revision !== revision) {
      throw new BulletinError(
        409,
        'revision',
        `revision: someone changed this bulletin first (now revision ${current.revision})`,
        current,
      );
    }
    if (current.status !== from) {
      throw new BulletinError(409, 'status', `status: cannot ${verb} a bulletin that is ${current.status}`, current);
    }
  }

  private lost(id: string): never {
    const current = this.get({ communeId: null }, id);
    throw new BulletinError(409, 'revision', 'revision: someone changed this bulletin first', current);
  }

  /**
   * Marks the bulletin sent (compare-and-set: exactly one sender wins) and
   * hands it to each target commune by its priority.
   */
  private async send(id: string, sender: string, revision: number | null): Promise<BulletinView> {
    const { db } = this.deps;
    const now = this.now();
    const row = this.row(id)!;
    const expiresAt = row.priority === 'emergency' ? (row.expires_at ?? now + DEFAULT_EMERGENCY_TTL_MS) : null;
    const changed = db
      .prepare(
        `UPDATE bulletins SET status = 'sent', sent_at = ?, expires_at = ?, reviewed_by = ?, reviewed_at = ?,
           revision = revision + 1, updated_at = ?
         WHERE id = ? AND status = 'submitted' AND (? IS NULL OR revision = ?)`,
      )
      .run(now, expiresAt, sender, now, now, id, revision, revision).changes;
    if (!changed) this.lost(id);
    const targets = (
      db.prepare('SELECT commune_id FROM bulletin_communes WHERE bulletin_id = ? ORDER BY commune_id').all(id) as {
        commune_id: string;
      }[]
    ).map((t) => t.commune_id);
    const audio = {
      sha256: row.sha256,
      format: 'ogg' as const,
      bytes: 0,
      durationMs: row.duration_ms,
      engine: row.engine,
    };
    const stored = this.deps.media.get(row.sha256);
    if (stored) Object.assign(audio, { format: stored.format, bytes: stored.bytes });
    if (row.priority === 'emergency') {
      // Every commune at once: one after the other, a province's last commune heard it seconds after
      // its first (each waits for its own fan-out), 7.9 s at 100 communes (scripts/bench-province.ts).
      const outcomes = await Promise.allSettled(
        targets.map(async (communeId) => {
          const aired = await this.deps.airing.air({
            communeId,
            bulletinId: id,
            title: row.title,
            text: row.text,
            public: row.public === 1,
            priority: 'emergency',
            audio,
            zones: 'all',
            expiresAt: expiresAt!,
            createdBy: sender,
          });
          this.setHandling(id, communeId, 'aired', aired ? null : 'không có loa nào / no loudspeakers', sender);
        }),
      );
      // Each commune that could be reached was; then the first failure is the caller's to hear.
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      for (const communeId of targets) {
        if (row.priority === 'priority') {
          const slot = this.nextSlot(communeId, now + PRIORITY_PLACEMENT_LEAD_MS);
          if (slot === null) {
            this.setHandling(
              id,
              communeId,
              'received',
              'chưa có chương trình sắp tới; xã xếp lịch / no programme ahead: the commune places it',
              null,
            );
            continue;
          }
          // One millisecond ahead of the slot: it starts first, the slot's normal items queue behind it.
          const aired = await this.deps.airing.air({
            communeId,
            bulletinId: id,
            title: row.title,
            text: row.text,
            public: row.public === 1,
            priority: 'priority',
            audio,
            zones: 'all',
            at: new Date(slot - 1),
            createdBy: sender,
          });
          this.setHandling(
            id,
            communeId,
            'scheduled',
            aired
              ? `trước chương trình lúc ${new Date(slot).toISOString()} / ahead of the programme at that time`
              : 'không có loa nào / no loudspeakers',
            sender,
          );
        }
        // normal: stays 'received' in the commune's inbox.
      }
    }
    this.deps.changed?.(id, targets);
    return this.get({ communeId: null }, id)!;
  }

  /** Start of the commune's next scheduled programme (a normal occurrence from a schedule) from `from` on. */
  private nextSlot(communeId: string, from: number): number | null {
    const row = this.deps.db
      .prepare(
        `SELECT MIN(start_at) AS at FROM occurrences
         WHERE commune_id = ? AND schedule_id IS NOT NULL AND priority = 'normal'
           AND start_at >= ? AND start_at < ? AND cancelled_at IS NULL AND stopped_at IS NULL`,
      )
      .get(communeId, from, from + SLOT_SEARCH_MS) as { at: number | null };
    return row.at;
  }

  private setHandling(
    id: string,
    communeId: string,
    status: CommuneHandling,
    detail: string | null,
    by: string | null,
  ): void {
    this.deps.db
      .prepare(
        `UPDATE bulletin_communes SET status = ?, detail = ?, handled_by = COALESCE(?, handled_by),
           handled_at = CASE WHEN ? IS NULL THEN handled_at ELSE ? END, revision = revision + 1
         WHERE bulletin_id = ? AND commune_id = ?`,
      )
      .run(status, detail, by, by, this.now(), id, communeId);
  }

  // ---- the commune ---------------------------------------------------------

  /**
   * The commune places a bulletin from its inbox into a slot of its own: at
   * `at` on `zones` (its own zones, or 'all'). Compare-and-set on the commune
   * row's `revision`.
   */
  async place(
    scope: Scope,
    id: string,
    communeId: string,
    input: { at: Date; zones: string[] | 'all'; revision: number },
    by: string,
  ): Promise<BulletinView> {
    const target = this.inboxRow(scope, id, communeId, input.revision, 'place');
    const now = this.now();
    if (input.at.getTime() < now) throw new BulletinError(400, 'at', `at: ${input.at.toISOString()} is in the past`);
    const row = this.row(id)!;
    // Claim the row first: two officers placing at once must not make two plays.
    const claimed = this.deps.db
      .prepare(
        `UPDATE bulletin_communes SET status = 'scheduled', handled_by = ?, handled_at = ?, revision = revision + 1
         WHERE bulletin_id = ? AND commune_id = ? AND revision = ? AND status = 'received'`,
      )
      .run(by, now, id, communeId, target.revision).changes;
    if (!claimed) this.lostTarget(scope, id, communeId);
    const stored = this.deps.media.get(row.sha256);
    let aired;
    try {
      aired = await this.deps.airing.air({
        communeId,
        bulletinId: id,
        title: row.title,
        text: row.text,
        public: row.public === 1,
        priority: row.priority === 'emergency' ? 'emergency' : row.priority,
        audio: {
          sha256: row.sha256,
          format: stored?.format ?? 'ogg',
          bytes: stored?.bytes ?? 0,
          durationMs: row.duration_ms,
          engine: row.engine,
        },
        zones: input.zones,
        at: input.at,
        checkRules: true,
        createdBy: by,
      });
    } catch (err) {
      // Nothing was planned (a bad zone, say): back to the inbox as it was, so the officer can try again.
      this.deps.db
        .prepare(
          `UPDATE bulletin_communes SET status = 'received', handled_by = NULL, handled_at = NULL, revision = ?
           WHERE bulletin_id = ? AND commune_id = ?`,
        )
        .run(target.revision, id, communeId);
      throw err;
    }
    this.setHandling(
      id,
      communeId,
      'scheduled',
      aired ? `lúc ${input.at.toISOString()}` : 'không có loa nào / no loudspeakers',
      by,
    );
    this.deps.changed?.(id, [communeId]);
    return this.get(scope, id)!;
  }

  decline(
    scope: Scope,
    id: string,
    communeId: string,
    input: { reason: string; revision: number },
    by: string,
  ): BulletinView {
    const reason = input.reason.trim();
    if (!reason) throw new BulletinError(400, 'reason', 'reason: say why the commune declines the bulletin');
    const target = this.inboxRow(scope, id, communeId, input.revision, 'decline');
    const changed = this.deps.db
      .prepare(
        `UPDATE bulletin_communes SET status = 'declined', decline_reason = ?, handled_by = ?, handled_at = ?,
           revision = revision + 1
         WHERE bulletin_id = ? AND commune_id = ? AND revision = ? AND status = 'received'`,
      )
      .run(reason, by, this.now(), id, communeId, target.revision).changes;
    if (!changed) this.lostTarget(scope, id, communeId);
    this.deps.changed?.(id, [communeId]);
    return this.get(scope, id)!;
  }

  /** The commune's row of a sent bulletin, checked for a place/decline at `revision`. */
  private inboxRow(scope: Scope, id: string, communeId: string, revision: number, verb: string): TargetRow {
    const view = this.get(scope, id);
    const target = view?.status === 'sent' ? this.targetRow(id, communeId) : undefined;
    if (!view || !target || (scope.communeId !== null && scope.communeId !== communeId)) {
      throw new BulletinError(404, 'id', `no bulletin with id ${id} for commune ${communeId}`);
    }
    const current = view.communes.find((c) => c.communeId === communeId);
    if (target.revision !== revision) {
      throw new BulletinError(
        409,
        'revision',
        `revision: someone handled this bulletin first (now revision ${target.revision})`,
        current,
      );
    }
    if (target.status !== 'received') {
      throw new BulletinError(
        409,
        'status',
        `status: cannot ${verb} a bulletin that is already ${target.status}`,
        current,
      );
    }
    return target;
  }

  private lostTarget(scope: Scope, id: string, communeId: string): never {
    const current = this.get(scope, id)?.communes.find((c) => c.communeId === communeId);
    throw new BulletinError(409, 'revision', 'revision: someone handled this bulletin first', current);
  }

  /**
   * A loudspeaker came back online: every emergency bulletin still current
   * that it has not received yet is sent to it again.
   */
  async deviceOnline(deviceId: string): Promise<number> {
    const now = this.now();
    const due = this.deps.db
      .prepare(
        `SELECT o.id, b.expires_at FROM deliveries d
         JOIN occurrences o ON o.id = d.occurrence_id
         JOIN bulletins b ON b.id = o.bulletin_id
         WHERE d.device_id = ? AND d.stage = 'pending' AND b.priority = 'emergency'
           AND b.status = 'sent' AND b.expires_at > ? AND o.stopped_at IS NULL AND o.cancelled_at IS NULL`,
      )
      .all(deviceId, now) as { id: string; expires_at: number }[];
    for (const o of due) await this.deps.airing.resend(o.id, deviceId, o.expires_at);
    return due.length;
  }

  // ---- reading ------------------------------------------------------------

  /**
   * Bulletins visible in `scope`: the province sees every one; a commune sees
   * those sent to it (not drafts, not rejected), with its own row only.
   */
  list(scope: Scope, options: { limit?: number } = {}): BulletinView[] {
    const ids = (
      this.deps.db
        .prepare(
          `SELECT b.id FROM bulletins b
           WHERE ? IS NULL OR (b.status = 'sent' AND EXISTS (
             SELECT 1 FROM bulletin_communes t WHERE t.bulletin_id = b.id AND t.commune_id = ?))
           ORDER BY b.created_at DESC, b.id DESC LIMIT ?`,
        )
        .all(...inScope(scope), options.limit ?? 200) as { id: string }[]
    ).map((r) => r.id);
    return ids.map((id) => this.view(scope, this.row(id)!, false));
  }

  /** One bulletin with per-commune status and per-device deliveries; null when not visible in `scope`. */
  get(scope: Scope, id: string): BulletinView | null {
    const row = this.row(id);
    if (!row) return null;
    if (scope.communeId !== null && (row.status !== 'sent' || !this.targetRow(id, scope.communeId))) return null;
    return this.view(scope, row, true);
  }

  private row(id: string): BulletinRow | undefined {
    return this.deps.db
      .prepare(
        `SELECT id, title, text, priority, sha256, duration_ms, engine, all_communes, status, expires_at, public,
           review_reason, reviewed_by, sent_at, revision, created_by, created_at
         FROM bulletins WHERE id = ?`,
      )
      .get(id) as BulletinRow | undefined;
  }

  private targetRow(id: string, communeId: string): TargetRow | undefined {
    return this.targetRows(id, { communeId }).find((t) => t.commune_id === communeId);
  }

  private targetRows(id: string, scope: Scope): TargetRow[] {
    return this.deps.db
      .prepare(
        `SELECT t.bulletin_id, t.commune_id, c.name, t.status, t.decline_reason, t.detail, t.handled_by,
           t.handled_at, t.revision
         FROM bulletin_communes t JOIN communes c ON c.id = t.commune_id
         WHERE t.bulletin_id = ? AND (? IS NULL OR t.commune_id = ?) ORDER BY c.name, c.id`,
      )
      .all(id, ...inScope(scope)) as TargetRow[];
  }

  private view(scope: Scope, row: BulletinRow, withDeliveries: boolean): BulletinView {
    const occurrences = this.deps.db
      .prepare('SELECT id, commune_id, start_at FROM occurrences WHERE bulletin_id = ? ORDER BY start_at, id')
      .all(row.id) as { id: string; commune_id: string; start_at: number }[];
    const deliveries = this.deps.db
      .prepare(
        `SELECT d.occurrence_id, o.commune_id, d.device_id, d.stage, d.at, d.detail
         FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id
         WHERE o.bulletin_id = ? AND (? IS NULL OR o.commune_id = ?) ORDER BY d.device_id, o.start_at`,
      )
      .all(row.id, ...inScope(scope)) as {
      occurrence_id: string;
      commune_id: string;
      device_id: string;
      stage: DeliveryStage;
      at: number | null;
      detail: string | null;
    }[];
    return {
      id: row.id,
      title: row.title,
      text: row.text,
      priority: row.priority,
      status: row.status,
      allCommunes: row.all_communes === 1,
      sha256: row.sha256,
      durationMs: row.duration_ms,
      expiresAt: iso(row.expires_at),
      public: row.public === 1,
      reviewReason: row.review_reason,
      reviewedBy: row.reviewed_by,
      sentAt: iso(row.sent_at),
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
      revision: row.revision,
      communes: this.targetRows(row.id, scope).map((t) => {
        const own = deliveries.filter((d) => d.commune_id === t.commune_id);
        return {
          communeId: t.commune_id,
          name: t.name,
          status: t.status,
          declineReason: t.decline_reason,
          detail: t.detail,
          handledBy: t.handled_by,
          handledAt: iso(t.handled_at),
          revision: t.revision,
          occurrences: occurrences
            .filter((o) => o.commune_id === t.commune_id)
            .map((o) => ({ id: o.id, startAt: new Date(o.start_at).toISOString() })),
          devices: new Set(own.map((d) => d.device_id)).size,
          played: new Set(own.filter((d) => PLAYED.has(d.stage)).map((d) => d.device_id)).size,
          failed: own.filter((d) => FAILED.has(d.stage)).length,
          ...(withDeliveries
            ? {
                deliveries: own.map((d) => ({
                  deviceId: d.device_id,
                  occurrenceId: d.occurrence_id,
                  stage: d.stage,
                  at: iso(d.at),
                  detail: d.detail,
                })),
              }
            : {}),
        };
      }),
    };
  }

  /** The communes a bulletin goes to; every one must exist. */
  private targets(communes: string[] | 'all'): string[] {
    const known = (this.deps.db.prepare('SELECT id FROM communes ORDER BY id').all() as { id: string }[]).map(
      (c) => c.id,
    );
    if (communes === 'all') return known;
    if (communes.length === 0)
      throw new BulletinError(400, 'communes', 'communes: choose at least one commune, or "all"');
    const unknown = communes.filter((c) => !known.includes(c));
    if (unknown.length) throw new BulletinError(404, 'communes', `communes: no commune with id ${unknown.join(', ')}`);
    return [...new Set(communes)];
  }
}
