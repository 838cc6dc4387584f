import { ChartSeries, countGaps } from './chart-series';

/*
 * The points themselves (order, capacity, merge, resize) are the protocol's SeriesBuffer,
 * specified in protocol/src/lib/series-buffer.spec.ts; here, what the charts add.
 */
describe('ChartSeries', () => {
  it('stays bounded over a long run (memory stays flat)', () => {
    const series = new ChartSeries(3600);
    for (let i = 0; i < 100_000; i++) series.push(i, i);
    expect(series.size).toBe(3600);
    expect(series.oldest).toBe(100_000 - 3600);
    expect(series.lastTs).toBe(99_999);
  });

  it('has no last timestamp while empty', () => {
    expect(new ChartSeries(3).lastTs).toBeNull();
  });

  it('bumps its version on change only', () => {
    const series = new ChartSeries(3);
    const v0 = series.version;
    series.push(1, 1);
    expect(series.version).toBeGreaterThan(v0);
    const v1 = series.version;
    series.push(1, 1);
    expect(series.version).toBe(v1);
    series.merge([2, 3], [2, 3]);
    expect(series.version).toBeGreaterThan(v1);
    const v2 = series.version;
    series.resize(3);
    expect(series.version).toBe(v2);
    series.resize(5);
    expect(series.version).toBeGreaterThan(v2);
  });

  it('refuses a point older than everything in a full ring', () => {
    const series = new ChartSeries(4);
    for (const t of [10, 20, 30, 40, 50, 60]) series.push(t, t);
    expect(series.push(45, 45)).toBe(true);
    expect(series.push(5, 5)).toBe(false);
  });

  it('counts the gaps after a window start', () => {
    const series = new ChartSeries(10);
    for (const t of [0, 1000, 2000, 9000, 10_000]) series.push(t, 0);
    series.merge([2000, 3000], [0, 0]);
    expect(countGaps(series, 0, 3000)).toBe(1);
    expect(countGaps(series, 9000, 3000)).toBe(0);
  });
});
