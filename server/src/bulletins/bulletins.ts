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
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DeliveryStage, Priority } from '@loaxa/protocol';
import type { Engine, SqlDb, Tables } from '../db/sql';
import type { MediaAsset } from '../media/store';
import type { Scope } from '../tenancy/scope';

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

/** The columns of BulletinRow. */
const BULLETIN_COLUMNS = [
  'id',
  'title',
  'text',
  'priority',
  'sha256',
  'duration_ms',
  'engine',
  'all_communes',
  'status',
  'expires_at',
  'public',
  'review_reason',
  'reviewed_by',
  'sent_at',
  'revision',
  'created_by',
  'created_at',
] as const;

/** Rows of bulletin_communes written in one INSERT (3 parameters each), well under either engine's limit. */
const TARGETS_PER_INSERT = 500;

/**
 * `column` in SQLite's order of text (by bytes): PostgreSQL's default follows the database's
 * collation, and lists (communes by name, the newest bulletins) must come out the same on both.
 */
function byBytes(engine: Engine, column: string): RawBuilder<string> {
  return engine === 'postgres' ? sql`${sql.ref(column)} COLLATE "C"` : sql`${sql.ref(column)}`;
}

function titleOf(text: string): string {
  const line = text.trim().split(/\n/)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export class BulletinService {
  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      airing: BulletinAiring;
      /** Renders a bulletin's text with the province's voice (the default commune's settings). */
      render(input: { text: string; voice?: string; speed?: number }): Promise<MediaAsset & { engine: string }>;
      /** The media store; its reads may be synchronous or not. */
      media: { get(sha256: string): MediaAsset | null | Promise<MediaAsset | null> };
      now?: () => number;
      /** Told when a bulletin or a commune's handling of it changed (the live event stream). */
      changed?: (bulletinId: string, communeIds: string[]) => void;
    },
  ) {}

  private get db(): Kysely<Tables> {
    return this.deps.sqlDb.db;
  }

  private byBytes(column: string): RawBuilder<string> {
    return byBytes(this.deps.sqlDb.engine, column);
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  // ---- the province --------------------------------------------------------

  /**
   * Stores a bulletin; sends it at once when the author may approve
   * (`mayApprove`), else it waits for a province approver.
   */
  async create(input: BulletinInput, author: string, mayApprove: boolean): Promise<BulletinView> {
    const text = input.text?.trim() || null;
    if (!text && !input.audio)
      throw new BulletinError(400, 'text', 'text: write the bulletin, or give `audio` (an uploaded file)');
    if (text && input.audio) throw new BulletinError(400, 'audio', 'audio: give either `text` or `audio`, not both');
    const communeIds = await this.targets(input.communes);
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
      const stored = await this.deps.media.get(input.audio!);
      if (!stored) throw new BulletinError(404, 'audio', `audio: no uploaded audio ${input.audio}`);
      audio = { ...stored, engine: null };
    }
    const title = input.title?.trim() || (text ? titleOf(text) : 'Bản tin của tỉnh');
    const id = `bt-${now.toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('bulletins')
        .values({
          id,
          title,
          text,
          priority: input.priority,
          sha256: audio.sha256,
          duration_ms: audio.durationMs,
          engine: audio.engine,
          all_communes: input.communes === 'all' ? 1 : 0,
          status: 'submitted',
          expires_at: input.expiresAt?.getTime() ?? null,
          public: (input.public ?? text !== null) ? 1 : 0,
          created_by: author,
          created_at: now,
          updated_at: now,
        })
        .execute();
      // The chosen communes are kept from the start, so an approver sees where it goes.
      for (let i = 0; i < communeIds.length; i += TARGETS_PER_INSERT) {
        await tx
          .insertInto('bulletin_communes')
          .values(
            communeIds
              .slice(i, i + TARGETS_PER_INSERT)
              .map((c) => ({ bulletin_id: id, commune_id: c, status: 'received' })),
          )
          .execute();
      }
    });
    if (mayApprove) return this.send(id, author, null);
    this.deps.changed?.(id, []);
    return (await this.get({ communeId: null }, id))!;
  }

  /** Approves a submitted bulletin (if still at `revision`) and sends it. */
  async approve(id: string, revision: number, approver: string): Promise<BulletinView> {
    await this.transition(id, revision, 'submitted', 'approve');
    return this.send(id, approver, revision);
  }

  async reject(id: string, revision: number, reason: string, approver: string): Promise<BulletinView> {
    const trimmed = reason.trim();
    if (!trimmed) throw new BulletinError(400, 'reason', 'reason: say why the bulletin is rejected');
    await this.transition(id, revision, 'submitted', 'reject');
    const now = this.now();
    const { numUpdatedRows } = await this.db
      .updateTable('bulletins')
      .set({
        status: 'rejected',
        review_reason: trimmed,
        reviewed_by: approver,
        reviewed_at: now,
        revision: sql`revision + 1`,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('revision', '=', revision)
      .where('status', '=', 'submitted')
      .executeTakeFirstOrThrow();
    if (Number(numUpdatedRows) === 0) throw await this.lost(id);
    this.deps.changed?.(id, []);
    return (await this.get({ communeId: null }, id))!;
  }

  /** Checks a province transition may happen; throws 404/409 with the bulletin as it is. */
  private async transition(id: string, revision: number, from: BulletinStatus, verb: string): Promise<void> {
    const current = await this.get({ communeId: null }, id);
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

  /** The 409 for a compare-and-set on the bulletin that changed nothing, with the bulletin as it is now. */
  private async lost(id: string): Promise<BulletinError> {
    const current = await this.get({ communeId: null }, id);
    return new BulletinError(409, 'revision', 'revision: someone changed this bulletin first', current);
  }

  /**
   * Marks the bulletin sent (compare-and-set: exactly one sender wins) and
   * hands it to each target commune by its priority.
   */
  private async send(id: string, sender: string, revision: number | null): Promise<BulletinView> {
    const now = this.now();
    const row = (await this.row(id))!;
    const expiresAt = row.priority === 'emergency' ? (row.expires_at ?? now + DEFAULT_EMERGENCY_TTL_MS) : null;
    const { numUpdatedRows } = await this.db
      .updateTable('bulletins')
      .set({
        status: 'sent',
        sent_at: now,
        expires_at: expiresAt,
        reviewed_by: sender,
        reviewed_at: now,
        revision: sql`revision + 1`,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'submitted')
      .$if(revision !== null, (q) => q.where('revision', '=', revision))
      .executeTakeFirstOrThrow();
    if (Number(numUpdatedRows) === 0) throw await this.lost(id);
    const targets = (
      (await this.db
        .selectFrom('bulletin_communes')
        .select('commune_id')
        .where('bulletin_id', '=', id)
        .orderBy(this.byBytes('commune_id'))
        .execute()) as { commune_id: string }[]
    ).map((t) => t.commune_id);
    const audio = {
      sha256: row.sha256,
      format: 'ogg' as const,
      bytes: 0,
      durationMs: row.duration_ms,
      engine: row.engine,
    };
    const stored = await this.deps.media.get(row.sha256);
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
          await this.setHandling(id, communeId, 'aired', aired ? null : 'không có loa nào / no loudspeakers', sender);
        }),
      );
      // Each commune that could be reached was; then the first failure is the caller's to hear.
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      for (const communeId of targets) {
        if (row.priority === 'priority') {
          const slot = await this.nextSlot(communeId, now + PRIORITY_PLACEMENT_LEAD_MS);
          if (slot === null) {
            await this.setHandling(
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
          await this.setHandling(
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
    return (await this.get({ communeId: null }, id))!;
  }

  /** Start of the commune's next scheduled programme (a normal occurrence from a schedule) from `from` on. */
  private async nextSlot(communeId: string, from: number): Promise<number | null> {
    const row = (await this.db
      .selectFrom('occurrences')
      .select((eb) => eb.fn.min('start_at').as('at'))
      .where('commune_id', '=', communeId)
      .where('schedule_id', 'is not', null)
      .where('priority', '=', 'normal')
      .where('start_at', '>=', from)
      .where('start_at', '<', from + SLOT_SEARCH_MS)
      .where('cancelled_at', 'is', null)
      .where('stopped_at', 'is', null)
      .executeTakeFirst()) as { at: number | null } | undefined;
    return row?.at ?? null;
  }

  /** Sets a commune's handling; `by` null keeps who handled it and when (nobody acted). */
  private async setHandling(
    id: string,
    communeId: string,
    status: CommuneHandling,
    detail: string | null,
    by: string | null,
  ): Promise<void> {
    await this.db
      .updateTable('bulletin_communes')
      .set({
        status,
        detail,
        ...(by !== null ? { handled_by: by, handled_at: this.now() } : {}),
        revision: sql`revision + 1`,
      })
      .where('bulletin_id', '=', id)
      .where('commune_id', '=', communeId)
      .execute();
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
    const target = await this.inboxRow(scope, id, communeId, input.revision, 'place');
    const now = this.now();
    if (input.at.getTime() < now) throw new BulletinError(400, 'at', `at: ${input.at.toISOString()} is in the past`);
    const row = (await this.row(id))!;
    // Claim the row first: two officers placing at once must not make two plays.
    const { numUpdatedRows } = await this.db
      .updateTable('bulletin_communes')
      .set({ status: 'scheduled', handled_by: by, handled_at: now, revision: sql`revision + 1` })
      .where('bulletin_id', '=', id)
      .where('commune_id', '=', communeId)
      .where('revision', '=', target.revision)
      .where('status', '=', 'received')
      .executeTakeFirstOrThrow();
    if (Number(numUpdatedRows) === 0) throw await this.lostTarget(scope, id, communeId);
    let aired;
    try {
      const stored = await this.deps.media.get(row.sha256);
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
      await this.db
        .updateTable('bulletin_communes')
        .set({ status: 'received', handled_by: null, handled_at: null, revision: target.revision })
        .where('bulletin_id', '=', id)
        .where('commune_id', '=', communeId)
        .execute();
      throw err;
    }
    await this.setHandling(
      id,
      communeId,
      'scheduled',
      aired ? `lúc ${input.at.toISOString()}` : 'không có loa nào / no loudspeakers',
      by,
    );
    this.deps.changed?.(id, [communeId]);
    return (await this.get(scope, id))!;
  }

  async decline(
    scope: Scope,
    id: string,
    communeId: string,
    input: { reason: string; revision: number },
    by: string,
  ): Promise<BulletinView> {
    const reason = input.reason.trim();
    if (!reason) throw new BulletinError(400, 'reason', 'reason: say why the commune declines the bulletin');
    const target = await this.inboxRow(scope, id, communeId, input.revision, 'decline');
    const { numUpdatedRows } = await this.db
      .updateTable('bulletin_communes')
      .set({
        status: 'declined',
        decline_reason: reason,
        handled_by: by,
        handled_at: this.now(),
        revision: sql`revision + 1`,
      })
      .where('bulletin_id', '=', id)
      .where('commune_id', '=', communeId)
      .where('revision', '=', target.revision)
      .where('status', '=', 'received')
      .executeTakeFirstOrThrow();
    if (Number(numUpdatedRows) === 0) throw await this.lostTarget(scope, id, communeId);
    this.deps.changed?.(id, [communeId]);
    return (await this.get(scope, id))!;
  }

  /** The commune's row of a sent bulletin, checked for a place/decline at `revision`. */
  private async inboxRow(
    scope: Scope,
    id: string,
    communeId: string,
    revision: number,
    verb: string,
  ): Promise<TargetRow> {
    const view = await this.get(scope, id);
    const target = view?.status === 'sent' ? await this.targetRow(id, communeId) : undefined;
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

  /** The 409 for a compare-and-set on a commune's row that changed nothing, with the row as it is now. */
  private async lostTarget(scope: Scope, id: string, communeId: string): Promise<BulletinError> {
    const current = (await this.get(scope, id))?.communes.find((c) => c.communeId === communeId);
    return new BulletinError(409, 'revision', 'revision: someone handled this bulletin first', current);
  }

  /**
   * A loudspeaker came back online: every emergency bulletin still current
   * that it has not received yet is sent to it again.
   */
  async deviceOnline(deviceId: string): Promise<number> {
    const now = this.now();
    const due = (await this.db
      .selectFrom('deliveries as d')
      .innerJoin('occurrences as o', 'o.id', 'd.occurrence_id')
      .innerJoin('bulletins as b', 'b.id', 'o.bulletin_id')
      .select(['o.id', 'b.expires_at'])
      .where('d.device_id', '=', deviceId)
      .where('d.stage', '=', 'pending')
      .where('b.priority', '=', 'emergency')
      .where('b.status', '=', 'sent')
      .where('b.expires_at', '>', now)
      .where('o.stopped_at', 'is', null)
      .where('o.cancelled_at', 'is', null)
      .execute()) as { id: string; expires_at: number }[];
    for (const o of due) await this.deps.airing.resend(o.id, deviceId, o.expires_at);
    return due.length;
  }

  // ---- reading ------------------------------------------------------------

  /**
   * Bulletins visible in `scope`: the province sees every one; a commune sees
   * those sent to it (not drafts, not rejected), with its own row only.
   */
  async list(scope: Scope, options: { limit?: number } = {}): Promise<BulletinView[]> {
    const communeId = scope.communeId;
    const rows = (await this.db
      .selectFrom('bulletins as b')
      .select(BULLETIN_COLUMNS.map((c) => `b.${c}` as const))
      .$if(communeId !== null, (q) =>
        q
          .where('b.status', '=', 'sent')
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('bulletin_communes as t')
                .select('t.commune_id')
                .whereRef('t.bulletin_id', '=', 'b.id')
                .where('t.commune_id', '=', communeId),
            ),
          ),
      )
      .orderBy('b.created_at', 'desc')
      .orderBy(this.byBytes('b.id'), 'desc')
      .limit(options.limit ?? 200)
      .execute()) as BulletinRow[];
    return this.views(scope, rows, false);
  }

  /** One bulletin with per-commune status and per-device deliveries; null when not visible in `scope`. */
  async get(scope: Scope, id: string): Promise<BulletinView | null> {
    const row = await this.row(id);
    if (!row) return null;
    if (scope.communeId !== null && (row.status !== 'sent' || !(await this.targetRow(id, scope.communeId)))) {
      return null;
    }
    return (await this.views(scope, [row], true))[0]!;
  }

  private async row(id: string): Promise<BulletinRow | undefined> {
    return (await this.db.selectFrom('bulletins').select(BULLETIN_COLUMNS).where('id', '=', id).executeTakeFirst()) as
      BulletinRow | undefined;
  }

  private async targetRow(id: string, communeId: string): Promise<TargetRow | undefined> {
    return (await this.targetRows([id], { communeId }))[0];
  }

  /** The communes' rows of the bulletins `ids` in `scope`, by commune name. */
  private async targetRows(ids: string[], scope: Scope): Promise<TargetRow[]> {
    const communeId = scope.communeId;
    return (await this.db
      .selectFrom('bulletin_communes as t')
      .innerJoin('communes as c', 'c.id', 't.commune_id')
      .select([
        't.bulletin_id',
        't.commune_id',
        'c.name',
        't.status',
        't.decline_reason',
        't.detail',
        't.handled_by',
        't.handled_at',
        't.revision',
      ])
      .where('t.bulletin_id', 'in', ids)
      .$if(communeId !== null, (q) => q.where('t.commune_id', '=', communeId))
      .orderBy(this.byBytes('c.name'))
      .orderBy(this.byBytes('c.id'))
      .execute()) as TargetRow[];
  }

  /** The views of `rows`, in their order; their communes, plays and deliveries read in one query each. */
  private async views(scope: Scope, rows: BulletinRow[], withDeliveries: boolean): Promise<BulletinView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const communeId = scope.communeId;
    const occurrences = (await this.db
      .selectFrom('occurrences')
      .select(['id', 'bulletin_id', 'commune_id', 'start_at'])
      .where('bulletin_id', 'in', ids)
      .orderBy('start_at')
      .orderBy(this.byBytes('id'))
      .execute()) as { id: string; bulletin_id: string; commune_id: string; start_at: number }[];
    const deliveries = (await this.db
      .selectFrom('deliveries as d')
      .innerJoin('occurrences as o', 'o.id', 'd.occurrence_id')
      .select(['d.occurrence_id', 'o.bulletin_id', 'o.commune_id', 'd.device_id', 'd.stage', 'd.at', 'd.detail'])
      .where('o.bulletin_id', 'in', ids)
      .$if(communeId !== null, (q) => q.where('o.commune_id', '=', communeId))
      .orderBy(this.byBytes('d.device_id'))
      .orderBy('o.start_at')
      .execute()) as {
      occurrence_id: string;
      bulletin_id: string;
      commune_id: string;
      device_id: string;
      stage: DeliveryStage;
      at: number | null;
      detail: string | null;
    }[];
    const targets = await this.targetRows(ids, scope);
    return rows.map((row) => ({
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
      communes: targets
        .filter((t) => t.bulletin_id === row.id)
        .map((t) => {
          const own = deliveries.filter((d) => d.bulletin_id === row.id && d.commune_id === t.commune_id);
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
              .filter((o) => o.bulletin_id === row.id && o.commune_id === t.commune_id)
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
    }));
  }

  /** The communes a bulletin goes to; every one must exist. */
  private async targets(communes: string[] | 'all'): Promise<string[]> {
    const known = (
      (await this.db.selectFrom('communes').select('id').orderBy(this.byBytes('id')).execute()) as { id: string }[]
    ).map((c) => c.id);
    if (communes === 'all') return known;
    if (communes.length === 0)
      throw new BulletinError(400, 'communes', 'communes: choose at least one commune, or "all"');
    const unknown = communes.filter((c) => !known.includes(c));
    if (unknown.length) throw new BulletinError(404, 'communes', `communes: no commune with id ${unknown.join(', ')}`);
    return [...new Set(communes)];
  }
}
