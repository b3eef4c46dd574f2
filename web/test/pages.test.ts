import { describe, expect, it } from 'vitest';
import type { Delivery, Device, Occurrence } from '../src/lib/api';
import { describeApiError, fieldOf } from '../src/lib/errors';
import { ApiError } from '../src/lib/api';
import { NAV, visibleNav } from '../src/lib/nav';
import { deliveryMatrix } from '../src/pages/deliveries';
import { deviceCounts, recentFailures } from '../src/pages/dashboard';

const d = (deviceId: string, stage: Delivery['stage'], at: string | null = null): Delivery => ({
  deviceId,
  stage,
  at,
  detail: stage === 'failed' ? 'hash mismatch' : null,
});
const occ = (id: string, deliveries: Delivery[]): Occurrence => ({
  id,
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
  zones: [],
  online,
  lastSeen: null,
  agentVersion: null,
  revoked,
  clockOffsetMs: null,
  clockWarning: false,
  location: null,
  telemetry: null,
});

describe('navigation', () => {
  const built = NAV.filter((item) => !item.placeholder).map((item) => item.requires);

  it('shows an admin every built page and hides slots whose API does not exist', () => {
    const paths = visibleNav('admin', built).map((item) => item.path);
    expect(paths).toEqual([
      '/',
      '/devices',
      '/broadcast',
      '/deliveries',
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
    expect(visibleNav('editor', operations).map((item) => item.path)).toContain('/schedules');
  });

  it('follows the role', () => {
    expect(visibleNav('viewer', built).map((item) => item.path)).toEqual([
      '/',
      '/devices',
      '/deliveries',
      '/programmes',
      '/schedules',
      '/reports',
    ]);
    expect(visibleNav('approver', built).map((item) => item.path)).toContain('/audit');
    expect(visibleNav('technician', built).map((item) => item.path)).not.toContain('/broadcast');
    expect(visibleNav(undefined)).toEqual([]);
  });
});

describe('delivery matrix', () => {
  const occurrences = [
    occ('o1', [d('b', 'finished'), d('a', 'failed')]),
    occ('o2', [d('b', 'started'), d('c', 'ready')]),
  ];

  it('has a row per device, a column per occurrence, failures first', () => {
    const matrix = deliveryMatrix(occurrences);
    expect(matrix.columns.map((o) => o.id)).toEqual(['o1', 'o2']);
    expect(matrix.rows.map((r) => r.deviceId)).toEqual(['a', 'b', 'c']);
    expect(matrix.rows[1]!.cells.map((c) => c?.stage ?? null)).toEqual(['finished', 'started']);
    expect(matrix.rows[2]!.cells.map((c) => c?.stage ?? null)).toEqual([null, 'ready']);
  });

  it('keeps only failed rows and the occurrences with failures when asked', () => {
    const matrix = deliveryMatrix(occurrences, { onlyFailed: true });
    expect(matrix.columns.map((o) => o.id)).toEqual(['o1']);
    expect(matrix.rows.map((r) => r.deviceId)).toEqual(['a']);
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

  it('lists the newest failures first', () => {
    const tracked = [
      { id: 'o1', status: 'ready' as const, occurrence: occ('o1', [d('a', 'failed', '2025-11-23T10:00:01Z')]) },
      { id: 'o2', status: 'ready' as const, occurrence: occ('o2', [d('b', 'failed', '2025-11-23T11:00:00Z')]) },
      { id: 'o3', status: 'loading' as const, occurrence: null },
    ];
    expect(recentFailures(tracked, 5).map((f) => f.deviceId)).toEqual(['b', 'a']);
    expect(recentFailures(tracked, 1)).toHaveLength(1);
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
