/**
 * Disaster alerts from CAP 1.2 feeds, to the villages inside them: polled,
 * parsed safely, de-duplicated on (sender, identifier), matched against the
 * loudspeakers' map positions, decided per commune (broadcast at once, wait
 * for a leader's tap, or show only), spoken in Vietnamese as emergencies and
 * repeated until they expire or are cancelled. An Update replaces the alert
 * it names (the next repeat says the new text); a Cancel stops its repeats.
 * Test, Exercise, System and Draft alerts never go on air. Every step is in
 * the audit log.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { AuditLog } from '../audit/audit-log';
import type { MediaAsset } from '../media/store';
import { CapError, parseCapAlert, type CapAlert, type CapArea, type CapInfo, type LatLon } from './cap';
import { areaContains, areaOverlaps } from './geo';
import type { FeedReader } from './feed';
import { judge, type AlertDecision, type AlertRule, type RuleOutcome } from './rules';
import { alertTone, type ChimeKind } from '../audio/chime';
import type { Scope } from '../tenancy/scope';

export type { AlertDecision } from './rules';
export type AlertState = 'active' | 'replaced' | 'cancelled' | 'expired' | 'not-actual';

/** What plays an alert on a commune's loudspeakers (the broadcast service). */
export interface AlertAiring {
  air(input: {
    communeId: string;
    alertId: string;
    deviceIds: string[];
    title: string;
    text: string;
    audio: MediaAsset & { engine: string | null };
  }): Promise<string | null>;
}

/** What renders an alert's words with its tone before and after. */
export interface AlertRenderer {
  render(request: { text: string; chime: ChimeKind }, communeId: string): Promise<MediaAsset & { engine: string }>;
}

/** A feed polled for alerts: from the environment (LOAXA_CAP_FEEDS) or saved in Settings. */
export interface AlertFeedView {
  url: string;
  source: 'environment' | 'saved';
  savedBy: string | null;
  savedAt: string | null;
  polledAt: string | null;
  okAt: string | null;
  error: string | null;
  failures: number;
  nextAt: string | null;
}

export interface AlertCommuneView {
  communeId: string;
  communeName: string;
  decision: AlertDecision;
  /** Which of the commune's alert rules decided (its index in Settings); null: the default rule. */
  rule: number | null;
  /** This commune broadcasts an all-clear when the alert is cancelled (or this row is that all-clear). */
  allClear: boolean;
  status: 'waiting' | 'airing' | 'done' | 'dismissed';
  devices: number;
  repeatsDone: number;
  nextAt: string | null;
  decidedBy: string | null;
  revision: number;
  occurrences: { id: string; startAt: string }[];
}

export interface AlertView {
  id: string;
  sender: string;
  identifier: string;
  sentAt: string;
  msgType: string;
  status: string;
  state: AlertState;
  event: string;
  categories: string[];
  severity: string;
  urgency: string;
  certainty: string;
  /** Risk level 1–5 (Decision 18/2021): a level parameter of the alert, else from its severity. */
  level: number;
  headline: string | null;
  description: string | null;
  instruction: string | null;
  expiresAt: string | null;
  /** As parsed; polygon points are [lat, lon] pairs. */
  areas: {
    areaDesc: string;
    polygons: number[][][];
    circles: CapArea['circles'];
    geocodes: CapArea['geocodes'];
  }[];
  receivedAt: string;
  replaces: string | null;
  communes: AlertCommuneView[];
}

export class AlertError extends Error {
  readonly extra?: { current: AlertCommuneView } | { feed: AlertFeedView };
  constructor(
    readonly statusCode: 404 | 409,
    readonly field: string,
    message: string,
    current?: AlertCommuneView,
    feed?: AlertFeedView,
  ) {
    super(message);
    if (current) this.extra = { current };
    else if (feed) this.extra = { feed };
  }
}

interface AlertRow {
  id: string;
  sender: string;
  identifier: string;
  sent_at: number;
  msg_type: string;
  status: string;
  state: AlertState;
  event: string;
  severity: string;
  urgency: string;
  certainty: string;
  level: number;
  headline: string | null;
  description: string | null;
  instruction: string | null;
  expires_at: number | null;
  areas: string;
  received_at: number;
  replaces: string | null;
  categories: string;
}

interface CommuneRow {
  alert_id: string;
  commune_id: string;
  decision: AlertDecision;
  status: AlertCommuneView['status'];
  device_ids: string;
  repeats_done: number;
  next_at: number | null;
  decided_by: string | null;
  decided_at: number | null;
  revision: number;
  repeats_ms: string | null;
  all_clear: number;
  rule_index: number | null;
}

const LEVEL_BY_SEVERITY: Record<string, number> = { Extreme: 4, Severe: 3, Moderate: 2, Minor: 1, Unknown: 1 };

/** The Vietnamese info block, else the first. */
function infoOf(alert: CapAlert): CapInfo | null {
  return alert.infos.find((i) => i.language.toLowerCase().startsWith('vi')) ?? alert.infos[0] ?? null;
}

function levelOf(info: CapInfo): number {
  const given = info.parameters.find((p) => /cap.?do|cấp.?độ|risk.?level|level/i.test(p.valueName));
  const n = given ? Number.parseInt(given.value, 10) : NaN;
  return n >= 1 && n <= 5 ? n : (LEVEL_BY_SEVERITY[info.severity] ?? 1);
}

/** What the loudspeakers say: the level, the headline, what happens and what to do. */
export function speechOf(
  alert: Pick<AlertRow, 'level' | 'event' | 'headline' | 'description' | 'instruction'>,
): string {
  const sentence = (s: string | null) => (s ? s.trim().replace(/[.!?…]*$/, '.') : '');
  return [
    `Cảnh báo thiên tai cấp độ ${alert.level}.`,
    sentence(alert.headline ?? alert.event),
    sentence(alert.description),
    sentence(alert.instruction),
  ]
    .filter(Boolean)
    .join(' ');
}

/** What the loudspeakers say when an alert is cancelled and the commune's rule asks for an all-clear. */
export function allClearSpeechOf(
  cancel: Pick<AlertRow, 'event' | 'headline' | 'description' | 'instruction'>,
  cancelled: Pick<AlertRow, 'event' | 'headline'> | null,
): string {
  const sentence = (s: string | null | undefined) => (s ? s.trim().replace(/[.!?…]*$/, '.') : '');
  return [
    'Thông báo kết thúc cảnh báo thiên tai.',
    sentence(cancelled ? `Cảnh báo ${cancelled.headline ?? cancelled.event} đã được hủy bỏ` : null),
    sentence(cancel.headline ?? cancel.event),
    sentence(cancel.description),
    sentence(cancel.instruction),
  ]
    .filter(Boolean)
    .join(' ');
}

/** Every state change of a commune's row bumps its revision (the compare-and-set token). */
const BUMP = sql<number>`revision + 1`;

type FeedRow = {
  url: string;
  polled_at: number | null;
  ok_at: number | null;
  error: string | null;
  failures: number;
  next_at: number | null;
  saved_at: number | null;
  saved_by: string | null;
};

type DueRow = CommuneRow &
  Pick<
    AlertRow,
    'level' | 'event' | 'headline' | 'description' | 'instruction' | 'expires_at' | 'state' | 'msg_type'
  > & { replaced_event: string | null; replaced_headline: string | null };

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

/** Byte order of ids, the same whatever the database's collation. */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class AlertService {
  private pollTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  /** The tick running, if any: one at a time, and stop() waits for it. */
  private ticking: Promise<void> | null = null;
  private polling: Promise<void> | null = null;
  /** Set by stop(): a running poll or tick ends after the item it is on, and none starts. */
  private stopped = false;

  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      /** The environment's feeds (LOAXA_CAP_FEEDS); those saved in Settings are added. */
      feeds: string[];
      reader: FeedReader;
      renderer: AlertRenderer;
      airing: AlertAiring;
      /** Each commune's alert rules, in order (Settings); empty: the default rule. */
      rules: (communeId: string) => AlertRule[] | Promise<AlertRule[]>;
      audit: AuditLog;
      logger: Logger;
      pollMs: number;
      /**
       * Gaps between airings (ms), the install's (LOAXA_ALERT_REPEATS_S): the first after receipt, the
       * next after the first airing ends, …, then the last again; a commune's rule may give its own.
       */
      repeatsMs: number[];
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private get db(): Kysely<Tables> {
    return this.deps.sqlDb.db;
  }

  start(): void {
    this.stopped = false;
    // Always polling: a feed saved in Settings is read within one poll, with no restart.
    const poll = () => {
      void this.poll().finally(() => {
        if (this.pollTimer) this.pollTimer = setTimeout(poll, this.deps.pollMs).unref();
      });
    };
    this.pollTimer = setTimeout(poll, 0).unref();
    this.tickTimer = setInterval(() => void this.tick(), 1000).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    // A poll ends with a tick, so the tick it starts is waited for too.
    await Promise.all([this.polling, this.ticking]);
  }

  /** Reads every feed that is due (a failing one backs off, doubling up to 30 minutes). */
  poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.polling ??= this.pollOnce()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'CAP poll failed; tried again at the next'))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const { reader, logger } = this.deps;
    const { db } = this;
    for (const url of await this.feedUrls()) {
      if (this.stopped) return;
      const state: Pick<FeedRow, 'failures' | 'next_at'> | undefined = await db
        .selectFrom('alert_feeds')
        .select(['failures', 'next_at'])
        .where('url', '=', url)
        .executeTakeFirst();
      const now = this.now();
      if (state?.next_at && state.next_at > now) continue;
      const result = await reader.read(url);
      if (result.kind === 'failed') {
        const failures = (state?.failures ?? 0) + 1;
        const backoff = Math.min(30 * 60_000, this.deps.pollMs * 2 ** Math.min(failures, 10));
        await db
          .insertInto('alert_feeds')
          .values({ url, polled_at: now, error: result.error, failures, next_at: now + backoff })
          .onConflict((oc) =>
            oc.column('url').doUpdateSet((eb) => ({
              polled_at: eb.ref('excluded.polled_at'),
              error: eb.ref('excluded.error'),
              failures: eb.ref('excluded.failures'),
              next_at: eb.ref('excluded.next_at'),
            })),
          )
          .execute();
        logger.warn({ url, error: result.error, failures }, 'CAP feed failed; backing off');
        continue;
      }
      if (result.kind === 'read') {
        for (const file of result.files) await this.ingest(file.body, file.url);
        await result.done();
        if (result.errors.length) logger.warn({ url, errors: result.errors }, 'CAP feed: some files not read');
      }
      await db
        .insertInto('alert_feeds')
        .values({ url, polled_at: now, ok_at: now, error: null, failures: 0, next_at: null })
        .onConflict((oc) =>
          oc.column('url').doUpdateSet((eb) => ({
            polled_at: eb.ref('excluded.polled_at'),
            ok_at: eb.ref('excluded.ok_at'),
            error: null,
            failures: 0,
            next_at: null,
          })),
        )
        .execute();
    }
    await this.tick();
  }

  /** Every feed polled: the environment's, then those saved in Settings. */
  async feedUrls(): Promise<string[]> {
    const saved: { url: string }[] = await this.db
      .selectFrom('alert_feeds')
      .select('url')
      .where('saved_at', 'is not', null)
      .orderBy('saved_at')
      .orderBy('url')
      .execute();
    return [...new Set([...this.deps.feeds, ...saved.map((r) => r.url)])];
  }

  /** The feeds with where each comes from and how its last reads went. */
  async feeds(): Promise<AlertFeedView[]> {
    const all: FeedRow[] = await this.db
      .selectFrom('alert_feeds')
      .select(['url', 'polled_at', 'ok_at', 'error', 'failures', 'next_at', 'saved_at', 'saved_by'])
      .execute();
    const rows = new Map(all.map((r) => [r.url, r]));
    return (await this.feedUrls()).map((url) => {
      const r = rows.get(url);
      return {
        url,
        source: this.deps.feeds.includes(url) ? 'environment' : 'saved',
        savedBy: r?.saved_by ?? null,
        savedAt: iso(r?.saved_at),
        polledAt: iso(r?.polled_at),
        okAt: iso(r?.ok_at),
        error: r?.error ?? null,
        failures: r?.failures ?? 0,
        nextAt: iso(r?.next_at),
      };
    });
  }

  private async feed(url: string): Promise<AlertFeedView | undefined> {
    return (await this.feeds()).find((f) => f.url === url);
  }

  /** Saves a feed (read at the next poll, which starts now); 409 when it is already polled. */
  async addFeed(url: string, by: string): Promise<AlertFeedView> {
    const current = await this.feed(url);
    if (current) throw new AlertError(409, 'url', 'this feed is already polled', undefined, current);
    const now = this.now();
    // Compare-and-set: a row left by an earlier read or removal is taken over only while unsaved.
    const saved = await this.db
      .insertInto('alert_feeds')
      .values({ url, saved_at: now, saved_by: by })
      .onConflict((oc) =>
        oc
          .column('url')
          .doUpdateSet((eb) => ({
            saved_at: eb.ref('excluded.saved_at'),
            saved_by: eb.ref('excluded.saved_by'),
            failures: 0,
            next_at: null,
          }))
          .where('alert_feeds.saved_at', 'is', null),
      )
      .returning('url')
      .executeTakeFirst();
    if (!saved) {
      throw new AlertError(409, 'url', 'this feed is already polled', undefined, (await this.feed(url))!);
    }
    void this.poll();
    return (await this.feed(url))!;
  }

  /** Stops polling a feed saved in Settings (the environment's stay: they are the install's). */
  async removeFeed(url: string): Promise<void> {
    const current = await this.feed(url);
    if (!current) throw new AlertError(404, 'url', 'no such feed');
    if (current.source === 'environment') {
      throw new AlertError(409, 'url', 'this feed comes from LOAXA_CAP_FEEDS; remove it there', undefined, current);
    }
    const removed = await this.db
      .updateTable('alert_feeds')
      .set({ saved_at: null, saved_by: null })
      .where('url', '=', url)
      .where('saved_at', 'is not', null)
      .executeTakeFirst();
    // Removed meanwhile by someone else.
    if (Number(removed.numUpdatedRows) === 0) throw new AlertError(404, 'url', 'no such feed');
  }

  /**
   * Takes in one CAP document: stored, matched and decided, or refused whole
   * (logged and audited) when it is malformed. Returns the alert's id, or null.
   */
  async ingest(xml: Buffer | string, sourceUrl: string | null): Promise<string | null> {
    const { audit, logger } = this.deps;
    const { db } = this;
    let alert: CapAlert;
    try {
      alert = parseCapAlert(xml);
    } catch (err) {
      const problem = err instanceof CapError ? { path: err.path, reason: err.reason } : { reason: String(err) };
      logger.warn({ sourceUrl, ...problem }, 'CAP alert refused');
      await audit.record({
        actor: 'cap',
        action: 'alert.invalid',
        target: sourceUrl ?? 'upload',
        detail: problem,
        communeId: null,
      });
      return null;
    }
    const known = await db
      .selectFrom('alerts')
      .select('id')
      .where('sender', '=', alert.sender)
      .where('identifier', '=', alert.identifier)
      .executeTakeFirst();
    if (known) return null;
    const info = infoOf(alert);
    if (!info) return null;
    const now = this.now();
    const id = `al-${now.toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
    const expiresAt = info.expires?.getTime() ?? null;
    const actual = alert.status === 'Actual' && (alert.msgType === 'Alert' || alert.msgType === 'Update');
    const state: AlertState = !actual
      ? alert.msgType === 'Cancel' && alert.status === 'Actual'
        ? 'cancelled'
        : 'not-actual'
      : expiresAt !== null && expiresAt <= now
        ? 'expired'
        : 'active';
    const areas = info.areas.map((a) => ({
      areaDesc: a.areaDesc,
      polygons: a.polygons,
      circles: a.circles,
      geocodes: a.geocodes,
    }));
    // Matched whatever its state, so the communes it concerns see it (a Test alert "shown as such").
    const matched = await this.match(info.areas);
    const facts = {
      status: alert.status,
      event: info.event,
      categories: info.categories,
      severity: info.severity,
      urgency: info.urgency,
      certainty: info.certainty,
    };
    const SHOWN: RuleOutcome = { decision: 'show', repeatsMs: null, allClear: false, ruleIndex: null };
    const outcomes = new Map<string, RuleOutcome>();
    for (const c of matched.keys()) {
      outcomes.set(c, state === 'active' ? judge(await this.deps.rules(c), facts) : SHOWN);
    }
    const stored = await db.transaction().execute(async (tx) => {
      const referenced: AlertRow[] = [];
      for (const r of alert.references) {
        const row = await tx
          .selectFrom('alerts')
          .selectAll()
          .$castTo<AlertRow>()
          .where('sender', '=', r.sender)
          .where('identifier', '=', r.identifier)
          .executeTakeFirst();
        if (row) referenced.push(row);
      }
      const inserted = await tx
        .insertInto('alerts')
        .values({
          id,
          sender: alert.sender,
          identifier: alert.identifier,
          sent_at: alert.sent.getTime(),
          msg_type: alert.msgType,
          status: alert.status,
          event: info.event,
          severity: info.severity,
          urgency: info.urgency,
          certainty: info.certainty,
          level: levelOf(info),
          headline: info.headline,
          description: info.description,
          instruction: info.instruction,
          expires_at: expiresAt,
          areas: JSON.stringify(areas),
          source_url: sourceUrl,
          received_at: now,
          state,
          // The one still in force (a Cancel may name the whole chain: the alert and its Updates).
          replaces: (referenced.find((r) => r.state === 'active') ?? referenced[0])?.id ?? null,
          categories: JSON.stringify(info.categories),
        })
        // Taken in meanwhile (the same alert from another feed): nothing more to do.
        .onConflict((oc) => oc.columns(['sender', 'identifier']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return null;
      // An Update or Cancel (real ones) ends what it refers to; an Update's repeats carry on with its text.
      const carried = new Map<string, CommuneRow>();
      const allClears = new Map<string, CommuneRow>();
      if (alert.status === 'Actual' && (alert.msgType === 'Update' || alert.msgType === 'Cancel')) {
        for (const old of referenced) {
          await tx
            .updateTable('alerts')
            .set({ state: alert.msgType === 'Update' ? 'replaced' : 'cancelled' })
            .where('id', '=', old.id)
            .where('state', '=', 'active')
            .execute();
          const running = await tx
            .selectFrom('alert_communes')
            .selectAll()
            .$castTo<CommuneRow>()
            .where('alert_id', '=', old.id)
            .where('status', 'in', ['waiting', 'airing'])
            .execute();
          for (const row of running) {
            carried.set(row.commune_id, row);
            // A commune whose rule asks for it hears the all-clear, on the loudspeakers that heard the alert.
            if (alert.msgType === 'Cancel' && row.all_clear && row.repeats_done > 0) allClears.set(row.commune_id, row);
          }
          await tx
            .updateTable('alert_communes')
            .set({ status: 'done', next_at: null, revision: BUMP })
            .where('alert_id', '=', old.id)
            .where('status', 'in', ['waiting', 'airing'])
            .execute();
        }
      }
      const rows: Record<string, unknown>[] = [];
      for (const [communeId, deviceIds] of matched) {
        if (allClears.has(communeId)) continue;
        const outcome = outcomes.get(communeId)!;
        const before = carried.get(communeId);
        // A commune already airing the alert it updates keeps its rhythm; a new one starts after the rule's first gap.
        const status =
          outcome.decision === 'show'
            ? 'done'
            : before?.status === 'airing' || outcome.decision === 'auto'
              ? 'airing'
              : 'waiting';
        const firstGap = (outcome.repeatsMs ?? this.deps.repeatsMs)[0] ?? 0;
        const nextAt = status === 'airing' ? (before?.status === 'airing' ? before.next_at : now + firstGap) : null;
        rows.push({
          alert_id: id,
          commune_id: communeId,
          decision: outcome.decision,
          status,
          device_ids: JSON.stringify(deviceIds),
          repeats_done: before?.repeats_done ?? 0,
          next_at: nextAt,
          repeats_ms: outcome.repeatsMs ? JSON.stringify(outcome.repeatsMs) : null,
          all_clear: outcome.allClear ? 1 : 0,
          rule_index: outcome.ruleIndex,
        });
      }
      // The all-clear airs once, at once, as the Cancel's own row in that commune.
      for (const [communeId, row] of allClears) {
        rows.push({
          alert_id: id,
          commune_id: communeId,
          decision: 'auto',
          status: 'airing',
          device_ids: row.device_ids,
          repeats_done: 0,
          next_at: now,
          repeats_ms: '[0]',
          all_clear: 1,
          rule_index: row.rule_index,
        });
      }
      if (rows.length) await tx.insertInto('alert_communes').values(rows).execute();
      await audit.record(
        {
          actor: 'cap',
          action: 'alert.received',
          target: id,
          detail: {
            sender: alert.sender,
            identifier: alert.identifier,
            msgType: alert.msgType,
            status: alert.status,
            state,
            references: referenced.map((r) => r.id),
            communes: {
              ...Object.fromEntries(
                [...matched].map(([c, d]) => [
                  c,
                  { devices: d.length, decision: outcomes.get(c)!.decision, rule: outcomes.get(c)!.ruleIndex },
                ]),
              ),
              ...Object.fromEntries(
                [...allClears].map(([c, row]) => [
                  c,
                  {
                    devices: (JSON.parse(row.device_ids) as string[]).length,
                    decision: 'all-clear',
                    rule: row.rule_index,
                  },
                ]),
              ),
            },
          },
          communeId: null,
        },
        tx,
      );
      return id;
    });
    if (stored === null) return null;
    logger.info(
      { alertId: id, msgType: alert.msgType, status: alert.status, state, communes: matched.size },
      'CAP alert',
    );
    return id;
  }

  /**
   * The active loudspeakers the areas reach, by commune: those with a map position inside a
   * polygon or circle; those without one in a zone whose drawn area the polygons or circles
   * overlap; and those in a zone or commune carrying one of the areas' geocodes.
   */
  private async match(areas: readonly CapArea[]): Promise<Map<string, string[]>> {
    const { db } = this;
    type DeviceRef = { id: string; commune_id: string };
    const found = new Map<string, Set<string>>();
    const add = (d: DeviceRef) => found.set(d.commune_id, (found.get(d.commune_id) ?? new Set()).add(d.id));
    const positioned: (DeviceRef & { latitude: number; longitude: number })[] = await db
      .selectFrom('devices')
      .select(['id', 'commune_id', 'latitude', 'longitude'])
      .where('revoked_at', 'is', null)
      .where('latitude', 'is not', null)
      .where('longitude', 'is not', null)
      .orderBy('id')
      .execute();
    for (const d of positioned) {
      const point = { lat: d.latitude, lon: d.longitude };
      if (areas.some((a) => areaContains(a, point))) add(d);
    }
    /** Active devices joined to `ids` of zones (through device_zones) or of communes. */
    const devicesIn = (kind: 'zones' | 'communes', ids: string[], unplacedOnly = false): Promise<DeviceRef[]> =>
      kind === 'zones'
        ? db
            .selectFrom('device_zones as dz')
            .innerJoin('devices as d', 'd.id', 'dz.device_id')
            .select(['d.id', 'd.commune_id'])
            .where('d.revoked_at', 'is', null)
            .where('dz.zone_id', 'in', ids)
            .$if(unplacedOnly, (q) =>
              q.where((eb) => eb.or([eb('d.latitude', 'is', null), eb('d.longitude', 'is', null)])),
            )
            .orderBy('d.id')
            .execute()
        : db
            .selectFrom('devices as d')
            .select(['d.id', 'd.commune_id'])
            .where('d.revoked_at', 'is', null)
            .where('d.commune_id', 'in', ids)
            .orderBy('d.id')
            .execute();
    const codes = new Set(areas.flatMap((a) => a.geocodes.flatMap((g) => [g.value, `${g.valueName}=${g.value}`])));
    if (codes.size) {
      // Zones and communes keep their codes as a JSON array in a TEXT column: the arrays are read
      // and matched here rather than with SQLite's json_each, which PostgreSQL does not have.
      const carrying = async (table: 'zones' | 'communes') => {
        const rows: { id: string; geocodes: string }[] = await db
          .selectFrom(table)
          .select(['id', 'geocodes'])
          .where('geocodes', '<>', '[]')
          .execute();
        return rows
          .filter((r) => (JSON.parse(r.geocodes) as unknown[]).some((c) => typeof c === 'string' && codes.has(c)))
          .map((r) => r.id);
      };
      const zones = await carrying('zones');
      if (zones.length) for (const d of await devicesIn('zones', zones)) add(d);
      const communes = await carrying('communes');
      if (communes.length) for (const d of await devicesIn('communes', communes)) add(d);
    }
    if (areas.some((a) => a.polygons.length || a.circles.length)) {
      const drawn: { id: string; area: string }[] = await db
        .selectFrom('zones')
        .select(['id', 'area'])
        .where('area', 'is not', null)
        .execute();
      const reached = drawn
        .filter((z) => areas.some((a) => areaOverlaps(a, JSON.parse(z.area) as LatLon[])))
        .map((z) => z.id);
      if (reached.length) for (const d of await devicesIn('zones', reached, true)) add(d);
    }
    return new Map([...found].map(([communeId, ids]) => [communeId, [...ids].sort()]));
  }

  /** Airs what is due: each commune's next repeat of its current alerts, until they expire. One tick at a time. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.tickOnce()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'alert tick failed; tried again at the next'))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { audit, logger } = this.deps;
    const { db } = this;
    const due = await db
      .selectFrom('alert_communes as c')
      .innerJoin('alerts as a', 'a.id', 'c.alert_id')
      .leftJoin('alerts as r', 'r.id', 'a.replaces')
      .selectAll('c')
      .select([
        'a.level',
        'a.event',
        'a.headline',
        'a.description',
        'a.instruction',
        'a.expires_at',
        'a.state',
        'a.msg_type',
        'r.event as replaced_event',
        'r.headline as replaced_headline',
      ])
      .where('c.status', '=', 'airing')
      .where('c.next_at', '<=', this.now())
      .orderBy('c.next_at')
      .$castTo<DueRow>()
      .execute();
    for (const row of due) {
      if (this.stopped) return;
      const now = this.now();
      // A Cancel's own row in a commune is its all-clear, aired once.
      const allClear = row.msg_type === 'Cancel' && row.all_clear === 1;
      if (!allClear && (row.state !== 'active' || (row.expires_at !== null && row.expires_at <= now))) {
        await db.transaction().execute(async (tx) => {
          const ended = await tx
            .updateTable('alert_communes')
            .set({ status: 'done', next_at: null, revision: BUMP })
            .where('alert_id', '=', row.alert_id)
            .where('commune_id', '=', row.commune_id)
            .where('status', '=', 'airing')
            .executeTakeFirst();
          // Ended meanwhile (an Update or Cancel came in during an earlier airing of this tick).
          if (Number(ended.numUpdatedRows) === 0) return;
          if (row.state === 'active') {
            await tx
              .updateTable('alerts')
              .set({ state: 'expired' })
              .where('id', '=', row.alert_id)
              .where('state', '=', 'active')
              .execute();
          }
          await audit.record(
            {
              actor: 'cap',
              action: 'alert.ended',
              target: row.alert_id,
              detail: { state: row.state },
              communeId: row.commune_id,
            },
            tx,
          );
        });
        continue;
      }
      try {
        const cancelled =
          row.replaced_event === null ? null : { event: row.replaced_event, headline: row.replaced_headline };
        const text = allClear ? allClearSpeechOf(row, cancelled) : speechOf(row);
        const tone: ChimeKind = allClear ? 'all-clear' : alertTone(row.level);
        const audio = await this.deps.renderer.render({ text, chime: tone }, row.commune_id);
        const occurrenceId = await this.deps.airing.air({
          communeId: row.commune_id,
          alertId: row.alert_id,
          deviceIds: JSON.parse(row.device_ids) as string[],
          title: allClear
            ? `Kết thúc cảnh báo: ${cancelled?.headline ?? cancelled?.event ?? row.headline ?? row.event}`
            : (row.headline ?? row.event),
          text,
          audio,
        });
        const done = row.repeats_done + 1;
        const gaps = row.repeats_ms ? (JSON.parse(row.repeats_ms) as number[]) : this.deps.repeatsMs;
        // The gap counts from the end of this airing, which starts once rendered and sent (a slow
        // render must not shorten it): a repeat never cuts the one before it off.
        const next = this.now() + audio.durationMs + (gaps[Math.min(done, gaps.length - 1)] ?? gaps.at(-1) ?? 0);
        const ends = allClear || (row.expires_at !== null && next >= row.expires_at);
        await db.transaction().execute(async (tx) => {
          await tx
            .updateTable('alert_communes')
            .set({ repeats_done: done, next_at: ends ? null : next, status: ends ? 'done' : 'airing', revision: BUMP })
            .where('alert_id', '=', row.alert_id)
            .where('commune_id', '=', row.commune_id)
            .where('status', '=', 'airing')
            .execute();
          // Aired either way: the entry stands even when the row was ended meanwhile.
          await audit.record(
            {
              actor: 'cap',
              action: allClear ? 'alert.all-clear' : 'alert.aired',
              target: row.alert_id,
              detail: { occurrenceId, repeat: done, tone },
              communeId: row.commune_id,
            },
            tx,
          );
        });
      } catch (err) {
        // Tried again at the next tick: an emergency is not dropped for a failed render.
        logger.error({ err, alertId: row.alert_id, communeId: row.commune_id }, 'alert could not be aired');
      }
    }
  }

  /** A leader airs an alert that waited for confirmation, or dismisses it; compare-and-set on `revision`. */
  async decideFor(
    scope: Scope,
    alertId: string,
    communeId: string,
    action: 'confirm' | 'dismiss',
    revision: number,
    by: string,
  ): Promise<AlertCommuneView> {
    const row = await this.communeRow(scope, alertId, communeId);
    if (row.status !== 'waiting') {
      throw new AlertError(
        409,
        'status',
        `nothing waits for a decision (it is ${row.status})`,
        await this.communeView(row),
      );
    }
    const now = this.now();
    const result = await this.db
      .updateTable('alert_communes')
      .set({
        status: action === 'confirm' ? 'airing' : 'dismissed',
        next_at: action === 'confirm' ? now : null,
        decided_by: by,
        decided_at: now,
        revision: BUMP,
      })
      .where('alert_id', '=', alertId)
      .where('commune_id', '=', communeId)
      .where('revision', '=', revision)
      .where('status', '=', 'waiting')
      .executeTakeFirst();
    const current = await this.communeRow(scope, alertId, communeId);
    if (Number(result.numUpdatedRows) === 0) {
      throw new AlertError(409, 'revision', 'someone decided meanwhile', await this.communeView(current));
    }
    if (action === 'confirm') void this.tick();
    return this.communeView(current);
  }

  private async communeRow(scope: Scope, alertId: string, communeId: string): Promise<CommuneRow> {
    if (scope.communeId !== null && scope.communeId !== communeId) {
      throw new AlertError(404, 'id', `no alert ${alertId} for this commune`);
    }
    const row = await this.db
      .selectFrom('alert_communes')
      .selectAll()
      .$castTo<CommuneRow>()
      .where('alert_id', '=', alertId)
      .where('commune_id', '=', communeId)
      .executeTakeFirst();
    if (!row) throw new AlertError(404, 'id', `no alert ${alertId} for commune ${communeId}`);
    return row;
  }

  private async communeView(row: CommuneRow): Promise<AlertCommuneView> {
    return (await this.communeViews([row]))[0]!;
  }

  /** The rows as the console shows them, in the same order: three queries whatever their number. */
  private async communeViews(rows: CommuneRow[]): Promise<AlertCommuneView[]> {
    if (!rows.length) return [];
    const { db } = this;
    const communeIds = [...new Set(rows.map((r) => r.commune_id))];
    const alertIds = [...new Set(rows.map((r) => r.alert_id))];
    const names: { id: string; name: string }[] = await db
      .selectFrom('communes')
      .select(['id', 'name'])
      .where('id', 'in', communeIds)
      .execute();
    const nameOf = new Map(names.map((n) => [n.id, n.name]));
    const plays: { id: string; alert_id: string; commune_id: string; start_at: number }[] = await db
      .selectFrom('occurrences')
      .select(['id', 'alert_id', 'commune_id', 'start_at'])
      .where('alert_id', 'in', alertIds)
      .where('commune_id', 'in', communeIds)
      .orderBy('start_at')
      .orderBy('id')
      .execute();
    const key = (alertId: string, communeId: string) => `${alertId}\n${communeId}`;
    const playsOf = new Map<string, { id: string; startAt: string }[]>();
    for (const o of plays) {
      const k = key(o.alert_id, o.commune_id);
      playsOf.set(k, [...(playsOf.get(k) ?? []), { id: o.id, startAt: new Date(o.start_at).toISOString() }]);
    }
    return rows.map((row) => ({
      communeId: row.commune_id,
      communeName: nameOf.get(row.commune_id) ?? row.commune_id,
      decision: row.decision,
      rule: row.rule_index,
      allClear: row.all_clear === 1,
      status: row.status,
      devices: (JSON.parse(row.device_ids) as string[]).length,
      repeatsDone: row.repeats_done,
      nextAt: iso(row.next_at),
      decidedBy: row.decided_by,
      revision: row.revision,
      occurrences: playsOf.get(key(row.alert_id, row.commune_id)) ?? [],
    }));
  }

  /**
   * The CAP files refused whole (malformed or hostile), newest first, from the audit log: shown
   * on the Alerts page so a broken feed is seen, not only logged.
   */
  async refused(limit = 20): Promise<{ at: string; source: string; path: string | null; reason: string }[]> {
    const rows: { at: number; target: string | null; detail: string | null }[] = await this.db
      .selectFrom('audit_log')
      .select(['at', 'target', 'detail'])
      .where('action', '=', 'alert.invalid')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const detail = JSON.parse(r.detail ?? '{}') as { path?: string; reason?: string };
      return {
        at: new Date(r.at).toISOString(),
        source: r.target ?? 'upload',
        path: detail.path ?? null,
        reason: detail.reason ?? '',
      };
    });
  }

  /** The alerts `scope` may see, newest first: a commune sees those that reached it, and only its own row. */
  async list(scope: Scope, limit = 100): Promise<AlertView[]> {
    const { db } = this;
    const { communeId } = scope;
    const rows = await db
      .selectFrom('alerts as a')
      .selectAll('a')
      .$castTo<AlertRow>()
      .$if(communeId !== null, (q) =>
        q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('alert_communes as c')
              .select('c.alert_id')
              .whereRef('c.alert_id', '=', 'a.id')
              .where('c.commune_id', '=', communeId),
          ),
        ),
      )
      .orderBy('a.received_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(limit)
      .execute();
    if (!rows.length) return [];
    const communeRows = await db
      .selectFrom('alert_communes')
      .selectAll()
      .$castTo<CommuneRow>()
      .where(
        'alert_id',
        'in',
        rows.map((r) => r.id),
      )
      .$if(communeId !== null, (q) => q.where('commune_id', '=', communeId))
      .execute();
    communeRows.sort((a, b) => byId(a.commune_id, b.commune_id));
    const views = await this.communeViews(communeRows);
    const communesOf = new Map<string, AlertCommuneView[]>();
    communeRows.forEach((c, i) => communesOf.set(c.alert_id, [...(communesOf.get(c.alert_id) ?? []), views[i]!]));
    return rows.map((r) => ({
      id: r.id,
      sender: r.sender,
      identifier: r.identifier,
      sentAt: new Date(r.sent_at).toISOString(),
      msgType: r.msg_type,
      status: r.status,
      state: r.state,
      event: r.event,
      categories: JSON.parse(r.categories) as string[],
      severity: r.severity,
      urgency: r.urgency,
      certainty: r.certainty,
      level: r.level,
      headline: r.headline,
      description: r.description,
      instruction: r.instruction,
      expiresAt: iso(r.expires_at),
      areas: JSON.parse(r.areas) as AlertView['areas'],
      receivedAt: new Date(r.received_at).toISOString(),
      replaces: r.replaces,
      communes: communesOf.get(r.id) ?? [],
    }));
  }
}
