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
    expect(sut.stats()).toEqual({ series: 2, points: 4, limit: 20_000_000, overBudget: 0 });
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

  it('never holds more than HISTORY_MAX_TOTAL_POINTS: a full total makes each series roll over', () => {
    const sut = new HistoryService({
      HISTORY_WINDOW_MS: 3_600_000,
      HISTORY_MAX_POINTS: 100,
      HISTORY_MAX_TOTAL_POINTS: 10,
    });
    for (let ts = 1; ts <= 6; ts++) sut.record('d1', [reading(ts, { a: ts })]);
    for (let ts = 1; ts <= 20; ts++) sut.record('d2', [reading(ts, { a: ts, b: ts })]);
    expect(sut.stats()).toMatchObject({ points: 10, limit: 10 });
    expect(sut.overBudget).toBe(true);
    // d1 kept what it had; d2's series keep rolling over, newest points in.
    expect(sut.query('d1')[0].t).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sut.query('d2').map((s) => s.t)).toEqual([
      [19, 20],
      [19, 20],
    ]);
    expect(sut.stats().overBudget).toBeGreaterThan(0);
  });

  it('forgets every series of a device and its points', () => {
    const sut = new HistoryService({ HISTORY_WINDOW_MS: 60_000, HISTORY_MAX_POINTS: 100 });
    sut.record('d1', [reading(1, { a: 1, b: 2 })]);
    sut.record('d2', [reading(1, { a: 1 })]);
    sut.forget('d1');
    expect(sut.query('d1')).toEqual([]);
    expect(sut.stats()).toMatchObject({ series: 1, points: 1 });
  });
});
