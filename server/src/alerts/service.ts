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
import type { Db } from '../db/database';
import type { AuditLog } from '../audit/audit-log';
import type { MediaAsset } from '../media/store';
import { CapError, parseCapAlert, type CapAlert, type CapArea, type CapInfo, type LatLon } from './cap';
import { areaContains, areaOverlaps } from './geo';
import type { FeedReader } from './feed';
import { judge, type AlertDecision, type AlertRule, type RuleOutcome } from './rules';
import { alertTone, type ChimeKind } from '../audio/chime';
import { inScope, type Scope } from '../tenancy/scope';

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

export class AlertService {
  private pollTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      /** The environment's feeds (LOAXA_CAP_FEEDS); those saved in Settings are added. */
      feeds: string[];
      reader: FeedReader;
      renderer: AlertRenderer;
      airing: AlertAiring;
      /** Each commune's alert rules, in order (Settings); empty: the default rule. */
      rules: (communeId: string) => AlertRule[];
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

  start(): void {
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
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    await Promise.all([this.polling, this.ticking]);
  }

  /** Reads every feed that is due (a failing one backs off, doubling up to 30 minutes). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const { db, reader, logger } = this.deps;
    for (const url of this.feedUrls()) {
      const state = db.prepare('SELECT failures, next_at FROM alert_feeds WHERE url = ?').get(url) as
        { failures: number; next_at: number | null } | undefined;
      const now = this.now();
      if (state?.next_at && state.next_at > now) continue;
      const result = await reader.read(url);
      if (result.kind === 'failed') {
        const failures = (state?.failures ?? 0) + 1;
        const backoff = Math.min(30 * 60_000, this.deps.pollMs * 2 ** Math.min(failures, 10));
        db.prepare(
          `INSERT INTO alert_feeds (url, polled_at, error, failures, next_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(url) DO UPDATE SET polled_at = excluded.polled_at, error = excluded.error,
             failures = excluded.failures, next_at = excluded.next_at`,
        ).run(url, now, result.error, failures, now + backoff);
        logger.warn({ url, error: result.error, failures }, 'CAP feed failed; backing off');
        continue;
      }
      if (result.kind === 'read') {
        for (const file of result.files) this.ingest(file.body, file.url);
        await result.done();
        if (result.errors.length) logger.warn({ url, errors: result.errors }, 'CAP feed: some files not read');
      }
      db.prepare(
        `INSERT INTO alert_feeds (url, polled_at, ok_at, error, failures, next_at) VALUES (?, ?, ?, NULL, 0, NULL)
         ON CONFLICT(url) DO UPDATE SET polled_at = excluded.polled_at, ok_at = excluded.ok_at, error = NULL,
           failures = 0, next_at = NULL`,
      ).run(url, now, now);
    }
    await this.tick();
  }

  /** Every feed polled: the environment's, then those saved in Settings. */
  feedUrls(): string[] {
    const saved = this.deps.db
      .prepare('SELECT url FROM alert_feeds WHERE saved_at IS NOT NULL ORDER BY saved_at, url')
      .all() as { url: string }[];
    return [...new Set([...this.deps.feeds, ...saved.map((r) => r.url)])];
  }

  /** The feeds with where each comes from and how its last reads went. */
  feeds(): AlertFeedView[] {
    const rows = new Map(
      (
        this.deps.db.prepare('SELECT * FROM alert_feeds').all() as {
          url: string;
          polled_at: number | null;
          ok_at: number | null;
          error: string | null;
          failures: number;
          next_at: number | null;
          saved_at: number | null;
          saved_by: string | null;
        }[]
      ).map((r) => [r.url, r]),
    );
    const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
    return this.feedUrls().map((url) => {
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

  /** Saves a feed (read at the next poll, which starts now); 409 when it is already polled. */
  addFeed(url: string, by: string): AlertFeedView {
    const current = this.feeds().find((f) => f.url === url);
    if (current) throw new AlertError(409, 'url', 'this feed is already polled', undefined, current);
    const now = this.now();
    this.deps.db
      .prepare(
        `INSERT INTO alert_feeds (url, saved_at, saved_by) VALUES (?, ?, ?)
         ON CONFLICT(url) DO UPDATE SET saved_at = excluded.saved_at, saved_by = excluded.saved_by,
           failures = 0, next_at = NULL`,
      )
      .run(url, now, by);
    void this.poll();
    return this.feeds().find((f) => f.url === url)!;
  }

  /** Stops polling a feed saved in Settings (the environment's stay: they are the install's). */
  removeFeed(url: string): void {
    const current = this.feeds().find((f) => f.url === url);
    if (!current) throw new AlertError(404, 'url', 'no such feed');
    if (current.source === 'environment') {
      throw new AlertError(409, 'url', 'this feed comes from LOAXA_CAP_FEEDS; remove it there', undefined, current);
    }
    this.deps.db.prepare('UPDATE alert_feeds SET saved_at = NULL, saved_by = NULL WHERE url = ?').run(url);
  }

  /**
   * Takes in one CAP document: stored, matched and decided, or refused whole
   * (logged and audited) when it is malformed. Returns the alert's id, or null.
   */
  ingest(xml: Buffer | string, sourceUrl: string | null): string | null {
    const { db, audit, logger } = this.deps;
    let alert: CapAlert;
    try {
      alert = parseCapAlert(xml);
    } catch (err) {
      const problem = err instanceof CapError ? { path: err.path, reason: err.reason } : { reason: String(err) };
      logger.warn({ sourceUrl, ...problem }, 'CAP alert refused');
      void audit.record({
        actor: 'cap',
        action: 'alert.invalid',
        target: sourceUrl ?? 'upload',
        detail: problem,
        communeId: null,
      });
      return null;
    }
    const known = db
      .prepare('SELECT id FROM alerts WHERE sender = ? AND identifier = ?')
      .get(alert.sender, alert.identifier);
    if (known) return null;
    const info = infoOf(alert);
    if (!info) return null;
    const now = this.now();
    const id = `al-${now.toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
    const referenced = alert.references
      .map(
        (r) =>
          db.prepare('SELECT * FROM alerts WHERE sender = ? AND identifier = ?').get(r.sender, r.identifier) as
            AlertRow | undefined,
      )
      .filter((r): r is AlertRow => r !== undefined);
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
    const matched = this.match(info.areas);
    const facts = {
      status: alert.status,
      event: info.event,
      categories: info.categories,
      severity: info.severity,
      urgency: info.urgency,
      certainty: info.certainty,
    };
    const SHOWN: RuleOutcome = { decision: 'show', repeatsMs: null, allClear: false, ruleIndex: null };
    const outcomes = new Map(
      [...matched.keys()].map((c) => [c, state === 'active' ? judge(this.deps.rules(c), facts) : SHOWN]),
    );
    const allClears = new Map<string, CommuneRow>();
    db.transaction(() => {
      db.prepare(
        `INSERT INTO alerts (id, sender, identifier, sent_at, msg_type, status, event, severity, urgency, certainty,
           level, headline, description, instruction, expires_at, areas, source_url, received_at, state, replaces,
           categories)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        alert.sender,
        alert.identifier,
        alert.sent.getTime(),
        alert.msgType,
        alert.status,
        info.event,
        info.severity,
        info.urgency,
        info.certainty,
        levelOf(info),
        info.headline,
        info.description,
        info.instruction,
        expiresAt,
        JSON.stringify(areas),
        sourceUrl,
        now,
        state,
        // The one still in force (a Cancel may name the whole chain: the alert and its Updates).
        (referenced.find((r) => r.state === 'active') ?? referenced[0])?.id ?? null,
        JSON.stringify(info.categories),
      );
      // An Update or Cancel (real ones) ends what it refers to; an Update's repeats carry on with its text.
      const carried = new Map<string, CommuneRow>();
      if (alert.status === 'Actual' && (alert.msgType === 'Update' || alert.msgType === 'Cancel')) {
        for (const old of referenced) {
          db.prepare(`UPDATE alerts SET state = ? WHERE id = ? AND state = 'active'`).run(
            alert.msgType === 'Update' ? 'replaced' : 'cancelled',
            old.id,
          );
          for (const row of db
            .prepare(`SELECT * FROM alert_communes WHERE alert_id = ? AND status IN ('waiting', 'airing')`)
            .all(old.id) as CommuneRow[]) {
            carried.set(row.commune_id, row);
            // A commune whose rule asks for it hears the all-clear, on the loudspeakers that heard the alert.
            if (alert.msgType === 'Cancel' && row.all_clear && row.repeats_done > 0) allClears.set(row.commune_id, row);
          }
          db.prepare(
            `UPDATE alert_communes SET status = 'done', next_at = NULL, revision = revision + 1
             WHERE alert_id = ? AND status IN ('waiting', 'airing')`,
          ).run(old.id);
        }
      }
      const add = db.prepare(
        `INSERT INTO alert_communes (alert_id, commune_id, decision, status, device_ids, repeats_done, next_at,
           repeats_ms, all_clear, rule_index)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
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
        add.run(
          id,
          communeId,
          outcome.decision,
          status,
          JSON.stringify(deviceIds),
          before?.repeats_done ?? 0,
          nextAt,
          outcome.repeatsMs ? JSON.stringify(outcome.repeatsMs) : null,
          outcome.allClear ? 1 : 0,
          outcome.ruleIndex,
        );
      }
      // The all-clear airs once, at once, as the Cancel's own row in that commune.
      for (const [communeId, row] of allClears) {
        add.run(id, communeId, 'auto', 'airing', row.device_ids, 0, now, '[0]', 1, row.rule_index);
      }
    })();
    void audit.record({
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
              { devices: (JSON.parse(row.device_ids) as string[]).length, decision: 'all-clear', rule: row.rule_index },
            ]),
          ),
        },
      },
      communeId: null,
    });
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
  private match(areas: readonly CapArea[]): Map<string, string[]> {
    const { db } = this.deps;
    const found = new Map<string, Set<string>>();
    const add = (communeId: string, deviceId: string) =>
      found.set(communeId, (found.get(communeId) ?? new Set()).add(deviceId));
    const positioned = db
      .prepare(
        `SELECT id, commune_id, latitude, longitude FROM devices
         WHERE revoked_at IS NULL AND latitude IS NOT NULL AND longitude IS NOT NULL ORDER BY id`,
      )
      .all() as { id: string; commune_id: string; latitude: number; longitude: number }[];
    for (const d of positioned) {
      const point = { lat: d.latitude, lon: d.longitude };
      if (areas.some((a) => areaContains(a, point))) add(d.commune_id, d.id);
    }
    const codes = areas.flatMap((a) => a.geocodes.flatMap((g) => [g.value, `${g.valueName}=${g.value}`]));
    if (codes.length) {
      const coded = db
        .prepare(
          `SELECT DISTINCT d.id, d.commune_id FROM zones z, json_each(z.geocodes) c
           JOIN device_zones dz ON dz.zone_id = z.id JOIN devices d ON d.id = dz.device_id
           WHERE d.revoked_at IS NULL AND c.value IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
        )
        .all(JSON.stringify(codes)) as { id: string; commune_id: string }[];
      for (const d of coded) add(d.commune_id, d.id);
      const wholeCommunes = db
        .prepare(
          `SELECT DISTINCT d.id, d.commune_id FROM communes k, json_each(k.geocodes) c
           JOIN devices d ON d.commune_id = k.id
           WHERE d.revoked_at IS NULL AND c.value IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
        )
        .all(JSON.stringify(codes)) as { id: string; commune_id: string }[];
      for (const d of wholeCommunes) add(d.commune_id, d.id);
    }
    if (areas.some((a) => a.polygons.length || a.circles.length)) {
      const drawn = db.prepare('SELECT id, area FROM zones WHERE area IS NOT NULL').all() as {
        id: string;
        area: string;
      }[];
      const reached = drawn
        .filter((z) => areas.some((a) => areaOverlaps(a, JSON.parse(z.area) as LatLon[])))
        .map((z) => z.id);
      if (reached.length) {
        const unplaced = db
          .prepare(
            `SELECT DISTINCT d.id, d.commune_id FROM device_zones dz JOIN devices d ON d.id = dz.device_id
             WHERE d.revoked_at IS NULL AND (d.latitude IS NULL OR d.longitude IS NULL)
               AND dz.zone_id IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
          )
          .all(JSON.stringify(reached)) as { id: string; commune_id: string }[];
        for (const d of unplaced) add(d.commune_id, d.id);
      }
    }
    return new Map([...found].map(([communeId, ids]) => [communeId, [...ids].sort()]));
  }

  /** Airs what is due: each commune's next repeat of its current alerts, until they expire. */
  tick(): Promise<void> {
    this.ticking ??= this.tickOnce().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { db, audit, logger } = this.deps;
    const due = db
      .prepare(
        `SELECT c.*, a.level, a.event, a.headline, a.description, a.instruction, a.expires_at, a.state, a.msg_type,
           r.event AS replaced_event, r.headline AS replaced_headline
         FROM alert_communes c JOIN alerts a ON a.id = c.alert_id LEFT JOIN alerts r ON r.id = a.replaces
         WHERE c.status = 'airing' AND c.next_at <= ? ORDER BY c.next_at`,
      )
      .all(this.now()) as (CommuneRow &
      AlertRow & { replaced_event: string | null; replaced_headline: string | null })[];
    for (const row of due) {
      const now = this.now();
      // A Cancel's own row in a commune is its all-clear, aired once.
      const allClear = row.msg_type === 'Cancel' && row.all_clear === 1;
      if (!allClear && (row.state !== 'active' || (row.expires_at !== null && row.expires_at <= now))) {
        db.prepare(
          `UPDATE alert_communes SET status = 'done', next_at = NULL, revision = revision + 1
           WHERE alert_id = ? AND commune_id = ?`,
        ).run(row.alert_id, row.commune_id);
        if (row.state === 'active') db.prepare(`UPDATE alerts SET state = 'expired' WHERE id = ?`).run(row.alert_id);
        void audit.record({
          actor: 'cap',
          action: 'alert.ended',
          target: row.alert_id,
          detail: { state: row.state },
          communeId: row.commune_id,
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
        // The gap counts from the end of this airing: a repeat never cuts the one before it off.
        const next = now + audio.durationMs + (gaps[Math.min(done, gaps.length - 1)] ?? gaps.at(-1) ?? 0);
        const ends = allClear || (row.expires_at !== null && next >= row.expires_at);
        db.prepare(
          `UPDATE alert_communes SET repeats_done = ?, next_at = ?, status = ?, revision = revision + 1
           WHERE alert_id = ? AND commune_id = ? AND status = 'airing'`,
        ).run(done, ends ? null : next, ends ? 'done' : 'airing', row.alert_id, row.commune_id);
        void audit.record({
          actor: 'cap',
          action: allClear ? 'alert.all-clear' : 'alert.aired',
          target: row.alert_id,
          detail: { occurrenceId, repeat: done, tone },
          communeId: row.commune_id,
        });
      } catch (err) {
        // Tried again at the next tick: an emergency is not dropped for a failed render.
        logger.error({ err, alertId: row.alert_id, communeId: row.commune_id }, 'alert could not be aired');
      }
    }
  }

  /** A leader airs an alert that waited for confirmation, or dismisses it; compare-and-set on `revision`. */
  decideFor(
    scope: Scope,
    alertId: string,
    communeId: string,
    action: 'confirm' | 'dismiss',
    revision: number,
    by: string,
  ): AlertCommuneView {
    const row = this.communeRow(scope, alertId, communeId);
    if (row.status !== 'waiting') {
      throw new AlertError(409, 'status', `nothing waits for a decision (it is ${row.status})`, this.communeView(row));
    }
    const changed = this.deps.db
      .prepare(
        `UPDATE alert_communes SET status = ?, next_at = ?, decided_by = ?, decided_at = ?, revision = revision + 1
         WHERE alert_id = ? AND commune_id = ? AND revision = ? AND status = 'waiting'`,
      )
      .run(
        action === 'confirm' ? 'airing' : 'dismissed',
        action === 'confirm' ? this.now() : null,
        by,
        this.now(),
        alertId,
        communeId,
        revision,
      ).changes;
    const now = this.communeRow(scope, alertId, communeId);
    if (!changed) throw new AlertError(409, 'revision', 'someone decided meanwhile', this.communeView(now));
    if (action === 'confirm') void this.tick();
    return this.communeView(now);
  }

  private communeRow(scope: Scope, alertId: string, communeId: string): CommuneRow {
    if (scope.communeId !== null && scope.communeId !== communeId) {
      throw new AlertError(404, 'id', `no alert ${alertId} for this commune`);
    }
    const row = this.deps.db
      .prepare('SELECT * FROM alert_communes WHERE alert_id = ? AND commune_id = ?')
      .get(alertId, communeId) as CommuneRow | undefined;
    if (!row) throw new AlertError(404, 'id', `no alert ${alertId} for commune ${communeId}`);
    return row;
  }

  private communeView(row: CommuneRow): AlertCommuneView {
    const name = this.deps.db.prepare('SELECT name FROM communes WHERE id = ?').get(row.commune_id) as
      { name: string } | undefined;
    const occurrences = this.deps.db
      .prepare('SELECT id, start_at FROM occurrences WHERE alert_id = ? AND commune_id = ? ORDER BY start_at')
      .all(row.alert_id, row.commune_id) as { id: string; start_at: number }[];
    return {
      communeId: row.commune_id,
      communeName: name?.name ?? row.commune_id,
      decision: row.decision,
      rule: row.rule_index,
      allClear: row.all_clear === 1,
      status: row.status,
      devices: (JSON.parse(row.device_ids) as string[]).length,
      repeatsDone: row.repeats_done,
      nextAt: row.next_at === null ? null : new Date(row.next_at).toISOString(),
      decidedBy: row.decided_by,
      revision: row.revision,
      occurrences: occurrences.map((o) => ({ id: o.id, startAt: new Date(o.start_at).toISOString() })),
    };
  }

  /**
   * The CAP files refused whole (malformed or hostile), newest first, from the audit log: shown
   * on the Alerts page so a broken feed is seen, not only logged.
   */
  refused(limit = 20): { at: string; source: string; path: string | null; reason: string }[] {
    const rows = this.deps.db
      .prepare(`SELECT at, target, detail FROM audit_log WHERE action = 'alert.invalid' ORDER BY id DESC LIMIT ?`)
      .all(limit) as { at: number; target: string | null; detail: string | null }[];
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
  list(scope: Scope, limit = 100): AlertView[] {
    const rows = this.deps.db
      .prepare(
        `SELECT * FROM alerts a WHERE (? IS NULL OR EXISTS
           (SELECT 1 FROM alert_communes c WHERE c.alert_id = a.id AND c.commune_id = ?))
         ORDER BY received_at DESC, id DESC LIMIT ?`,
      )
      .all(...inScope(scope), limit) as AlertRow[];
    const communesOf = this.deps.db.prepare(
      'SELECT * FROM alert_communes WHERE alert_id = ? AND (? IS NULL OR commune_id = ?) ORDER BY commune_id',
    );
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
      expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
      areas: JSON.parse(r.areas) as AlertView['areas'],
      receivedAt: new Date(r.received_at).toISOString(),
      replaces: r.replaces,
      communes: (communesOf.all(r.id, ...inScope(scope)) as CommuneRow[]).map((c) => this.communeView(c)),
    }));
  }
}
