import { ChartSeries } from '../core/stores/chart-series';
import { Point, projectWindow } from './window-projection';

/** A series of `n` points, one every `stepMs` from `t0`, valued by `value(i)`. */
function series(n: number, t0: number, stepMs: number, value: (i: number) => number) {
  const buffer = new ChartSeries(Math.max(1, n));
  for (let i = 0; i < n; i++) buffer.push(t0 + i * stepMs, value(i));
  return buffer;
}

describe('projectWindow', () => {
  it('draws the window plus the point before it, and counts only the window in the stats', () => {
    const points: Point[] = [];
    const view = projectWindow(
      series(10, 0, 1000, (i) => i),
      { min: 4500, max: 9000, plotWidth: 300, gapMs: 3000 },
      points,
    );
    expect(points.map((p) => p.x)).toEqual([4000, 5000, 6000, 7000, 8000, 9000]);
    expect(view.stats).toEqual({ count: 5, min: 5, max: 9, avg: 7, gaps: 0 });
    expect(view.lastGapEnd).toBe(0);
  });

  it('keeps the lowest and highest point of each pixel column, in time order', () => {
    const points: Point[] = [];
    // 100 points in 10 px: 10 per column, a spike of 50 in the middle of the fourth.
    const view = projectWindow(
      series(100, 0, 10, (i) => (i === 35 ? 50 : i % 10)),
      { min: 0, max: 990, plotWidth: 10, gapMs: 1000 },
      points,
    );
    expect(points.length).toBeLessThanOrEqual(2 * 10 + 2);
    expect(points.some((p) => p.y === 50)).toBe(true);
    expect(points.map((p) => p.x)).toEqual([...points.map((p) => p.x)].sort((a, b) => a - b));
    expect(view.stats.count).toBe(100);
    expect(view.stats.max).toBe(50);
  });

  it('counts gaps in the window and says where the newest one ends', () => {
    const buffer = series(5, 0, 1000, () => 1);
    buffer.push(20_000, 2);
    buffer.push(21_000, 2);
    const view = projectWindow(buffer, { min: 0, max: 21_000, plotWidth: 300, gapMs: 3000 }, []);
    expect(view.stats.gaps).toBe(1);
    expect(view.lastGapEnd).toBe(20_000);
  });

  it('reuses the point objects it is given and drops the extra ones', () => {
    const points: Point[] = [
      { x: 0, y: 0 },
      { x: 0, y: 0 },
      { x: 0, y: 0 },
    ];
    const first = points[0];
    projectWindow(
      series(2, 0, 1000, (i) => i),
      { min: 0, max: 1000, plotWidth: 300, gapMs: 3000 },
      points,
    );
    expect(points).toEqual([
      { x: 0, y: 0 },
      { x: 1000, y: 1 },
    ]);
    expect(points[0]).toBe(first);
  });

  it('gives empty stats without a series', () => {
    const points: Point[] = [{ x: 1, y: 1 }];
    const view = projectWindow(undefined, { min: 0, max: 1, plotWidth: 300, gapMs: 1 }, points);
    expect(points).toEqual([]);
    expect(view.stats).toEqual({ count: 0, min: null, max: null, avg: null, gaps: 0 });
  });
});
