import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import {
  breaksNote,
  isSinglePlay,
  mayOverrideRules,
  readClock,
  readOverrideReason,
  readRules,
  ruleBreaksOfRefusal,
  ruleBreakText,
  rulesErrors,
  rulesToForm,
  shownBreaks,
  withOverride,
  type RuleBreak,
  type RulesForm,
} from '../src/pages/rules';

const form = (change: Partial<RulesForm> = {}): RulesForm => ({
  quietOn: true,
  quietStart: '21:30',
  quietEnd: '05:30',
  maxSessionMinutes: '',
  maxSessionsPerDay: '',
  volumeByTime: [],
  ...change,
});

const QUIET =
  'giờ yên tĩnh 21:30–05:30: buổi phát lúc 03:15 16/12/2026 rơi vào giờ này / ' +
  'quiet hours 21:30–05:30: the play at 03:15 16/12/2026 falls in them';
const broken = (message = QUIET, rule: RuleBreak['rule'] = 'quietHours'): RuleBreak => ({
  rule,
  startAt: '2026-12-15T20:15:00.000Z',
  message,
});

describe('the rules form', () => {
  it('loads the rules in force, offering the usual quiet hours when there are none', () => {
    expect(
      rulesToForm({
        quietHours: { start: '22:00', end: '05:00' },
        maxSessionMinutes: 30,
        maxSessionsPerDay: null,
        volumeByTime: [{ from: '05:30', to: '06:30', volume: 70 }],
      }),
    ).toEqual({
      quietOn: true,
      quietStart: '22:00',
      quietEnd: '05:00',
      maxSessionMinutes: '30',
      maxSessionsPerDay: '',
      volumeByTime: [{ key: 0, from: '05:30', to: '06:30', volume: '70' }],
    });
    const off = rulesToForm({ quietHours: null, maxSessionMinutes: null, maxSessionsPerDay: 4, volumeByTime: [] });
    expect(off).toMatchObject({ quietOn: false, quietStart: '21:30', quietEnd: '05:30', maxSessionsPerDay: '4' });
  });

  it('reads times as people type them, 24 h', () => {
    expect([readClock('21:30'), readClock(' 5:30 '), readClock('21h30'), readClock('00:00')]).toEqual([
      '21:30',
      '05:30',
      '21:30',
      '00:00',
    ]);
    expect([readClock(''), readClock('24:00'), readClock('21:60'), readClock('2130'), readClock('9:5')]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('builds the whole rules for PUT /settings, empty limits meaning none', () => {
    const read = readRules(
      form({
        quietStart: '22:00',
        maxSessionMinutes: ' 45 ',
        volumeByTime: [{ key: 3, from: '5:30', to: '06:30', volume: '70' }],
      }),
    );
    expect(read).toEqual({
      ok: true,
      rules: {
        quietHours: { start: '22:00', end: '05:30' },
        maxSessionMinutes: 45,
        maxSessionsPerDay: null,
        volumeByTime: [{ from: '05:30', to: '06:30', volume: 70 }],
      },
    });
  });

  it('sends no quiet hours when they are off, whatever the times say', () => {
    const read = readRules(form({ quietOn: false, quietStart: 'x', quietEnd: '' }));
    expect(read.ok && read.rules.quietHours).toBeNull();
  });

  it('says what is wrong field by field, before anything is sent', () => {
    const read = readRules(
      form({
        quietStart: '25:00',
        maxSessionMinutes: '0',
        maxSessionsPerDay: '2,5',
        volumeByTime: [
          { key: 0, from: '05:30', to: '06:30', volume: '70' },
          { key: 1, from: '12:00', to: '12:00', volume: '101' },
          { key: 2, from: '', to: '13:00', volume: '' },
        ],
      }),
    );
    expect(read.ok).toBe(false);
    const errors = read.ok ? {} : read.errors;
    expect(Object.keys(errors).sort()).toEqual([
      'rules.maxSessionMinutes',
      'rules.maxSessionsPerDay',
      'rules.quietHours.start',
      'rules.volumeByTime.1.to',
      'rules.volumeByTime.1.volume',
      'rules.volumeByTime.2.from',
      'rules.volumeByTime.2.volume',
    ]);
    expect(errors['rules.volumeByTime.1.to']).toEqual({ key: 'settings.rules.errors.sameTimes' });
    expect(errors['rules.maxSessionMinutes']).toEqual({
      key: 'settings.rules.errors.minutes',
      values: { min: 1, max: 600 },
    });
    expect(errors['rules.volumeByTime.1.volume']).toEqual({
      key: 'settings.rules.errors.volume',
      values: { min: 0, max: 100 },
    });
  });

  it('refuses quiet hours that start when they end, and limits over the server’s', () => {
    const same = readRules(form({ quietStart: '21:30', quietEnd: '21:30' }));
    expect(!same.ok && same.errors).toEqual({ 'rules.quietHours.end': { key: 'settings.rules.errors.sameTimes' } });
    const big = readRules(form({ maxSessionMinutes: '601', maxSessionsPerDay: '101' }));
    expect(!big.ok && Object.keys(big.errors).sort()).toEqual(['rules.maxSessionMinutes', 'rules.maxSessionsPerDay']);
    expect(readRules(form({ maxSessionMinutes: '600', maxSessionsPerDay: '100' })).ok).toBe(true);
    const rows = Array.from({ length: 9 }, (_, key) => ({ key, from: '05:00', to: '06:00', volume: '50' }));
    const many = readRules(form({ volumeByTime: rows }));
    expect(!many.ok && Object.keys(many.errors)).toEqual(['rules.volumeByTime']);
  });

  it('puts the server’s refusal at the field it names', () => {
    const refused = (field: string) => new ApiError(400, `${field}: must differ`, { field });
    expect(Object.keys(rulesErrors(refused('rules.quietHours'), 0))).toEqual(['rules.quietHours.end']);
    expect(Object.keys(rulesErrors(refused('rules.volumeByTime[1]'), 2))).toEqual(['rules.volumeByTime.1.to']);
    expect(Object.keys(rulesErrors(refused('rules.volumeByTime.0.volume'), 1))).toEqual([
      'rules.volumeByTime.0.volume',
    ]);
    expect(Object.keys(rulesErrors(refused('/rules/maxSessionMinutes'), 0))).toEqual(['rules.maxSessionMinutes']);
    expect(Object.keys(rulesErrors(refused('rules'), 0))).toEqual(['form']);
    expect(rulesErrors(new ApiError(403, 'no'), 0)).toEqual({
      form: { key: 'errors.forbidden', values: { message: 'no' } },
    });
  });
});

describe('rule breaks', () => {
  it('shows the console’s language’s half of the server’s sentence', () => {
    expect(ruleBreakText(QUIET, 'vi')).toBe('giờ yên tĩnh 21:30–05:30: buổi phát lúc 03:15 16/12/2026 rơi vào giờ này');
    expect(ruleBreakText(QUIET, 'en')).toBe('quiet hours 21:30–05:30: the play at 03:15 16/12/2026 falls in them');
    expect(ruleBreakText('only one language', 'en')).toBe('only one language');
  });

  it('notes a week entry’s breaks in the console’s language, each once', () => {
    const long = 'buổi phát dài 45 phút, quá 30 phút / the play lasts 45 minutes, over 30';
    const breaks = [{ message: QUIET }, { message: long }, { message: QUIET }];
    expect(breaksNote(breaks, 'vi')).toBe(
      'giờ yên tĩnh 21:30–05:30: buổi phát lúc 03:15 16/12/2026 rơi vào giờ này; buổi phát dài 45 phút, quá 30 phút',
    );
    expect(breaksNote(breaks, 'en')).toBe(
      'quiet hours 21:30–05:30: the play at 03:15 16/12/2026 falls in them; the play lasts 45 minutes, over 30',
    );
    expect(breaksNote([], 'vi')).toBe('');
  });

  it('lists a few and counts the rest', () => {
    const five = Array.from({ length: 5 }, () => broken());
    expect(shownBreaks(five).shown).toHaveLength(3);
    expect(shownBreaks(five).more).toBe(2);
    expect(shownBreaks(five.slice(0, 2))).toEqual({ shown: five.slice(0, 2), more: 0 });
  });

  it('finds the breaks of a refusal with field "rules", and only there', () => {
    const rules = new ApiError(409, `${QUIET}; choose another time`, {
      field: 'rules',
      detail: { ruleBreaks: [broken(), broken('tối đa 2 buổi / at most 2', 'maxSessionsPerDay')] },
    });
    expect(ruleBreaksOfRefusal(rules)).toEqual({
      breaks: [broken(), broken('tối đa 2 buổi / at most 2', 'maxSessionsPerDay')],
      forbidden: false,
    });
    const notLeader = new ApiError(403, QUIET, { field: 'rules', detail: { ruleBreaks: [broken()] } });
    expect(ruleBreaksOfRefusal(notLeader)?.forbidden).toBe(true);
    // Without its list, the refusal's own sentence still says it.
    expect(ruleBreaksOfRefusal(new ApiError(409, QUIET, { field: 'rules' }))?.breaks.map((b) => b.message)).toEqual([
      QUIET,
    ]);
    const overlap = new ApiError(409, 'overlaps', { detail: { conflicts: [{}], total: 1 } });
    expect(ruleBreaksOfRefusal(overlap)).toBeNull();
    expect(ruleBreaksOfRefusal(new ApiError(400, 'x', { field: 'rules' }))).toBeNull();
    expect(ruleBreaksOfRefusal(new Error('x'))).toBeNull();
  });
});

describe('a leader’s override', () => {
  it('is a leader’s: approvers and admins, in a commune or the province', () => {
    expect(mayOverrideRules({ role: 'approver', communeId: 'xa-a' })).toBe(true);
    expect(mayOverrideRules({ role: 'admin', communeId: null })).toBe(true);
    expect(mayOverrideRules({ role: 'editor', communeId: 'xa-a' })).toBe(false);
    expect(mayOverrideRules(null)).toBe(false);
  });

  it('lets through only a single play', () => {
    expect(isSinglePlay({ kind: 'once', times: ['03:15'] })).toBe(true);
    expect(isSinglePlay({ kind: 'once', times: ['03:15', '22:00'] })).toBe(false);
    expect(isSinglePlay({ kind: 'daily', times: ['03:15'] })).toBe(false);
    expect(isSinglePlay({ kind: 'once', times: [] })).toBe(false);
  });

  it('needs a written reason of 5 to 500 characters', () => {
    expect(readOverrideReason('  Bão số 3 sắp vào  ')).toEqual({ ok: true, reason: 'Bão số 3 sắp vào' });
    expect(readOverrideReason('  ok  ')).toEqual({
      ok: false,
      error: { key: 'rules.errors.reasonShort', values: { min: 5 } },
    });
    expect(readOverrideReason('x'.repeat(500)).ok).toBe(true);
    expect(readOverrideReason('x'.repeat(501))).toEqual({
      ok: false,
      error: { key: 'errors.tooLong', values: { count: 501, max: 500 } },
    });
  });

  it('resends the same request with the reason, and nothing more without one', () => {
    const body = { text: 'Họp thôn', zones: 'all' as const, priority: 'normal' as const };
    expect(withOverride(body, 'Bão số 3 sắp vào')).toEqual({ ...body, overrideRules: { reason: 'Bão số 3 sắp vào' } });
    expect(withOverride(body, null)).toEqual(body);
    expect(withOverride(body, null)).not.toBe(body);
  });
});
