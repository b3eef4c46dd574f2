/**
 * The pure parts of the commune's broadcast rules in the console (issue 20):
 * the settings form (quiet hours, limits, volume ceilings by time) read into
 * the `rules` of PUT /api/v1/settings, and the rule breaks a schedule or a
 * broadcast meets (the preview's `ruleBreaks`, a 409 with field "rules"),
 * with a leader's override of one single play. Tested in web/test/rules.test.ts.
 */
import { ApiError, type ConflictReport, type SettingsPatch, type SettingsView } from '../lib/api';
import type { Message } from '../lib/errors';
import { allows, type Who } from '../lib/permissions';
import { settingsErrors } from './settings';

export type RuleBreak = ConflictReport['ruleBreaks'][number];
export type RulesView = SettingsView['rules'];
export type RulesPatch = Exclude<NonNullable<SettingsPatch['rules']>, null>;

/** The server's limits (server/src/settings/settings.ts, the `rules` of the PUT body). */
export const RULE_LIMITS = {
  maxSessionMinutes: { min: 1, max: 600 },
  maxSessionsPerDay: { min: 1, max: 100 },
  volume: { min: 0, max: 100 },
  volumeRows: 8,
  reason: { min: 5, max: 500 },
} as const;

/** The quiet hours offered when they are switched on and none were set (the install's usual default). */
export const USUAL_QUIET_HOURS = { start: '21:30', end: '05:30' } as const;

/** One volume ceiling as typed: `key` only keeps the row's inputs apart while rows come and go. */
export interface VolumeRow {
  key: number;
  from: string;
  to: string;
  volume: string;
}

/** The rules as the officer types them. */
export interface RulesForm {
  quietOn: boolean;
  quietStart: string;
  quietEnd: string;
  /** '' for no limit. */
  maxSessionMinutes: string;
  /** '' for no limit. */
  maxSessionsPerDay: string;
  volumeByTime: VolumeRow[];
}

/** The rules in force, loaded into the form. */
export function rulesToForm(rules: Pick<RulesView, keyof RulesPatch>): RulesForm {
  return {
    quietOn: rules.quietHours !== null,
    quietStart: rules.quietHours?.start ?? USUAL_QUIET_HOURS.start,
    quietEnd: rules.quietHours?.end ?? USUAL_QUIET_HOURS.end,
    maxSessionMinutes: rules.maxSessionMinutes === null ? '' : String(rules.maxSessionMinutes),
    maxSessionsPerDay: rules.maxSessionsPerDay === null ? '' : String(rules.maxSessionsPerDay),
    volumeByTime: rules.volumeByTime.map((v, key) => ({ key, from: v.from, to: v.to, volume: String(v.volume) })),
  };
}

/** "21:30", "9:30", "21h30" → "HH:MM" (24 h); anything else → null. */
export function readClock(text: string): string | null {
  const match = /^(\d{1,2})[:hH.](\d{2})$/.exec(text.trim());
  if (!match) return null;
  const h = Number(match[1]);
  const m = Number(match[2]);
  if (h > 23 || m > 59) return null;
  return `${String(h).padStart(2, '0')}:${match[2]}`;
}

/** A whole number between the limits as typed ('' → null: no limit); undefined when it is not one. */
function readLimit(text: string, limits: { min: number; max: number }): number | null | undefined {
  const clean = text.trim();
  if (clean === '') return null;
  if (!/^\d+$/.test(clean)) return undefined;
  const value = Number(clean);
  return value >= limits.min && value <= limits.max ? value : undefined;
}

/**
 * The form's rules for `PUT /settings {rules}`, or what is wrong, by field:
 * "rules.quietHours.start", "rules.quietHours.end", "rules.maxSessionMinutes",
 * "rules.maxSessionsPerDay", "rules.volumeByTime.{i}.from|to|volume".
 */
export function readRules(
  form: RulesForm,
): { ok: true; rules: Required<RulesPatch> } | { ok: false; errors: Record<string, Message> } {
  const errors: Record<string, Message> = {};
  let quietHours: RulesPatch['quietHours'] = null;
  if (form.quietOn) {
    const start = readClock(form.quietStart);
    const end = readClock(form.quietEnd);
    if (!start) errors['rules.quietHours.start'] = { key: 'settings.rules.errors.time' };
    if (!end) errors['rules.quietHours.end'] = { key: 'settings.rules.errors.time' };
    if (start && end && start === end) errors['rules.quietHours.end'] = { key: 'settings.rules.errors.sameTimes' };
    if (start && end) quietHours = { start, end };
  }
  const maxSessionMinutes = readLimit(form.maxSessionMinutes, RULE_LIMITS.maxSessionMinutes);
  if (maxSessionMinutes === undefined) {
    errors['rules.maxSessionMinutes'] = { key: 'settings.rules.errors.minutes', values: RULE_LIMITS.maxSessionMinutes };
  }
  const maxSessionsPerDay = readLimit(form.maxSessionsPerDay, RULE_LIMITS.maxSessionsPerDay);
  if (maxSessionsPerDay === undefined) {
    errors['rules.maxSessionsPerDay'] = {
      key: 'settings.rules.errors.sessions',
      values: RULE_LIMITS.maxSessionsPerDay,
    };
  }
  const volumeByTime: RulesPatch['volumeByTime'] = [];
  form.volumeByTime.forEach((row, i) => {
    const at = `rules.volumeByTime.${i}`;
    const from = readClock(row.from);
    const to = readClock(row.to);
    const volume = readLimit(row.volume, RULE_LIMITS.volume);
    if (!from) errors[`${at}.from`] = { key: 'settings.rules.errors.time' };
    if (!to) errors[`${at}.to`] = { key: 'settings.rules.errors.time' };
    if (from && to && from === to) errors[`${at}.to`] = { key: 'settings.rules.errors.sameTimes' };
    if (volume === undefined || volume === null) {
      errors[`${at}.volume`] = { key: 'settings.rules.errors.volume', values: RULE_LIMITS.volume };
    }
    if (from && to && typeof volume === 'number') volumeByTime.push({ from, to, volume });
  });
  if (form.volumeByTime.length > RULE_LIMITS.volumeRows) {
    errors['rules.volumeByTime'] = { key: 'settings.rules.volumeMax', values: { max: RULE_LIMITS.volumeRows } };
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    rules: {
      quietHours,
      maxSessionMinutes: maxSessionMinutes ?? null,
      maxSessionsPerDay: maxSessionsPerDay ?? null,
      volumeByTime,
    },
  };
}

/** The fields of the rules form the server's `field` may name, the most precise first. */
export function rulesFields(rows: number): string[] {
  const perRow = Array.from({ length: rows }, (_, i) => [
    `rules.volumeByTime.${i}.from`,
    `rules.volumeByTime.${i}.to`,
    `rules.volumeByTime.${i}.volume`,
  ]).flat();
  return [
    'rules.quietHours.start',
    'rules.quietHours.end',
    'rules.maxSessionMinutes',
    'rules.maxSessionsPerDay',
    ...perRow,
    'rules.volumeByTime',
  ];
}

/**
 * A refused rules save, at its field: the server names "rules.quietHours",
 * "rules.volumeByTime[1]" or, from the schema, "rules.volumeByTime.1.volume".
 * The quiet hours as a whole go under their end, a row as a whole under its "to".
 */
export function rulesErrors(cause: unknown, rows: number): Record<string, Message> {
  if (!(cause instanceof ApiError) || cause.status !== 400 || !cause.field) return settingsErrors(cause, []);
  const named = cause.field
    .replace(/^\/?(body)?[./]?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.');
  const field =
    named === 'rules.quietHours'
      ? 'rules.quietHours.end'
      : /^rules\.volumeByTime\.\d+$/.test(named)
        ? `${named}.to`
        : named;
  return settingsErrors(new ApiError(400, cause.message, { field }), rulesFields(rows));
}

// ---------------------------------------------------------------- rule breaks

/**
 * The server's sentence is "Vietnamese / English": the console's language's
 * half (Vietnamese for any other language).
 */
export function ruleBreakText(message: string, locale: string): string {
  const at = message.indexOf(' / ');
  if (at < 0) return message;
  return locale.startsWith('en') ? message.slice(at + 3).trim() : message.slice(0, at).trim();
}

/** The week view's note of a play's rule breaks: each in the console's language, once, "; " between. */
export function breaksNote(breaks: readonly { message: string }[], locale: string): string {
  return [...new Set(breaks.map((b) => ruleBreakText(b.message, locale)).filter(Boolean))].join('; ');
}

/** The first `max` breaks to list, and how many more there are ("+N"). */
export function shownBreaks(breaks: readonly RuleBreak[], max = 3): { shown: RuleBreak[]; more: number } {
  return { shown: breaks.slice(0, max), more: Math.max(0, breaks.length - max) };
}

/**
 * The rule breaks a refused save or broadcast carries (409, or 403 for an
 * override by someone who may not, with field "rules"), or null when the
 * refusal was for another reason.
 */
export function ruleBreaksOfRefusal(cause: unknown): { breaks: RuleBreak[]; forbidden: boolean } | null {
  if (!(cause instanceof ApiError) || cause.field !== 'rules') return null;
  if (cause.status !== 409 && cause.status !== 403) return null;
  const list = cause.detail.ruleBreaks;
  const breaks = Array.isArray(list) ? (list as RuleBreak[]).filter((b) => b && typeof b.message === 'string') : [];
  // A refusal that lost its list still names the first break in its message.
  return {
    breaks: breaks.length ? breaks : [{ rule: 'quietHours', startAt: '', message: cause.message }],
    forbidden: cause.status === 403,
  };
}

/** Only a leader (approver or admin, as `schedules:approve`) may let one play through the rules. */
export function mayOverrideRules(user: Who | null | undefined): boolean {
  return allows(user, 'schedules:approve');
}

/**
 * Whether a schedule's rule is a single play, the only kind an override lets
 * through: one date, one time (a repeating schedule must change its times).
 */
export function isSinglePlay(rule: { kind: string; times: readonly string[] }): boolean {
  return rule.kind === 'once' && new Set(rule.times).size === 1;
}

/** The leader's written reason, trimmed, or what is wrong with it. */
export function readOverrideReason(text: string): { ok: true; reason: string } | { ok: false; error: Message } {
  const reason = text.trim();
  if (reason.length < RULE_LIMITS.reason.min) {
    return { ok: false, error: { key: 'rules.errors.reasonShort', values: { min: RULE_LIMITS.reason.min } } };
  }
  if (reason.length > RULE_LIMITS.reason.max) {
    return {
      ok: false,
      error: { key: 'errors.tooLong', values: { count: reason.length, max: RULE_LIMITS.reason.max } },
    };
  }
  return { ok: true, reason };
}

/** A broadcast or schedule request that lets this one play through the rules, with the reason (audited). */
export function withOverride<T extends object>(
  request: T,
  reason: string | null,
): T & { overrideRules?: { reason: string } } {
  if (reason === null) return { ...request };
  return { ...request, overrideRules: { reason } };
}
