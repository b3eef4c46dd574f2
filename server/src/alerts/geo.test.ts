/**
 * Point-in-area checks on the fixtures' real places. Expected answers are
 * worked out by hand in the comments (edge crossings, distances), not taken
 * from the code's output.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCapAlert, type CapArea, type LatLon } from './cap';
import {
  EARTH_RADIUS_KM,
  areaContains,
  areaOverlaps,
  haversineKm,
  pointInCircle,
  pointInPolygon,
  type GeoPoint,
} from './geo';

const FIXTURES = new URL('../../test/fixtures/cap/', import.meta.url);
const firstArea = (name: string): CapArea => parseCapAlert(readFileSync(new URL(name, FIXTURES))).infos[0]!.areas[0]!;

const LAO_CAI_CITY: GeoPoint = { lat: 22.4856, lon: 103.9707 };
const SA_PA: GeoPoint = { lat: 22.3364, lon: 103.8438 };
const HA_NOI: GeoPoint = { lat: 21.0285, lon: 105.8542 };
const HAI_PHONG: GeoPoint = { lat: 20.8449, lon: 106.6881 };
const HO_CHI_MINH_CITY: GeoPoint = { lat: 10.7769, lon: 106.7009 };

/** One degree along a meridian on the mean sphere: 2πR/360. */
const KM_PER_DEGREE = (EARTH_RADIUS_KM * Math.PI) / 180;

describe('pointInPolygon on the Lào Cai flood polygon', () => {
  // A(22.62,103.80) B(22.62,104.05) C(22.30,104.25) D(22.20,104.10) E(22.45,103.85) back to A.
  const flood = firstArea('lu-lao-cai.xml').polygons[0]!;

  it('has Lào Cai city inside', () => {
    // At lat 22.4856 only A–B–C's edge B–C (at lon 104.05 + 0.42·0.20 ≈ 104.134) and
    // E–A (at 103.85 − 0.21·0.05 ≈ 103.840) cross; 103.9707 lies between them.
    expect(pointInPolygon(LAO_CAI_CITY, flood)).toBe(true);
  });

  it('has Sa Pa, 15 km away, outside', () => {
    // At lat 22.3364 the western edge D–E lies at lon 104.10 − 0.1364 ≈ 103.964; Sa Pa is west of it.
    expect(pointInPolygon(SA_PA, flood)).toBe(false);
  });

  it('has Hà Nội outside', () => {
    expect(pointInPolygon(HA_NOI, flood)).toBe(false);
  });

  it('counts crossings on both sides: east and west of the polygon on Lào Cai city’s latitude are outside', () => {
    expect(pointInPolygon({ lat: LAO_CAI_CITY.lat, lon: 104.5 }, flood)).toBe(false); // no edge to the east
    expect(pointInPolygon({ lat: LAO_CAI_CITY.lat, lon: 103.5 }, flood)).toBe(false); // two edges to the east
  });

  it('counts a ray through a vertex once', () => {
    // The ray east from (22.45, 103.80) passes exactly through vertex E and then crosses B–C: two
    // crossings, outside. Counting E twice (once per edge) would make it three, "inside".
    expect(pointInPolygon({ lat: 22.45, lon: 103.8 }, flood)).toBe(false);
    // East of E on the same latitude: only B–C is crossed, inside.
    expect(pointInPolygon({ lat: 22.45, lon: 103.9 }, flood)).toBe(true);
  });

  it('treats points on an edge or vertex as inside', () => {
    expect(pointInPolygon({ lat: 22.62, lon: 103.925 }, flood)).toBe(true); // middle of A–B
    expect(pointInPolygon({ lat: 22.3, lon: 104.25 }, flood)).toBe(true); // vertex C
    expect(pointInPolygon({ lat: 22.62 + 1e-6, lon: 103.925 }, flood)).toBe(false); // 11 cm north of A–B
  });

  it('gives the same answers for the ring without its closing point', () => {
    const open = flood.slice(0, -1);
    for (const point of [LAO_CAI_CITY, SA_PA, HA_NOI, { lat: 22.45, lon: 103.8 }]) {
      expect(pointInPolygon(point, open)).toBe(pointInPolygon(point, flood));
    }
  });

  it('handles a concave polygon: the notch of a U is outside', () => {
    // A U opening north: 0..3 wide, 0..3 tall, the notch is lon 1..2 from lat 1 up.
    const u: LatLon[] = [
      [0, 0],
      [0, 3],
      [3, 3],
      [3, 2],
      [1, 2],
      [1, 1],
      [3, 1],
      [3, 0],
      [0, 0],
    ];
    expect(pointInPolygon({ lat: 2, lon: 1.5 }, u)).toBe(false);
    expect(pointInPolygon({ lat: 2, lon: 0.5 }, u)).toBe(true);
    expect(pointInPolygon({ lat: 2, lon: 2.5 }, u)).toBe(true);
    expect(pointInPolygon({ lat: 0.5, lon: 1.5 }, u)).toBe(true);
  });

  it('has nothing inside a degenerate ring', () => {
    expect(pointInPolygon({ lat: 0, lon: 0 }, [])).toBe(false);
    expect(
      pointInPolygon({ lat: 0.5, lon: 0.5 }, [
        [0, 0],
        [1, 1],
      ]),
    ).toBe(false);
  });
});

describe('haversineKm', () => {
  it('measures one degree of latitude as 2πR/360 and one degree of longitude at 60°N as about half', () => {
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(KM_PER_DEGREE, 6);
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(KM_PER_DEGREE, 6);
    // Along the parallel it would be exactly half (cos 60°); the great circle is a little shorter.
    const atSixty = haversineKm({ lat: 60, lon: 0 }, { lat: 60, lon: 1 });
    expect(atSixty).toBeLessThan(KM_PER_DEGREE / 2);
    expect(atSixty).toBeGreaterThan(KM_PER_DEGREE / 2 - 0.01);
  });

  it('puts Hà Nội about 1,140 km from Hồ Chí Minh City', () => {
    // 10.25° of latitude ≈ 1,140 km, plus 0.85° of longitude ≈ 90 km across: √(1140² + 90²) ≈ 1,143.
    expect(haversineKm(HA_NOI, HO_CHI_MINH_CITY)).toBeGreaterThan(1130);
    expect(haversineKm(HA_NOI, HO_CHI_MINH_CITY)).toBeLessThan(1150);
    expect(haversineKm(HO_CHI_MINH_CITY, HA_NOI)).toBeCloseTo(haversineKm(HA_NOI, HO_CHI_MINH_CITY), 9);
  });

  it('is zero from a point to itself', () => {
    expect(haversineKm(LAO_CAI_CITY, LAO_CAI_CITY)).toBe(0);
  });
});

describe('pointInCircle on the storm circle (20.3°N 107.5°E, 150 km)', () => {
  const storm = firstArea('bao-so-5.xml').circles[0]!;

  it('has Hải Phòng inside and Hà Nội outside', () => {
    // Hải Phòng: 0.54° north (60 km) and 0.81° west (85 km at 20.5°N) ≈ 104 km.
    expect(pointInCircle(HAI_PHONG, storm)).toBe(true);
    // Hà Nội: 0.73° north (81 km) and 1.65° west (171 km) ≈ 189 km.
    expect(pointInCircle(HA_NOI, storm)).toBe(false);
  });

  it('includes the rim and nothing beyond it', () => {
    const degrees = 150 / KM_PER_DEGREE; // due north, distance is degrees of latitude × 2πR/360
    expect(pointInCircle({ lat: storm.lat + degrees * (1 - 1e-12), lon: storm.lon }, storm)).toBe(true);
    expect(pointInCircle({ lat: storm.lat + degrees * 1.001, lon: storm.lon }, storm)).toBe(false);
  });
});

describe('areaContains', () => {
  it('matches the Test alert’s 5 km circle around Lào Cai city at 3 km but not at 7 km', () => {
    const area = firstArea('thu-nghiem.xml');
    expect(areaContains(area, { lat: LAO_CAI_CITY.lat + 3 / KM_PER_DEGREE, lon: LAO_CAI_CITY.lon })).toBe(true);
    expect(areaContains(area, { lat: LAO_CAI_CITY.lat + 7 / KM_PER_DEGREE, lon: LAO_CAI_CITY.lon })).toBe(false);
  });

  it('is the union of the polygons and circles', () => {
    const flood = firstArea('lu-lao-cai.xml');
    const storm = firstArea('bao-so-5.xml');
    const both = { polygons: flood.polygons, circles: storm.circles };
    expect(areaContains(both, LAO_CAI_CITY)).toBe(true); // polygon only
    expect(areaContains(both, HAI_PHONG)).toBe(true); // circle only
    expect(areaContains(both, HA_NOI)).toBe(false); // neither
  });

  it('contains no point for an area that has geocodes only', () => {
    const geocoded = firstArea('sat-lo-yen-bai.xml');
    expect(geocoded.geocodes.length).toBeGreaterThan(0);
    expect(areaContains(geocoded, { lat: 21.85, lon: 104.09 })).toBe(false);
  });
});

describe('a zone’s drawn area against an alert area', () => {
  // A village drawn as a small square near Lào Cai city.
  const village: [number, number][] = [
    [22.48, 103.96],
    [22.48, 103.98],
    [22.5, 103.98],
    [22.5, 103.96],
  ];

  it('overlaps a polygon that covers part of it, and not one beside it', () => {
    const across = [
      [22.49, 103.97],
      [22.49, 104.1],
      [22.6, 104.1],
      [22.49, 103.97],
    ] as [number, number][];
    const beside = [
      [22.0, 104.5],
      [22.0, 104.6],
      [22.1, 104.6],
      [22.0, 104.5],
    ] as [number, number][];
    expect(areaOverlaps({ polygons: [across], circles: [] }, village)).toBe(true);
    expect(areaOverlaps({ polygons: [beside], circles: [] }, village)).toBe(false);
  });

  it('overlaps a circle that reaches it (about 1.1 km per 0.01° of latitude)', () => {
    // The circle's centre is 0.03° (≈3.3 km) south of the village's southern edge.
    expect(areaOverlaps({ polygons: [], circles: [{ lat: 22.45, lon: 103.97, radiusKm: 4 }] }, village)).toBe(true);
    expect(areaOverlaps({ polygons: [], circles: [{ lat: 22.45, lon: 103.97, radiusKm: 3 }] }, village)).toBe(false);
  });

  it('counts an area inside the village, and ignores a ring of fewer than three points', () => {
    const inside = [
      [22.49, 103.965],
      [22.49, 103.97],
      [22.495, 103.97],
    ] as [number, number][];
    expect(areaOverlaps({ polygons: [inside], circles: [] }, village)).toBe(true);
    expect(areaOverlaps({ polygons: [inside], circles: [] }, village.slice(0, 2))).toBe(false);
  });
});
