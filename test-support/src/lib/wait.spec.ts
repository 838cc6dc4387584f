import { sleep, waitFor } from './wait';

describe('waitFor', () => {
  it('returns the first truthy value of the check, awaiting async checks', async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? { calls } : null), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('names what it waited for and how long when it times out', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 50, intervalMs: 5, message: 'the broker' }),
    ).rejects.toThrow(/^timed out after 50 ms waiting for the broker$/);
  });

  it('quotes the last error a throwing check gave, and keeps polling through errors', async () => {
    let calls = 0;
    const check = () => {
      calls++;
      throw new Error(`refused #${calls}`);
    };
    const failure = waitFor(check, { timeoutMs: 60, intervalMs: 5 });
    await expect(failure).rejects.toThrow(/waiting for condition: Error: refused #\d+$/);
    expect(calls).toBeGreaterThan(1);
  });

  it('polls no faster than its interval', async () => {
    let calls = 0;
    await expect(
      waitFor(() => ++calls > 1000, { timeoutMs: 100, intervalMs: 40 }),
    ).rejects.toThrow();
    expect(calls).toBeLessThanOrEqual(5);
  });
});

describe('sleep', () => {
  it('lets at least the given time pass', async () => {
    const start = Date.now();
    await sleep(30);
    expect(Date.now() - start).toBeGreaterThanOrEqual(29);
  });
});
