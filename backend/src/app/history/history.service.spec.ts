import { HistoryService } from './history.service';

describe('HistoryService', () => {
  const reading = (ts: number, values: Record<string, number>) => ({
    deviceId: 'd1',
    ts,
    values,
  });

  it('stores each metric as its own series and answers range queries', () => {
    const sut = new HistoryService({
      HISTORY_WINDOW_MS: 60_000,
      HISTORY_MAX_POINTS: 100,
    });
    sut.record('d1', [
      reading(1000, { a: 1, b: 2 }),
      reading(3000, { a: 3 }),
      reading(2000, { a: 2 }),
    ]);
    expect(sut.query('d1')).toEqual([
      { deviceId: 'd1', metric: 'a', t: [1000, 2000, 3000], v: [1, 2, 3] },
      { deviceId: 'd1', metric: 'b', t: [1000], v: [2] },
    ]);
    expect(sut.query('d1', 1500, 2500, undefined, ['a'])).toEqual([
      { deviceId: 'd1', metric: 'a', t: [2000], v: [2] },
    ]);
    expect(sut.query('unknown')).toEqual([]);
    expect(sut.stats()).toEqual({ series: 2, points: 4 });
  });

  it('applies the tighter of window and point cap and keeps the point count exact', () => {
    const sut = new HistoryService({
      HISTORY_WINDOW_MS: 10_000,
      HISTORY_MAX_POINTS: 3,
    });
    for (let ts = 1000; ts <= 20_000; ts += 1000) sut.record('d1', [reading(ts, { a: ts })]);
    expect(sut.query('d1')[0].t).toEqual([18_000, 19_000, 20_000]);
    expect(sut.stats().points).toBe(3);
    sut.record('d1', [reading(40_000, { a: 1 })]);
    expect(sut.query('d1')[0].t).toEqual([40_000]);
    expect(sut.stats().points).toBe(1);
  });
});
