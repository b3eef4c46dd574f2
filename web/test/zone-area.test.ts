import { describe, expect, it } from 'vitest';
import { addAreaPoint, areaProblem, sameArea, undoAreaPoint, type AreaPoint } from '../src/pages/devices/zone-area';

describe('drawing a zone’s area', () => {
  it('adds corners rounded to a millionth of a degree, and takes the last back', () => {
    let points: AreaPoint[] = [];
    points = addAreaPoint(points, 22.48512345678, 103.9700000001);
    points = addAreaPoint(points, 22.4, 104.05);
    expect(points).toEqual([
      [22.485123, 103.97],
      [22.4, 104.05],
    ]);
    expect(undoAreaPoint(points)).toEqual([[22.485123, 103.97]]);
    expect(undoAreaPoint([])).toEqual([]);
  });

  it('brings a longitude panned round the world back within ±180 and ignores what is not a place', () => {
    expect(addAreaPoint([], 21, 104 + 360)).toEqual([[21, 104]]);
    expect(addAreaPoint([], 21, -256)).toEqual([[21, 104]]);
    expect(addAreaPoint([], 91, 104)).toEqual([]);
    expect(addAreaPoint([], Number.NaN, 104)).toEqual([]);
  });

  it('saves only 3 to 500 corners', () => {
    const three: AreaPoint[] = [
      [21, 105],
      [21.1, 105],
      [21.1, 105.1],
    ];
    expect(areaProblem(three)).toBeNull();
    expect(areaProblem(three.slice(0, 2))).toEqual({ key: 'zones.area.tooFew', values: { min: 3 } });
    const full = Array.from({ length: 500 }, (_, i): AreaPoint => [21 + i / 1000, 105]);
    expect(areaProblem(full)).toBeNull();
    expect(addAreaPoint(full, 22, 106)).toHaveLength(500);
    expect(areaProblem([...full, [22, 106]])).toEqual({ key: 'zones.area.tooMany', values: { max: 500 } });
  });

  it('knows when nothing changed', () => {
    const area: AreaPoint[] = [
      [21, 105],
      [21.1, 105],
      [21.1, 105.1],
    ];
    expect(
      sameArea(
        area,
        area.map(([a, b]) => [a, b]),
      ),
    ).toBe(true);
    expect(sameArea(area, [...area].reverse())).toBe(false);
    expect(sameArea([], null)).toBe(true);
    expect(sameArea(area, null)).toBe(false);
  });
});
