import { BatchedTimes } from './batched-times';

describe('BatchedTimes', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000 }));
  afterEach(() => jest.useRealTimers());

  it('writes every noted time together once flushMs has passed, the newest per key', () => {
    const writes: [string, number][][] = [];
    const times = new BatchedTimes((batch) => writes.push([...batch]), {
      flushMs: 2_000,
      failed: () => undefined,
    });
    times.note('a');
    jest.advanceTimersByTime(500);
    times.note('b');
    times.note('a');
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(1_500);
    expect(writes).toEqual([
      [
        ['a', 1_500],
        ['b', 1_500],
      ],
    ]);
    jest.advanceTimersByTime(10_000);
    expect(writes).toHaveLength(1); // nothing pending, nothing written
  });

  it('writes at once at `max` pending, and leaves out what was forgotten', () => {
    const writes: string[][] = [];
    const times = new BatchedTimes((batch) => writes.push([...batch.keys()]), {
      flushMs: 2_000,
      max: 3,
      failed: () => undefined,
    });
    times.note('a');
    times.note('b');
    times.forget('a');
    times.note('c');
    expect(writes).toEqual([]);
    times.note('d');
    expect(writes).toEqual([['b', 'c', 'd']]);
  });

  it('reports a write that fails instead of throwing it (out of a timer the process would end)', () => {
    const failed: unknown[] = [];
    const times = new BatchedTimes(
      () => {
        throw new Error('SQLITE_BUSY: database is locked');
      },
      { flushMs: 2_000, failed: (error) => failed.push(error) },
    );
    times.note('a');
    expect(() => jest.advanceTimersByTime(2_000)).not.toThrow();
    expect(failed).toEqual([new Error('SQLITE_BUSY: database is locked')]);
    // Dropped, not retried for ever; a flush asked for (a list) reports it the same way.
    jest.advanceTimersByTime(10_000);
    expect(failed).toHaveLength(1);
    times.note('b');
    expect(() => times.flush()).not.toThrow();
    expect(failed).toHaveLength(2);
  });
});
