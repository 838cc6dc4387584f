import { ChartSeries } from '../core/stores/chart-series';
import { BandPoints, BucketSeries } from './bucket-series';

const out = (): BandPoints => ({ mid: [], hi: [], lo: [] });

describe('BucketSeries', () => {
  it('keeps each bucket’s lowest and highest reading, and draws its range as a band', () => {
    const sut = new BucketSeries(1000, 10);
    // Bucket 0: 3, 9, 5; bucket 1: a single 4; bucket 2 missing; bucket 3: 7, 1.
    for (const [t, v] of [
      [100, 3],
      [400, 9],
      [900, 5],
      [1500, 4],
      [3200, 7],
      [3800, 1],
    ])
      sut.fold(t, v);
    const points = out();
    const view = sut.project(0, 3999, 2500, points);
    expect(points.hi.map((p) => p.y)).toEqual([9, 4, 7]);
    expect(points.lo.map((p) => p.y)).toEqual([3, 4, 1]);
    expect(points.mid.map((p) => p.y)).toEqual([6, 4, 4]);
    // A bucket of one reading draws that reading where it is.
    expect(points.mid[1]).toEqual({ x: 1500, y: 4 });
    expect(view.stats).toEqual({ count: 3, min: 1, max: 9, avg: null, gaps: 0 });
  });

  it('folding the same readings again (a range answer overlapping the live series) changes nothing', () => {
    const sut = new BucketSeries(1000, 10);
    expect(sut.foldAll([100, 400, 1500], [3, 9, 4])).toBe(true);
    expect(sut.foldAll([100, 400, 1500], [3, 9, 4])).toBe(false);
    const points = out();
    expect(sut.project(0, 2000, 5000, points).stats.count).toBe(2);
  });

  it('folds the live series from where it left off, new readings into the newest bucket', () => {
    const live = new ChartSeries(100);
    for (let i = 0; i < 5; i++) live.push(10_000 + i * 300, i);
    const sut = new BucketSeries(1000, 10);
    let folded = sut.foldFrom(live, -Infinity);
    expect(folded).toBe(11_200);
    live.push(11_500, 50); // same bucket as 11_200: the band grows, no new bucket
    folded = sut.foldFrom(live, folded);
    const points = out();
    sut.project(10_000, 11_999, 5000, points);
    expect(points.hi.map((p) => p.y)).toEqual([3, 50]);
    expect(points.lo.map((p) => p.y)).toEqual([0, 4]);
  });

  it('holds a fixed number of buckets however long the window slides', () => {
    const sut = new BucketSeries(1000, 5);
    for (let t = 0; t < 100_000; t += 250) sut.fold(t, t % 7);
    const points = out();
    const view = sut.project(0, 100_000, 2500, points);
    expect(points.mid.length).toBe(5);
    expect(points.mid[0].x).toBeGreaterThanOrEqual(95_000);
    // Older than the ring holds: refused.
    expect(sut.fold(1000, 99)).toBe(false);
    expect(view.stats.count).toBe(5);
  });

  it('counts a gap where buckets are missing, and says where the newest one ends', () => {
    const sut = new BucketSeries(1000, 100);
    for (const t of [500, 1500, 2500, 9500, 10_500]) sut.fold(t, 1);
    const view = sut.project(0, 11_000, 2500, out());
    expect(view.stats.gaps).toBe(1);
    expect(view.lastGapEnd).toBe(9500);
  });
});
