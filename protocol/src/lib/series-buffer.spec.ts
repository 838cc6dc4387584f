import { SeriesBuffer } from '../core';

const fill = (sut: SeriesBuffer, ts: number[], windowMs?: number) =>
  ts.forEach((t) => sut.insert(t, t * 10, windowMs));

describe('SeriesBuffer', () => {
  it('keeps in-order appends and grows past its initial capacity', () => {
    const sut = new SeriesBuffer(100, 2);
    fill(sut, [1, 2, 3, 4, 5]);
    expect(sut.range(-Infinity, Infinity)).toEqual({
      t: [1, 2, 3, 4, 5],
      v: [10, 20, 30, 40, 50],
    });
  });

  it('inserts out-of-order readings in ts order and keeps the highest ts as newest', () => {
    const sut = new SeriesBuffer(100, 2);
    fill(sut, [10, 30, 20, 5, 25, 40]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([5, 10, 20, 25, 30, 40]);
    expect(sut.newest).toBe(40);
  });

  it('replaces the value of a duplicate ts instead of adding a point', () => {
    const sut = new SeriesBuffer(10);
    fill(sut, [1, 2, 3]);
    expect(sut.insert(2, 99)).toBe(0);
    expect(sut.range(-Infinity, Infinity)).toEqual({
      t: [1, 2, 3],
      v: [10, 99, 30],
    });
  });

  it('caps the number of points, dropping the oldest, also after wrapping around', () => {
    const sut = new SeriesBuffer(4, 4);
    fill(sut, [1, 2, 3, 4, 5, 6, 7]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([4, 5, 6, 7]);
    sut.insert(4.5, 1); // out of order into a full, wrapped buffer
    expect(sut.range(-Infinity, Infinity).t).toEqual([4.5, 5, 6, 7]);
    expect(sut.insert(1, 1)).toBe(0); // older than everything in a full buffer
    expect(sut.size).toBe(4);
  });

  it('prunes by window relative to the newest ts and refuses readings older than the window', () => {
    const sut = new SeriesBuffer(100);
    fill(sut, [0, 100, 200, 300], 150);
    expect(sut.range(-Infinity, Infinity).t).toEqual([200, 300]);
    expect(sut.insert(100, 1, 150)).toBe(0);
    expect(sut.insert(160, 1, 150)).toBe(1);
    expect(sut.range(-Infinity, Infinity).t).toEqual([160, 200, 300]);
  });

  it('returns the most recent maxPoints of a range', () => {
    const sut = new SeriesBuffer(100);
    fill(sut, [1, 2, 3, 4, 5, 6]);
    expect(sut.range(2, 5).t).toEqual([2, 3, 4, 5]);
    expect(sut.range(2, 5, 2).t).toEqual([4, 5]);
    expect(sut.range(7, 9).t).toEqual([]);
  });

  it('spreads maxPoints over the whole range when asked: min and max of each bucket, in time order', () => {
    const sut = new SeriesBuffer(1000);
    // ts 0..99, a sawtooth with one spike at ts 57
    for (let ts = 0; ts < 100; ts++) sut.insert(ts, ts === 57 ? 1000 : ts % 10);
    const { t, v } = sut.range(-Infinity, Infinity, 20, 'spread');
    expect(t.length).toBeLessThanOrEqual(20);
    expect(t.length).toBeGreaterThanOrEqual(10);
    expect([...t].sort((a, b) => a - b)).toEqual(t); // ascending
    expect(t[0]).toBeLessThan(10); // starts at the range's start, not at its newest end
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(90);
    expect(v).toContain(1000); // the spike survives decimation
    for (let i = 0; i < t.length; i++) expect(v[i]).toBe(t[i] === 57 ? 1000 : t[i] % 10);
  });

  it('returns the range as it is when it fits, and the latest point for maxPoints 1, even when spreading', () => {
    const sut = new SeriesBuffer(100);
    fill(sut, [1, 2, 3, 4, 5, 6]);
    expect(sut.range(2, 5, 10, 'spread').t).toEqual([2, 3, 4, 5]);
    expect(sut.range(2, 5, 1, 'spread').t).toEqual([5]);
  });

  it('spreads across the ring wrap-around', () => {
    const sut = new SeriesBuffer(8, 8);
    for (let ts = 1; ts <= 12; ts++) sut.insert(ts, ts); // holds 5..12, wrapped
    const { t } = sut.range(-Infinity, Infinity, 4, 'spread');
    expect(t).toEqual([5, 8, 9, 12]);
  });

  it('says whether a point changed anything', () => {
    const sut = new SeriesBuffer(4, 4);
    expect(sut.put(1000, 1)).toBe(true);
    expect(sut.put(1000, 1)).toBe(false); // same point again
    expect(sut.put(1000, 2)).toBe(true); // replaced
    for (const t of [2000, 3000, 4000]) sut.put(t, 0);
    expect(sut.put(500, 5)).toBe(false); // older than everything in a full buffer
    expect(sut.range(-Infinity, Infinity)).toEqual({
      t: [1000, 2000, 3000, 4000],
      v: [2, 0, 0, 0],
    });
  });

  it('fills a gap from merged history without duplicating overlapping points', () => {
    const sut = new SeriesBuffer(100);
    fill(sut, [1000, 2000, 6000]); // live data after a reconnect
    sut.merge([2000, 3000, 4000, 5000, 6000], [2, 3, 4, 5, 6]); // the acknowledgement's history
    expect(sut.range(-Infinity, Infinity)).toEqual({
      t: [1000, 2000, 3000, 4000, 5000, 6000],
      v: [10_000, 2, 3, 4, 5, 6],
    });
  });

  it('merges history newer than everything held by appending, keeping the newest', () => {
    const sut = new SeriesBuffer(3, 3);
    fill(sut, [1]);
    sut.merge([2, 3, 4, 5], [2, 3, 4, 5]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([3, 4, 5]);
  });

  it('keeps only the newest points when merged history overflows, then appends as before', () => {
    const sut = new SeriesBuffer(4, 4);
    fill(sut, [50]);
    sut.merge([10, 20, 30, 40, 60], [1, 2, 3, 4, 6]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([30, 40, 50, 60]);
    fill(sut, [70]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([40, 50, 60, 70]);
  });

  it('resizes keeping the newest points, growing again afterwards', () => {
    const sut = new SeriesBuffer(10, 2);
    fill(sut, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sut.resize(3)).toBe(true);
    expect(sut.range(-Infinity, Infinity).t).toEqual([7, 8, 9]);
    expect(sut.resize(3)).toBe(false);
    sut.resize(5);
    fill(sut, [10, 11, 12]);
    expect(sut.range(-Infinity, Infinity).t).toEqual([8, 9, 10, 11, 12]);
    expect(sut.maxPoints).toBe(5);
  });

  it('reads points by position and finds a window start', () => {
    const sut = new SeriesBuffer(3, 3);
    fill(sut, [0, 1000, 2000, 9000]); // wrapped: holds 1000, 2000, 9000
    expect([sut.tAt(0), sut.tAt(2), sut.vAt(1)]).toEqual([1000, 9000, 20_000]);
    expect(sut.lowerBound(1500)).toBe(1);
    expect(sut.lowerBound(10_000)).toBe(3);
  });

  it('refuses a capacity below one', () => {
    expect(() => new SeriesBuffer(0)).toThrow(RangeError);
  });
});
