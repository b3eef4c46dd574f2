import { describe, expect, it } from 'vitest';
import type { Delivery, Device, Occurrence } from '../src/lib/api';
import { describeApiError, fieldOf } from '../src/lib/errors';
import { ApiError } from '../src/lib/api';
import { NAV, visibleNav } from '../src/lib/nav';
import { allows, type Who } from '../src/lib/permissions';
import { deliveryMatrix } from '../src/pages/deliveries';
import { ruleIsPast } from '../src/pages/scheduling';
import { deviceCounts } from '../src/pages/dashboard';

const d = (deviceId: string, stage: Delivery['stage'], at: string | null = null): Delivery => ({
  deviceId,
  stage,
  at,
  detail: stage === 'failed' ? 'hash mismatch' : null,
});
const occ = (id: string, deliveries: Delivery[]): Occurrence => ({
  id,
  communeId: 'default',
  title: id,
  priority: 'normal',
  startAt: '2025-11-23T10:00:00Z',
  durationMs: 1000,
  sha256: 'x',
  engine: null,
  stoppedAt: null,
  stoppedBy: null,
  deliveries,
});
const device = (id: string, online: boolean, revoked = false): Device => ({
  id,
  name: id,
  communeId: 'default',
  zones: [],
  online,
  lastSeen: null,
  agentVersion: null,
  revoked,
  clockOffsetMs: null,
  clockWarning: false,
  simulated: false,
  location: null,
  telemetry: null,
});

/** A user of the commune `xa-a`, or (province) of the whole province. */
const commune = (role: Who['role']): Who => ({ role, communeId: 'xa-a' });
const province = (role: Who['role']): Who => ({ role, communeId: null });

describe('navigation', () => {
  const built = NAV.filter((item) => !item.placeholder).map((item) => item.requires);

  it('shows an admin every built page and hides slots whose API does not exist', () => {
    const paths = visibleNav(commune('admin'), built).map((item) => item.path);
    expect(paths).toEqual([
      '/',
      '/devices',
      '/broadcast',
      '/live',
      '/deliveries',
      '/alerts',
      '/bulletins',
      '/content',
      '/programmes',
      '/schedules',
      '/approvals',
      '/reports',
      '/settings',
      '/users',
      '/audit',
    ]);
  });

  it('shows a slot once the server offers its API', () => {
    const schedules = NAV.find((item) => item.path === '/schedules')!;
    const operations = [...built, schedules.requires];
    expect(visibleNav(commune('editor'), operations).map((item) => item.path)).toContain('/schedules');
  });

  it('follows the role', () => {
    expect(visibleNav(commune('viewer'), built).map((item) => item.path)).toEqual([
      '/',
      '/devices',
      '/deliveries',
      '/alerts',
      '/bulletins',
      '/programmes',
      '/schedules',
      '/reports',
    ]);
    expect(visibleNav(commune('approver'), built).map((item) => item.path)).toContain('/audit');
    expect(visibleNav(commune('technician'), built).map((item) => item.path)).not.toContain('/broadcast');
    expect(visibleNav(commune('editor'), built).map((item) => item.path)).not.toContain('/live');
    expect(visibleNav(undefined)).toEqual([]);
  });

  it('gives the province admin the communes page and the source bulletins, a commune its inbox', () => {
    const provinceAdmin = visibleNav(province('admin'), built);
    expect(provinceAdmin.map((item) => item.path)).toContain('/communes');
    expect(provinceAdmin.find((item) => item.path === '/bulletins')?.label).toBe('nav.bulletins');
    const communeAdmin = visibleNav(commune('admin'), built);
    expect(communeAdmin.map((item) => item.path)).not.toContain('/communes');
    expect(communeAdmin.find((item) => item.path === '/bulletins')?.label).toBe('nav.inbox');
    // One menu entry per page, whoever looks.
    for (const who of [province('viewer'), commune('viewer'), province('admin'), commune('technician')]) {
      const paths = visibleNav(who, built).map((item) => item.path);
      expect(new Set(paths).size).toBe(paths.length);
    }
  });
});

describe('permissions', () => {
  it('never gives a commune user a province-only permission, whatever the role', () => {
    for (const permission of ['communes:manage', 'bulletins:write', 'bulletins:approve'] as const) {
      expect(allows(commune('admin'), permission)).toBe(false);
    }
    expect(allows(province('admin'), 'communes:manage')).toBe(true);
    expect(allows(province('editor'), 'bulletins:write')).toBe(true);
    expect(allows(province('editor'), 'bulletins:approve')).toBe(false);
    expect(allows(province('approver'), 'bulletins:approve')).toBe(true);
  });

  it('lets commune officers handle their inbox, and no one without a session anything', () => {
    expect(allows(commune('editor'), 'bulletins:handle')).toBe(true);
    expect(allows(commune('technician'), 'bulletins:handle')).toBe(false);
    expect(allows(commune('viewer'), 'bulletins:read')).toBe(true);
    expect(allows(null, 'bulletins:read')).toBe(false);
  });
});

describe('delivery matrix', () => {
  const occurrences = [
    occ('o1', [d('b', 'finished'), d('a', 'failed')]),
    occ('o2', [d('b', 'started'), d('c', 'ready')]),
  ];
  const START = Date.parse('2025-11-23T10:00:00Z');
  const soon = START + 10_000; // within the minute of grace: nothing is missed yet

  it('has a row per device, a column per occurrence, failures first', () => {
    const matrix = deliveryMatrix(occurrences, { now: soon });
    expect(matrix.columns.map((o) => o.id)).toEqual(['o1', 'o2']);
    expect(matrix.rows.map((r) => r.deviceId)).toEqual(['a', 'b', 'c']);
    expect(matrix.rows[1]!.cells.map((c) => c?.stage ?? null)).toEqual(['finished', 'started']);
    expect(matrix.rows[2]!.cells.map((c) => c?.stage ?? null)).toEqual([null, 'ready']);
  });

  it('narrows the rows to a search (name or id, diacritics forgiven) and to a zone', () => {
    const names: Record<string, string> = { a: 'Loa Chợ Đông', b: 'Loa Trường học', c: 'Loa Đình làng' };
    const zones: Record<string, string[]> = { a: ['thon-1'], b: ['thon-2'], c: ['thon-1', 'thon-2'] };
    const rows = (filter: { query?: string; zone?: string; onlyFailed?: boolean }) =>
      deliveryMatrix(occurrences, {
        ...filter,
        nameOf: (id) => names[id]!,
        zonesOf: (id) => zones[id]!,
        now: soon,
      }).rows.map((r) => r.deviceId);
    expect(rows({ query: 'cho dong' })).toEqual(['a']);
    // Failures first, then by name in the alphabet's order (Đình before Trường).
    expect(rows({ query: 'LOA' })).toEqual(['a', 'c', 'b']);
    expect(rows({ query: 'dinh lang truong' })).toEqual([]);
    expect(rows({ query: 'b' })).toEqual(['b']);
    expect(rows({ zone: 'thon-2' })).toEqual(['c', 'b']);
    expect(rows({ zone: 'thon-2', query: 'đình' })).toEqual(['c']);
    expect(rows({ zone: 'thon-3' })).toEqual([]);
    expect(rows({ zone: 'thon-1', onlyFailed: true })).toEqual(['a']);
  });

  it('keeps only failed rows and the occurrences with failures when asked', () => {
    const matrix = deliveryMatrix(occurrences, { onlyFailed: true, now: soon });
    expect(matrix.columns.map((o) => o.id)).toEqual(['o1']);
    expect(matrix.rows.map((r) => r.deviceId)).toEqual(['a']);
  });

  it('flags a delivery not started a minute after its time as missed, an error', () => {
    const later = START + 5 * 60_000;
    const matrix = deliveryMatrix(occurrences, { now: later });
    const c = matrix.rows.find((r) => r.deviceId === 'c')!;
    expect(c.failed).toBe(true);
    expect(c.cells[1]).toMatchObject({ stage: 'ready', state: 'missed', problem: true });
    const failedOnly = deliveryMatrix(occurrences, { onlyFailed: true, now: later });
    expect(failedOnly.columns.map((o) => o.id)).toEqual(['o1', 'o2']);
    expect(failedOnly.rows.map((r) => r.deviceId)).toEqual(['a', 'c']);
  });

  it('shows what had not finished when the broadcast was stopped as stopped, not a problem', () => {
    const stopped = {
      ...occ('o3', [d('a', 'finished'), d('b', 'preempted'), d('c', 'pending')]),
      stoppedAt: '2025-11-23T10:00:05Z',
    };
    const matrix = deliveryMatrix([stopped], { now: START + 3600_000 });
    const states = Object.fromEntries(matrix.rows.map((r) => [r.deviceId, r.cells[0]!.state]));
    expect(states).toEqual({ a: 'finished', b: 'stopped', c: 'stopped' });
    expect(matrix.rows.every((r) => !r.failed)).toBe(true);
  });
});

describe('dashboard numbers', () => {
  it('counts online, offline and playing, leaving revoked devices out', () => {
    const devices = [device('a', true), device('b', true), device('c', false), device('x', false, true)];
    const tracked = [
      { id: 'o', status: 'ready' as const, occurrence: occ('o', [d('a', 'started'), d('c', 'failed')]) },
    ];
    expect(deviceCounts(devices, tracked)).toEqual({ total: 3, online: 2, offline: 1, playing: 1 });
  });
});

describe('API errors as sentences at their field', () => {
  it('puts a known conflict at its field', () => {
    const error = new ApiError(409, 'a zone named "Thôn 1" already exists', { field: 'name' });
    expect(describeApiError(error, ['name'], { '409:name': 'zones.errors.nameTaken' })).toEqual({
      name: { key: 'zones.errors.nameTaken', values: { message: 'a zone named "Thôn 1" already exists' } },
    });
  });

  it('maps schema paths onto form fields and the rest onto the form', () => {
    expect(fieldOf('zones.0', ['zones'])).toBe('zones');
    expect(fieldOf('/body/at', ['at'])).toBe('form');
    expect(fieldOf('body.at', ['at'])).toBe('at');
    expect(describeApiError(new ApiError(400, 'x: bad', { field: 'x' }), ['name']).form?.key).toBe('errors.rejected');
    expect(describeApiError(new ApiError(400, 'id: bad', { field: 'id' }), ['id']).id?.key).toBe('errors.invalidField');
  });

  it('says what happened when there was no answer, and stays quiet on 401', () => {
    expect(describeApiError(new ApiError(0, 'fetch failed', { kind: 'network' }), []).form?.key).toBe('errors.network');
    expect(describeApiError(new ApiError(0, 'timeout', { kind: 'timeout' }), []).form?.key).toBe('errors.timeout');
    expect(describeApiError(new ApiError(503, 'down'), []).form?.key).toBe('errors.server');
    expect(describeApiError(new ApiError(403, 'no'), []).form?.key).toBe('errors.forbidden');
    expect(describeApiError(new ApiError(401, 'expired'), [])).toEqual({});
  });
});

describe('a schedule whose time has passed', () => {
  const now = Date.parse('2026-12-04T03:00:00Z'); // 10:00 in Ha Noi
  it.each([
    ['once, earlier today', { kind: 'once', startDate: '2026-12-04', times: ['09:59'] }, true],
    ['once, later today', { kind: 'once', startDate: '2026-12-04', times: ['10:01'] }, false],
    ['once, one of two times still ahead', { kind: 'once', startDate: '2026-12-04', times: ['07:00', '17:00'] }, false],
    ['once, 2020', { kind: 'once', startDate: '2020-01-01', times: ['07:00'] }, true],
    [
      'daily, ended last month',
      { kind: 'daily', startDate: '2026-10-01', endDate: '2026-11-30', times: ['07:00'] },
      true,
    ],
    [
      'daily, ends today after now',
      { kind: 'daily', startDate: '2026-10-01', endDate: '2026-12-04', times: ['17:00'] },
      false,
    ],
    ['daily, open-ended from 2020', { kind: 'daily', startDate: '2020-01-01', times: ['07:00'] }, false],
  ])('%s', (_name, rule, past) => {
    expect(ruleIsPast(rule, now, 'Asia/Ho_Chi_Minh')).toBe(past);
  });
});
