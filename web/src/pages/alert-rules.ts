/**
 * The pure parts of a commune's disaster alert rules (Settings, issue 20):
 * the rules as the leader types them (words, CAP terms to tick, a decision,
 * repeats as "0, 5, 20" minutes, an all-clear) read into the `alertRules` of
 * PUT /api/v1/settings, the server's refusal placed at the rule it names, the
 * administrative codes typed as "137, MA_DVHC=139", and the words the Alerts
 * page uses for the rule that decided. Tested in web/test/alert-rules.test.ts.
 */
import { ApiError, type AlertRule } from '../lib/api';
import type { Message } from '../lib/errors';
import { settingsErrors } from './settings';

/** CAP 1.2's terms, in the order the form offers them (server/src/alerts/cap.ts). */
export const CAP_CATEGORIES = [
  'Met',
  'Geo',
  'Safety',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'Security',
  'CBRNE',
  'Other',
] as const satisfies readonly NonNullable<AlertRule['categories']>[number][];
export const CAP_SEVERITIES = [
  'Extreme',
  'Severe',
  'Moderate',
  'Minor',
  'Unknown',
] as const satisfies readonly NonNullable<AlertRule['severities']>[number][];
export const CAP_URGENCIES = [
  'Immediate',
  'Expected',
  'Future',
  'Past',
  'Unknown',
] as const satisfies readonly NonNullable<AlertRule['urgencies']>[number][];
export const CAP_CERTAINTIES = [
  'Observed',
  'Likely',
  'Possible',
  'Unlikely',
  'Unknown',
] as const satisfies readonly NonNullable<AlertRule['certainties']>[number][];
export const ALERT_DECISIONS = ['auto', 'confirm', 'show'] as const satisfies readonly AlertRule['decision'][];

export type CapCategory = (typeof CAP_CATEGORIES)[number];
export type CapSeverity = (typeof CAP_SEVERITIES)[number];
export type CapUrgency = (typeof CAP_URGENCIES)[number];
export type CapCertainty = (typeof CAP_CERTAINTIES)[number];
export type AlertRuleDecision = (typeof ALERT_DECISIONS)[number];

/** The server's limits (server/src/alerts/rules.ts, server/src/http/language-fields.ts). */
export const ALERT_RULE_LIMITS = {
  rules: 30,
  events: 20,
  eventLength: 100,
  repeats: 10,
  repeatMinutes: 1440,
  geocodes: 20,
  geocodeLength: 64,
} as const;

/** One rule as the leader types it: `key` only keeps the rule's inputs apart while rules move. */
export interface AlertRuleForm {
  key: number;
  /** Words the alert's event contains, comma-separated ("lũ, bão"). */
  events: string;
  categories: CapCategory[];
  severities: CapSeverity[];
  urgencies: CapUrgency[];
  certainties: CapCertainty[];
  decision: AlertRuleDecision;
  /** Minutes, comma-separated ("0, 5, 20"); '' for the server's usual repeats. */
  repeats: string;
  allClear: boolean;
}

/** The CAP terms, in the form's order (a saved rule may list them in any). */
function ordered<T extends string>(all: readonly T[], chosen: readonly string[] | undefined): T[] {
  return all.filter((term) => chosen?.includes(term));
}

/** A saved rule, loaded into the form. */
export function alertRuleToForm(rule: AlertRule, key: number): AlertRuleForm {
  return {
    key,
    events: (rule.events ?? []).join(', '),
    categories: ordered(CAP_CATEGORIES, rule.categories),
    severities: ordered(CAP_SEVERITIES, rule.severities),
    urgencies: ordered(CAP_URGENCIES, rule.urgencies),
    certainties: ordered(CAP_CERTAINTIES, rule.certainties),
    decision: rule.decision,
    repeats: (rule.repeatsMinutes ?? []).join(', '),
    allClear: rule.allClear ?? false,
  };
}

/** A new rule: it asks a leader until the form says otherwise. */
export function newAlertRuleForm(key: number): AlertRuleForm {
  return {
    key,
    events: '',
    categories: [],
    severities: [],
    urgencies: [],
    certainties: [],
    decision: 'confirm',
    repeats: '',
    allClear: false,
  };
}

/** "lũ, bão ; sạt lở" → ["lũ", "bão", "sạt lở"]: trimmed, blanks dropped, each word once. */
export function parseWords(text: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const part of text.split(/[,;\n]/)) {
    const word = part.trim().replace(/\s+/g, ' ');
    const folded = word.toLocaleLowerCase('vi');
    if (!word || seen.has(folded)) continue;
    seen.add(folded);
    words.push(word);
  }
  return words;
}

/**
 * "0, 5, 20" → [0, 5, 20] (minutes before the first airing, then between
 * airings); '' → null (the server's usual repeats); anything else says what is wrong.
 */
export function parseRepeats(text: string): { ok: true; minutes: number[] | null } | { ok: false; error: Message } {
  const parts = text
    .split(/[,;\s]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) return { ok: true, minutes: null };
  const { repeats, repeatMinutes } = ALERT_RULE_LIMITS;
  if (parts.some((part) => !/^\d+$/.test(part) || Number(part) > repeatMinutes)) {
    return { ok: false, error: { key: 'settings.alertRules.errors.repeats', values: { max: repeatMinutes } } };
  }
  if (parts.length > repeats) {
    return { ok: false, error: { key: 'settings.alertRules.errors.repeatsCount', values: { max: repeats } } };
  }
  return { ok: true, minutes: parts.map(Number) };
}

/** The rule has no condition: it fits every Actual alert (the rules after it never decide). */
export function fitsEveryAlert(form: AlertRuleForm): boolean {
  return (
    parseWords(form.events).length === 0 &&
    form.categories.length === 0 &&
    form.severities.length === 0 &&
    form.urgencies.length === 0 &&
    form.certainties.length === 0
  );
}

/** One rule for PUT /settings: only what it says (an empty list is no condition, so it is left out). */
export function readAlertRule(
  form: AlertRuleForm,
): { ok: true; rule: AlertRule } | { ok: false; errors: Partial<Record<'events' | 'repeatsMinutes', Message>> } {
  const errors: Partial<Record<'events' | 'repeatsMinutes', Message>> = {};
  const events = parseWords(form.events);
  const { events: maxEvents, eventLength } = ALERT_RULE_LIMITS;
  if (events.length > maxEvents) {
    errors.events = { key: 'settings.alertRules.errors.eventsCount', values: { max: maxEvents } };
  } else if (events.some((word) => word.length > eventLength)) {
    errors.events = { key: 'settings.alertRules.errors.eventLength', values: { max: eventLength } };
  }
  const repeats = parseRepeats(form.repeats);
  if (!repeats.ok) errors.repeatsMinutes = repeats.error;
  if (errors.events || errors.repeatsMinutes || !repeats.ok) return { ok: false, errors };
  const rule: AlertRule = { decision: form.decision };
  if (events.length) rule.events = events;
  if (form.categories.length) rule.categories = ordered(CAP_CATEGORIES, form.categories);
  if (form.severities.length) rule.severities = ordered(CAP_SEVERITIES, form.severities);
  if (form.urgencies.length) rule.urgencies = ordered(CAP_URGENCIES, form.urgencies);
  if (form.certainties.length) rule.certainties = ordered(CAP_CERTAINTIES, form.certainties);
  if (repeats.minutes) rule.repeatsMinutes = repeats.minutes;
  if (form.allClear) rule.allClear = true;
  return { ok: true, rule };
}

/**
 * The rules for `PUT /settings {alertRules}` (none: `null`, the default rule
 * alone), or what is wrong, by field: "alertRules.{i}.events",
 * "alertRules.{i}.repeatsMinutes", "alertRules" (too many).
 */
export function readAlertRules(
  forms: readonly AlertRuleForm[],
): { ok: true; rules: AlertRule[] | null } | { ok: false; errors: Record<string, Message> } {
  const errors: Record<string, Message> = {};
  const rules: AlertRule[] = [];
  forms.forEach((form, i) => {
    const read = readAlertRule(form);
    if (read.ok) rules.push(read.rule);
    else for (const [field, message] of Object.entries(read.errors)) errors[`alertRules.${i}.${field}`] = message;
  });
  if (forms.length > ALERT_RULE_LIMITS.rules) {
    errors.alertRules = { key: 'settings.alertRules.errors.tooMany', values: { max: ALERT_RULE_LIMITS.rules } };
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, rules: rules.length ? rules : null };
}

/**
 * A refused save, at the rule it names: the server says "alertRules[0].events"
 * (or, from the schema, "/alertRules/0/severities/1"). A part of a rule the form
 * has no field for goes to the rule as a whole ("alertRules.{i}"); the rest to 'form'.
 */
export function alertRulesErrors(cause: unknown, count: number): Record<string, Message> {
  if (!(cause instanceof ApiError) || cause.status !== 400 || !cause.field) return settingsErrors(cause, []);
  const named = cause.field
    .replace(/^\/?(body)?[./]?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.');
  const match = /^alertRules\.(\d+)(?:\.(\w+))?/.exec(named);
  const index = match ? Number(match[1]) : -1;
  let field = 'alertRules';
  if (match && index < count) {
    field =
      match[2] === 'events' || match[2] === 'repeatsMinutes'
        ? `alertRules.${index}.${match[2]}`
        : `alertRules.${index}`;
  }
  return settingsErrors(new ApiError(400, cause.message, { field }), [field]);
}

/** The errors of the rules after a rule moved or went: messages are by position, so they are dropped. */
export function withoutRuleErrors(errors: Record<string, Message>): Record<string, Message> {
  return Object.fromEntries(Object.entries(errors).filter(([field]) => !field.startsWith('alertRules')));
}

/** The Alerts page's words for the rule that decided: "Quy tắc số 2" (index 1) or "Quy tắc mặc định". */
export function decidingRule(rule: number | null | undefined): Message {
  return typeof rule === 'number' && Number.isInteger(rule) && rule >= 0
    ? { key: 'alerts.rule.numbered', values: { n: rule + 1 } }
    : { key: 'alerts.rule.default' };
}

/** i18n key of a CAP category ("Khí tượng"); null for one CAP 1.2 does not name (shown as written). */
export function categoryKey(category: string): string | null {
  return (CAP_CATEGORIES as readonly string[]).includes(category) ? `alerts.category.${category}` : null;
}

// ---------------------------------------------------------------- feeds

/** The server's limit on a feed's address. */
export const MAX_FEED_URL = 2000;

/** A feed's address as typed: an http(s) URL, trimmed; anything else says what is wrong. */
export function readFeedUrl(text: string): { ok: true; url: string } | { ok: false; error: Message } {
  const url = text.trim();
  if (url.length > MAX_FEED_URL) {
    return { ok: false, error: { key: 'errors.tooLong', values: { count: url.length, max: MAX_FEED_URL } } };
  }
  let parsed: URL | null = null;
  try {
    parsed = /^https?:\/\/\S+$/i.test(url) ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || !parsed.hostname) return { ok: false, error: { key: 'settings.feeds.errors.url' } };
  return { ok: true, url };
}

// ---------------------------------------------------------------- administrative codes

/**
 * "137, MA_DVHC=139" → ["137", "MA_DVHC=139"]: the codes an alert's
 * <geocode> reaches loudspeakers by (a zone's or a whole commune's), each once;
 * '' clears them. A code is letters, digits and _ . : = - only.
 */
export function readGeocodes(text: string): { ok: true; geocodes: string[] } | { ok: false; error: Message } {
  const codes = [
    ...new Set(
      text
        .split(/[,;\s]+/)
        .map((code) => code.trim())
        .filter(Boolean),
    ),
  ];
  const bad = codes.find((code) => !/^[A-Za-z0-9_.:=-]+$/.test(code) || code.length > ALERT_RULE_LIMITS.geocodeLength);
  if (bad !== undefined) return { ok: false, error: { key: 'geocodes.errors.invalid', values: { code: bad } } };
  if (codes.length > ALERT_RULE_LIMITS.geocodes) {
    return { ok: false, error: { key: 'geocodes.errors.tooMany', values: { max: ALERT_RULE_LIMITS.geocodes } } };
  }
  return { ok: true, geocodes: codes };
}
