import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles from the base up to the max and starts over after reset', () => {
    const sut = new Backoff(1000, 30_000, () => 0.5); // no jitter
    expect([1, 2, 3, 4, 5, 6, 7].map(() => sut.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    sut.reset();
    expect(sut.next()).toBe(1000);
  });

  it('jitters by at most 20 % and never beyond the max', () => {
    expect(new Backoff(1000, 30_000, () => 0).next()).toBe(800);
    expect(new Backoff(1000, 30_000, () => 0.999).next()).toBe(1200);
    const capped = new Backoff(20_000, 30_000, () => 0.999);
    capped.next();
    expect(capped.next()).toBe(30_000);
  });
});
