import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import {
  alertRulesErrors,
  alertRuleToForm,
  categoryKey,
  decidingRule,
  fitsEveryAlert,
  newAlertRuleForm,
  parseRepeats,
  parseWords,
  readAlertRule,
  readAlertRules,
  readFeedUrl,
  readGeocodes,
  withoutRuleErrors,
  type AlertRuleForm,
} from '../src/pages/alert-rules';

const form = (change: Partial<AlertRuleForm> = {}): AlertRuleForm => ({ ...newAlertRuleForm(0), ...change });

describe('alert rule repeats', () => {
  it('reads minutes as people type them', () => {
    expect(parseRepeats('0, 5, 20')).toEqual({ ok: true, minutes: [0, 5, 20] });
    expect(parseRepeats(' 10 ')).toEqual({ ok: true, minutes: [10] });
    expect(parseRepeats('0;5 ,20')).toEqual({ ok: true, minutes: [0, 5, 20] });
    expect(parseRepeats('0 5 20')).toEqual({ ok: true, minutes: [0, 5, 20] });
  });

  it('leaves the server’s repeats when empty', () => {
    expect(parseRepeats('')).toEqual({ ok: true, minutes: null });
    expect(parseRepeats(' , ')).toEqual({ ok: true, minutes: null });
  });

  it('refuses what is not whole minutes within a day, or too many gaps', () => {
    for (const text of ['5 phút', '-5', '1.5', '2,5x', '1441']) {
      expect(parseRepeats(text)).toEqual({
        ok: false,
        error: { key: 'settings.alertRules.errors.repeats', values: { max: 1440 } },
      });
    }
    expect(parseRepeats('1440')).toEqual({ ok: true, minutes: [1440] });
    expect(parseRepeats('1,2,3,4,5,6,7,8,9,10')).toMatchObject({ ok: true });
    expect(parseRepeats('1,2,3,4,5,6,7,8,9,10,11')).toEqual({
      ok: false,
      error: { key: 'settings.alertRules.errors.repeatsCount', values: { max: 10 } },
    });
  });
});

describe('alert rule words', () => {
  it('splits on commas, trims, drops blanks and repeats', () => {
    expect(parseWords(' lũ , bão,, sạt  lở ; Lũ ')).toEqual(['lũ', 'bão', 'sạt lở']);
    expect(parseWords('')).toEqual([]);
  });
});

describe('a rule from the form', () => {
  it('keeps only what the rule says, CAP terms in CAP’s order', () => {
    const read = readAlertRule(
      form({
        events: 'lũ, bão',
        severities: ['Severe', 'Extreme'],
        categories: ['Geo', 'Met'],
        decision: 'auto',
        repeats: '0, 5, 20',
        allClear: true,
      }),
    );
    expect(read).toEqual({
      ok: true,
      rule: {
        decision: 'auto',
        events: ['lũ', 'bão'],
        categories: ['Met', 'Geo'],
        severities: ['Extreme', 'Severe'],
        repeatsMinutes: [0, 5, 20],
        allClear: true,
      },
    });
  });

  it('a rule with nothing set is the decision alone, and fits every alert', () => {
    expect(readAlertRule(form({ decision: 'show' }))).toEqual({ ok: true, rule: { decision: 'show' } });
    expect(fitsEveryAlert(form())).toBe(true);
    expect(fitsEveryAlert(form({ events: ' , ' }))).toBe(true);
    expect(fitsEveryAlert(form({ urgencies: ['Immediate'] }))).toBe(false);
  });

  it('loads a saved rule into the form and reads it back the same', () => {
    const rule = {
      events: ['lũ quét'],
      urgencies: ['Immediate' as const],
      certainties: ['Observed' as const, 'Likely' as const],
      decision: 'confirm' as const,
      repeatsMinutes: [0, 10],
    };
    const loaded = alertRuleToForm(rule, 4);
    expect(loaded).toMatchObject({ key: 4, events: 'lũ quét', repeats: '0, 10', allClear: false, categories: [] });
    expect(readAlertRule(loaded)).toEqual({ ok: true, rule });
  });

  it('says at which rule and field a problem is; none at all is null (the default rule)', () => {
    const read = readAlertRules([form(), form({ key: 1, repeats: 'năm', events: 'x'.repeat(101) })]);
    expect(read).toEqual({
      ok: false,
      errors: {
        'alertRules.1.events': { key: 'settings.alertRules.errors.eventLength', values: { max: 100 } },
        'alertRules.1.repeatsMinutes': { key: 'settings.alertRules.errors.repeats', values: { max: 1440 } },
      },
    });
    expect(readAlertRules([])).toEqual({ ok: true, rules: null });
    const many = Array.from({ length: 31 }, (_, key) => form({ key }));
    expect(readAlertRules(many)).toMatchObject({ ok: false, errors: { alertRules: { values: { max: 30 } } } });
  });
});

describe('the server’s refusal of the rules', () => {
  const refused = (field: string) => new ApiError(400, 'a word must not be blank', { field });

  it('goes to the rule and field it names', () => {
    expect(alertRulesErrors(refused('alertRules[0].events'), 2)).toEqual({
      'alertRules.0.events': { key: 'errors.invalidField', values: { message: 'a word must not be blank' } },
    });
    expect(Object.keys(alertRulesErrors(refused('/alertRules/1/repeatsMinutes/0'), 2))).toEqual([
      'alertRules.1.repeatsMinutes',
    ]);
    // A part the form has no field for: the rule as a whole.
    expect(Object.keys(alertRulesErrors(refused('/body/alertRules/1/severities/0'), 2))).toEqual(['alertRules.1']);
    // A rule the form no longer has, or the list: the list.
    expect(Object.keys(alertRulesErrors(refused('alertRules[5].events'), 2))).toEqual(['alertRules']);
  });

  it('anything else goes to the form; moved rules drop their messages', () => {
    expect(Object.keys(alertRulesErrors(new ApiError(500, 'boom'), 1))).toEqual(['form']);
    expect(
      withoutRuleErrors({ 'alertRules.0.events': { key: 'a' }, alertRules: { key: 'b' }, form: { key: 'c' } }),
    ).toEqual({ form: { key: 'c' } });
  });
});

describe('the Alerts page’s words for a rule', () => {
  it('numbers a commune rule from 1; null is the default rule', () => {
    expect(decidingRule(0)).toEqual({ key: 'alerts.rule.numbered', values: { n: 1 } });
    expect(decidingRule(2)).toEqual({ key: 'alerts.rule.numbered', values: { n: 3 } });
    expect(decidingRule(null)).toEqual({ key: 'alerts.rule.default' });
    expect(decidingRule(-1)).toEqual({ key: 'alerts.rule.default' });
  });

  it('names CAP categories, and leaves others as written', () => {
    expect(categoryKey('Met')).toBe('alerts.category.Met');
    expect(categoryKey('Weather')).toBeNull();
  });
});

describe('feed addresses and administrative codes', () => {
  it('takes an http(s) address, trimmed', () => {
    expect(readFeedUrl(' https://nchmf.gov.vn/cap/rss.xml ')).toEqual({
      ok: true,
      url: 'https://nchmf.gov.vn/cap/rss.xml',
    });
    for (const text of ['', 'nchmf.gov.vn/cap', 'ftp://x.vn/a.xml', 'https://', 'http://a b.vn']) {
      expect(readFeedUrl(text)).toEqual({ ok: false, error: { key: 'settings.feeds.errors.url' } });
    }
  });

  it('reads codes separated by commas, each once; empty clears them', () => {
    expect(readGeocodes(' 137, MA_DVHC=139 ,137 ')).toEqual({ ok: true, geocodes: ['137', 'MA_DVHC=139'] });
    expect(readGeocodes('')).toEqual({ ok: true, geocodes: [] });
    expect(readGeocodes('137, Hà Nội')).toEqual({
      ok: false,
      error: { key: 'geocodes.errors.invalid', values: { code: 'Hà' } },
    });
    const many = Array.from({ length: 21 }, (_, i) => String(i)).join(',');
    expect(readGeocodes(many)).toEqual({ ok: false, error: { key: 'geocodes.errors.tooMany', values: { max: 20 } } });
  });
});
