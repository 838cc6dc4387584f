import { Backoff, backoffDelay, BackoffOptions, DEFAULT_BACKOFF } from '../core';

const equalJitter: BackoffOptions = DEFAULT_BACKOFF;

describe('backoffDelay', () => {
  it('doubles per attempt without jitter', () => {
    const noJitter = { ...equalJitter, jitterMin: 1, jitterMax: 1 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 0.9, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 10_000,
    ]);
  });

  it('never exceeds the cap', () => {
    expect(backoffDelay(20, 0.999, equalJitter)).toBeLessThanOrEqual(10_000);
    expect(backoffDelay(1000, 1, equalJitter)).toBe(10_000);
    expect(backoffDelay(5000, 1, { ...equalJitter, jitterMax: 1.2 })).toBe(10_000);
  });

  it("brings a screen back within 10 s of its gateway's return, however long it was away", () => {
    for (const outageMs of [2_000, 20_000, 60_000, 3_600_000]) {
      for (const random of [0, 0.5, 0.9999]) {
        // Attempts from the disconnect on; the first one after the return connects.
        let at = 0;
        let attempt = 0;
        while (at < outageMs) at += backoffDelay(++attempt, random, DEFAULT_BACKOFF);
        expect(at - outageMs).toBeLessThanOrEqual(10_000);
      }
    }
  });

  it('spreads retries over the upper half of the delay (equal jitter)', () => {
    expect(backoffDelay(3, 0, equalJitter)).toBe(2000);
    expect(backoffDelay(3, 0.5, equalJitter)).toBe(3000);
    expect(backoffDelay(3, 0.9999, equalJitter)).toBe(4000);
  });

  it('treats odd inputs safely', () => {
    expect(backoffDelay(0, 0.5, equalJitter)).toBe(750);
    expect(backoffDelay(2, -1, equalJitter)).toBe(1000);
    expect(backoffDelay(2, 7, equalJitter)).toBe(2000);
    expect(backoffDelay(3, 0.5, { ...equalJitter, baseMs: 0 })).toBe(0);
  });
});

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
