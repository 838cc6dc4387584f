import { backoffDelay, BackoffOptions } from './backoff';

const options: BackoffOptions = { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.5 };

describe('backoffDelay', () => {
  it('doubles per attempt without jitter', () => {
    const noJitter = { ...options, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 0.9, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
  });

  it('never exceeds the cap', () => {
    expect(backoffDelay(20, 0.999, options)).toBeLessThanOrEqual(30_000);
    expect(backoffDelay(1000, 1, options)).toBe(30_000);
  });

  it('spreads retries over the upper half of the delay (equal jitter)', () => {
    expect(backoffDelay(3, 0, options)).toBe(2000);
    expect(backoffDelay(3, 0.5, options)).toBe(3000);
    expect(backoffDelay(3, 0.9999, options)).toBe(4000);
  });

  it('treats odd inputs safely', () => {
    expect(backoffDelay(0, 0.5, options)).toBe(750);
    expect(backoffDelay(2, -1, options)).toBe(1000);
    expect(backoffDelay(2, 7, options)).toBe(2000);
  });
});
