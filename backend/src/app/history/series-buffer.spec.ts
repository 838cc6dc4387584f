import { SeriesBuffer } from './series-buffer';

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
});
