import { countGaps, SeriesBuffer } from './series-buffer';

function contents(buffer: SeriesBuffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < buffer.length; i++) out.push([buffer.tAt(i), buffer.vAt(i)]);
  return out;
}

describe('SeriesBuffer', () => {
  it('keeps at most its capacity and drops the oldest points', () => {
    const buffer = new SeriesBuffer(3);
    for (let i = 1; i <= 10; i++) buffer.push(i * 1000, i);
    expect(buffer.length).toBe(3);
    expect(contents(buffer)).toEqual([
      [8000, 8],
      [9000, 9],
      [10000, 10],
    ]);
  });

  it('stays bounded over a long run (memory stays flat)', () => {
    const buffer = new SeriesBuffer(3600);
    for (let i = 0; i < 100_000; i++) buffer.push(i, i);
    expect(buffer.length).toBe(3600);
    expect(buffer.firstTs).toBe(100_000 - 3600);
    expect(buffer.lastTs).toBe(99_999);
  });

  it('replaces a point with the same timestamp instead of duplicating it', () => {
    const buffer = new SeriesBuffer(5);
    buffer.push(1000, 1);
    buffer.push(1000, 2);
    expect(contents(buffer)).toEqual([[1000, 2]]);
  });

  it('inserts late points in time order', () => {
    const buffer = new SeriesBuffer(5);
    buffer.push(1000, 1);
    buffer.push(3000, 3);
    buffer.push(2000, 2);
    expect(contents(buffer).map(([t]) => t)).toEqual([1000, 2000, 3000]);
  });

  it('inserts into a full wrapped ring and drops the oldest', () => {
    const buffer = new SeriesBuffer(4);
    for (const t of [10, 20, 30, 40, 50, 60]) buffer.push(t, t);
    buffer.push(45, 45);
    expect(contents(buffer).map(([t]) => t)).toEqual([40, 45, 50, 60]);
    expect(buffer.push(5, 5)).toBe(false);
  });

  it('fills a gap from history without duplicating overlapping points', () => {
    const buffer = new SeriesBuffer(100);
    buffer.push(1000, 1);
    buffer.push(2000, 2);
    buffer.push(6000, 6); // live data after a reconnect
    buffer.merge([2000, 3000, 4000, 5000, 6000], [2, 3, 4, 5, 6]); // the acknowledgement's history
    expect(contents(buffer).map(([t]) => t)).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    expect(countGaps(buffer, 0, 1500)).toBe(0);
  });

  it('merges history newer than everything held by appending', () => {
    const buffer = new SeriesBuffer(3);
    buffer.push(1, 1);
    buffer.merge([2, 3, 4, 5], [2, 3, 4, 5]);
    expect(contents(buffer).map(([t]) => t)).toEqual([3, 4, 5]);
  });

  it('keeps only the newest points when merged history overflows', () => {
    const buffer = new SeriesBuffer(4);
    buffer.push(50, 50);
    buffer.merge([10, 20, 30, 40, 60], [1, 2, 3, 4, 6]);
    expect(contents(buffer).map(([t]) => t)).toEqual([30, 40, 50, 60]);
  });

  it('finds the window start and counts gaps', () => {
    const buffer = new SeriesBuffer(10);
    for (const t of [0, 1000, 2000, 9000, 10_000]) buffer.push(t, 0);
    expect(buffer.lowerBound(1500)).toBe(2);
    expect(countGaps(buffer, 0, 3000)).toBe(1);
    expect(countGaps(buffer, 9000, 3000)).toBe(0);
  });

  it('resizes keeping the newest points', () => {
    const buffer = new SeriesBuffer(10);
    for (let i = 0; i < 10; i++) buffer.push(i, i);
    buffer.resize(3);
    expect(contents(buffer).map(([t]) => t)).toEqual([7, 8, 9]);
    buffer.resize(5);
    buffer.push(10, 10);
    buffer.push(11, 11);
    expect(contents(buffer).map(([t]) => t)).toEqual([7, 8, 9, 10, 11]);
  });

  it('bumps its version on change only', () => {
    const buffer = new SeriesBuffer(3);
    const v0 = buffer.version;
    buffer.push(1, 1);
    expect(buffer.version).toBeGreaterThan(v0);
    const v1 = buffer.version;
    buffer.push(1, 1);
    expect(buffer.version).toBe(v1);
  });
});
