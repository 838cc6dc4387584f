import { BUSY_BACKOFF, BUSY_RETRIES, adminRefusal, authRequest, waitInWords } from './auth-api';

/** A fetch answering 503 busy with `retryAfter` (seconds) `busy` times, then 200; `sent` holds when. */
function busyServer(busy: number, retryAfter: string) {
  const sent: number[] = [];
  const fetch = jest.fn(async () => {
    sent.push(Date.now());
    const refused = sent.length <= busy;
    return {
      ok: !refused,
      status: refused ? 503 : 200,
      headers: { get: (name: string) => (/^retry-after$/i.test(name) ? retryAfter : null) },
      json: async () => (refused ? { error: 'busy' } : { user: null }),
    } as unknown as Response;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, sent };
}

const gaps = (sent: number[]) => sent.slice(1).map((t, i) => t - sent[i]);

describe('authRequest: a request the gateway was too busy to check', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([0, 0.5, 0.999])(
    'never sends it again sooner than Retry-After, whatever the draw (%s)',
    async (random) => {
      for (const retryAfter of [1, 2, 5]) {
        const server = busyServer(BUSY_RETRIES, String(retryAfter));
        const answered = authRequest(
          server.fetch,
          'POST',
          '/api/auth/login',
          {},
          { random: () => random },
        );
        await jest.advanceTimersByTimeAsync(60_000);
        await expect(answered).resolves.toEqual({ user: null });
        for (const gap of gaps(server.sent)) {
          expect(gap).toBeGreaterThanOrEqual(retryAfter * 1000);
          expect(gap).toBeLessThanOrEqual(Math.max(BUSY_BACKOFF.maxMs, 4 * retryAfter * 1000));
        }
      }
    },
  );

  it('still spreads and grows the retries behind a longer Retry-After (a proxy says 5 s)', async () => {
    const schedule = async (random: number) => {
      const server = busyServer(BUSY_RETRIES, '5');
      const answered = authRequest(
        server.fetch,
        'POST',
        '/api/auth/login',
        {},
        {
          random: () => random,
        },
      );
      await jest.advanceTimersByTimeAsync(120_000);
      await answered;
      return gaps(server.sent);
    };
    const [low, high] = [await schedule(0), await schedule(0.999)];
    expect(low).toEqual([5000, 7500, 11250]);
    for (let i = 0; i < low.length; i++) expect(high[i]).toBeGreaterThan(low[i]);
  });

  it('waits longer at each retry, so a crowd refused together spreads further each time', async () => {
    const server = busyServer(BUSY_RETRIES, '1');
    const answered = authRequest(server.fetch, 'GET', '/api/auth/me', undefined, {
      random: () => 0,
    });
    await jest.advanceTimersByTimeAsync(60_000);
    await answered;
    expect(gaps(server.sent)).toEqual([1000, 1500, 2250]);
  });

  it('stops waiting at once when its signal aborts, and sends nothing more', async () => {
    const server = busyServer(BUSY_RETRIES, '1');
    const left = new AbortController();
    const answered = authRequest(
      server.fetch,
      'POST',
      '/api/auth/login',
      {},
      {
        signal: left.signal,
      },
    );
    answered.catch(() => undefined);
    await jest.advanceTimersByTimeAsync(500);
    left.abort();
    await expect(answered).rejects.toMatchObject({ name: 'AbortError' });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(server.sent).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});

/** What an admin page shows when its write (or read) is answered `status` with `body` (JSON). */
async function refusalShown(
  status: number,
  body: unknown,
  retries = 0,
  asked: 'write' | 'read' = 'write',
): Promise<string> {
  const fetch = jest.fn(async () => ({
    ok: false,
    status,
    headers: { get: (name: string) => (/^retry-after$/i.test(name) ? '1' : null) },
    // No JSON: a proxy's own error page (HTML) in front of a gateway that is down.
    json: async () => (body === undefined ? Promise.reject(new SyntaxError('<html>')) : body),
  })) as unknown as typeof globalThis.fetch;
  const answered = authRequest(fetch, 'POST', '/api/screens', {}, { random: () => 0 });
  answered.catch(() => undefined);
  if (retries) await jest.advanceTimersByTimeAsync(60_000);
  return answered.then(
    () => 'accepted',
    (error: unknown) => adminRefusal(error, 'manage screens', asked),
  );
}

describe('adminRefusal: a refused admin write in words', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('says the gateway is unavailable, not "HTTP 503", when it (or its proxy) says no more', async () => {
    const read = (status: number, body: unknown) => refusalShown(status, body, 0, 'read');
    expect(await read(503, undefined)).toBe(
      'The gateway is unavailable right now; try again in a moment.',
    );
    expect(await read(503, { statusCode: 503 })).toBe(
      'The gateway is unavailable right now; try again in a moment.',
    );
    // nginx in front, the gateway restarting or not answering: its 502 or 504, no sentence.
    for (const status of [502, 504])
      expect(await read(status, undefined)).toBe(
        'The gateway is unavailable right now; try again in a moment.',
      );
  });

  it('says a write a proxy answered unavailable may have been made (it timed out, or the gateway hung after it)', async () => {
    for (const status of [502, 503, 504])
      expect(await refusalShown(status, undefined)).toBe(
        'The gateway is unavailable right now; try again in a moment. ' +
          'The change may or may not have been made: look before sending it again.',
      );
  });

  it('says the gateway is busy when it still was after the retries', async () => {
    expect(await refusalShown(503, { error: 'busy' }, BUSY_RETRIES)).toBe(
      'Pulse is busy checking other sign-ins; try again in a moment.',
    );
  });

  it("keeps the gateway's own sentence for a 503 that has one (the bundled nginx's says the rest)", async () => {
    expect(await refusalShown(503, { statusCode: 503, message: 'history store unavailable' })).toBe(
      'history store unavailable',
    );
  });

  it.each([
    [401, 'Signed out: sign in again to manage screens.'],
    [403, 'Only admins manage screens.'],
  ])('words a %s for the person who asked', async (status, shown) => {
    expect(await refusalShown(status, { statusCode: status, message: 'Forbidden' })).toBe(shown);
  });
});

describe('waitInWords: a Retry-After as a person reads it', () => {
  it.each([
    [1, 'a second'],
    [40, '40 seconds'],
    [60, '60 seconds'],
    [61, '2 minutes'],
    [847, '15 minutes'],
    [900, '15 minutes'],
  ])('%s s reads "%s"', (seconds, words) => expect(waitInWords(seconds)).toBe(words));
});
