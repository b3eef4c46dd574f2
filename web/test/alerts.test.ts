import { describe, expect, it } from 'vitest';
import type { Alert, AlertCommune } from '../src/lib/api';
import type { Who } from '../src/lib/permissions';
import {
  actionsFor,
  alertLevel,
  alertsInView,
  areaBounds,
  capTermKey,
  decisionKey,
  hasShapes,
  insideAreas,
  LEVEL_COLOURS,
  levelColours,
  playsOf,
  sortAlerts,
  stateKey,
  statusKey,
} from '../src/pages/alerts';
import { occurrenceFromHash, occurrenceHash } from '../src/pages/deliveries';
import vi from '../src/lib/i18n/vi.json';

const row = (communeId: string, over: Partial<AlertCommune> = {}): AlertCommune => ({
  communeId,
  communeName: `Xã ${communeId}`,
  decision: 'confirm',
  rule: null,
  allClear: false,
  status: 'waiting',
  devices: 2,
  repeatsDone: 0,
  nextAt: null,
  decidedBy: null,
  revision: 1,
  occurrences: [],
  ...over,
});

/** The Lào Cai flood polygon of server/test/fixtures/cap/lu-lao-cai.xml. */
const LAO_CAI = [
  [22.62, 103.8],
  [22.62, 104.05],
  [22.3, 104.25],
  [22.2, 104.1],
  [22.45, 103.85],
  [22.62, 103.8],
];

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  sender: 'canhbao@nchmf.gov.vn',
  identifier: id,
  sentAt: '2026-10-12T00:30:00.000Z',
  msgType: 'Alert',
  status: 'Actual',
  state: 'active',
  event: 'Lũ',
  categories: ['Met'],
  severity: 'Severe',
  urgency: 'Immediate',
  certainty: 'Likely',
  level: 3,
  headline: 'Cảnh báo lũ',
  description: null,
  instruction: null,
  expiresAt: null,
  areas: [{ areaDesc: 'Lào Cai', polygons: [LAO_CAI], circles: [], geocodes: [] }],
  receivedAt: '2026-10-12T00:31:00.000Z',
  replaces: null,
  communes: [row('xa-a')],
  ...over,
});

const commune = (role: Who['role']): Who => ({ role, communeId: 'xa-a' });
const dict = (key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], vi);

describe('alert words', () => {
  it('says each state, decision and status in Vietnamese', () => {
    expect(dict(stateKey('active'))).toBe('Đang hiệu lực');
    expect(dict(stateKey('replaced'))).toBe('Đã được cập nhật');
    expect(dict(stateKey('cancelled'))).toBe('Đã hủy');
    expect(dict(stateKey('expired'))).toBe('Đã hết hạn');
    expect(dict(stateKey('not-actual'))).toBe('Thử nghiệm – không phát');
    expect(dict(decisionKey('auto'))).toBe('Tự động phát');
    expect(dict(decisionKey('confirm'))).toBe('Chờ lãnh đạo xác nhận');
    expect(dict(decisionKey('show'))).toBe('Chỉ hiển thị');
    for (const status of ['waiting', 'airing', 'done', 'dismissed'] as const) {
      expect(typeof dict(statusKey(status))).toBe('string');
    }
  });

  it('names CAP 1.2 terms and leaves others as written', () => {
    expect(capTermKey('severity', 'Severe')).toBe('alerts.severity.Severe');
    expect(dict(capTermKey('certainty', 'Possible')!)).toBe('Có thể xảy ra');
    expect(capTermKey('urgency', 'Soon')).toBeNull();
    expect(capTermKey('severity', 'Immediate')).toBeNull();
  });

  it('colours the five risk levels of Decision 18/2021, bringing a stray level within them', () => {
    expect(new Set(Object.values(LEVEL_COLOURS).map((c) => c.background)).size).toBe(5);
    expect(alertLevel(3)).toBe(3);
    expect(alertLevel(0)).toBe(1);
    expect(alertLevel(9)).toBe(5);
    expect(alertLevel(Number.NaN)).toBe(1);
    expect(levelColours(4)).toBe(LEVEL_COLOURS[4]);
    expect(levelColours(7)).toBe(LEVEL_COLOURS[5]);
  });
});

describe('alert list', () => {
  it('puts the newest first: by receipt, then by sending', () => {
    const sorted = sortAlerts([
      alert('old', { receivedAt: '2026-10-12T00:00:00Z' }),
      alert('new', { receivedAt: '2026-10-12T02:00:00Z' }),
      alert('same-later', { receivedAt: '2026-10-12T01:00:00Z', sentAt: '2026-10-12T00:59:00Z' }),
      alert('same-earlier', { receivedAt: '2026-10-12T01:00:00Z', sentAt: '2026-10-12T00:10:00Z' }),
    ]);
    expect(sorted.map((a) => a.id)).toEqual(['new', 'same-later', 'same-earlier', 'old']);
  });

  it('shows a province user the commune chosen in the header, with its row only', () => {
    const list = [alert('a', { communes: [row('xa-a'), row('xa-b')] }), alert('b', { communes: [row('xa-b')] })];
    expect(alertsInView(list, undefined)).toEqual(list);
    const inA = alertsInView(list, 'xa-a');
    expect(inA.map((a) => a.id)).toEqual(['a']);
    expect(inA[0]!.communes.map((r) => r.communeId)).toEqual(['xa-a']);
    // The list it came from is not changed.
    expect(list[0]!.communes).toHaveLength(2);
  });

  it('numbers the plays earliest first', () => {
    const plays = playsOf(
      row('xa-a', {
        occurrences: [
          { id: 'o2', startAt: '2026-10-12T01:05:00Z' },
          { id: 'o1', startAt: '2026-10-12T01:00:00Z' },
        ],
      }),
    );
    expect(plays).toEqual([
      { id: 'o1', startAt: '2026-10-12T01:00:00Z', n: 1 },
      { id: 'o2', startAt: '2026-10-12T01:05:00Z', n: 2 },
    ]);
  });

  it('links a play to its column on the deliveries page', () => {
    expect(occurrenceHash('occ 1/2')).toBe('/deliveries?occurrence=occ+1%2F2');
    expect(occurrenceFromHash(`#${occurrenceHash('occ 1/2')}`)).toBe('occ 1/2');
    expect(occurrenceFromHash('#/deliveries')).toBeNull();
  });
});

describe('what a user may do with a commune’s row', () => {
  it('offers a leader "air now" and "do not air" only while the row waits', () => {
    for (const role of ['admin', 'approver'] as const) {
      expect(actionsFor(commune(role), alert('a'), row('xa-a'))).toEqual(['confirm', 'dismiss']);
    }
    for (const status of ['airing', 'done', 'dismissed'] as const) {
      expect(actionsFor(commune('admin'), alert('a'), row('xa-a', { status }))).toEqual([]);
    }
  });

  it('offers nothing to those who may not send emergencies', () => {
    for (const role of ['editor', 'technician', 'viewer'] as const) {
      expect(actionsFor(commune(role), alert('a'), row('xa-a'))).toEqual([]);
    }
    expect(actionsFor(null, alert('a'), row('xa-a'))).toEqual([]);
  });

  it('lets an alert no longer in force be dismissed, never aired', () => {
    for (const state of ['replaced', 'cancelled', 'expired', 'not-actual'] as const) {
      expect(actionsFor(commune('admin'), alert('a', { state }), row('xa-a'))).toEqual(['dismiss']);
    }
  });
});

describe('where an alert reaches', () => {
  const flood = alert('a').areas;

  it('finds the loudspeakers inside the Lào Cai polygon and not Sa Pa', () => {
    expect(insideAreas(flood, 22.485, 103.97)).toBe(true); // Lào Cai city
    expect(insideAreas(flood, 22.4, 104.05)).toBe(true); // Bảo Thắng
    expect(insideAreas(flood, 22.336, 103.844)).toBe(false); // Sa Pa
  });

  it('measures circles in kilometres', () => {
    const circle = [{ polygons: [], circles: [{ lat: 21.0, lon: 105.8, radiusKm: 10 }] }];
    expect(insideAreas(circle, 21.08, 105.8)).toBe(true); // ~8.9 km north
    expect(insideAreas(circle, 21.1, 105.8)).toBe(false); // ~11.1 km north
    expect(hasShapes(circle)).toBe(true);
  });

  it('has nothing to draw for an alert with area codes only', () => {
    const coded = [{ polygons: [[[21, 105]]], circles: [] }];
    expect(hasShapes(coded)).toBe(false);
    expect(areaBounds([{ polygons: [], circles: [] }])).toBeNull();
  });

  it('frames polygons and circles', () => {
    expect(areaBounds(flood)).toEqual([
      [22.2, 103.8],
      [22.62, 104.25],
    ]);
    const [[south, west], [north, east]] = areaBounds([
      { polygons: [], circles: [{ lat: 0, lon: 100, radiusKm: 111.19 }] },
    ])!;
    expect(south).toBeCloseTo(-1, 2);
    expect(north).toBeCloseTo(1, 2);
    expect(west).toBeCloseTo(99, 2);
    expect(east).toBeCloseTo(101, 2);
  });
});
