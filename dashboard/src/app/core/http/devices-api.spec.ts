import { TestBed } from '@angular/core/testing';
import { FETCH } from './alerts-api';
import { DevicesApi } from './devices-api';

/** The gateway's HTTP side answering every request with `answer` (through JSON, as on the wire). */
function setup(answer: (url: URL, init?: RequestInit) => Promise<Response>) {
  const asked: { url: URL; init?: RequestInit }[] = [];
  TestBed.configureTestingModule({
    providers: [
      {
        provide: FETCH,
        useValue: (input: RequestInfo | URL, init?: RequestInit) => {
          const url = new URL(String(input), 'http://pulse.test');
          asked.push({ url, init });
          return answer(url, init);
        },
      },
    ],
  });
  return { api: TestBed.inject(DevicesApi), asked };
}

const ok = (body: unknown) =>
  Promise.resolve({
    ok: true,
    status: 200,
    json: async () => JSON.parse(JSON.stringify(body)),
  } as Response);

const series = (metric: string, t: number[], v: number[], deviceId = 'd 1') => ({
  deviceId,
  metric,
  t,
  v,
});

describe('DevicesApi.window (a device page’s window, decision 0050)', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('asks for every metric since `from`, spread over the range, and hands on the signal', async () => {
    const { api, asked } = setup(() =>
      ok({ deviceId: 'd 1', series: [series('a', [1, 2], [3, 4]), series('b', [], [])] }),
    );
    const abort = new AbortController();
    expect(await api.window('d 1', { from: 1000.7, maxPoints: 3600 }, abort.signal)).toEqual([
      series('a', [1, 2], [3, 4]),
      series('b', [], []),
    ]);
    expect(asked[0].url.pathname).toBe('/api/devices/d%201/history');
    expect(Object.fromEntries(asked[0].url.searchParams)).toEqual({
      from: '1000',
      maxPoints: '3600',
      pick: 'spread',
    });
    expect(asked[0].init?.signal).toBe(abort.signal);
  });

  it.each([
    ['a refusal', () => Promise.resolve({ ok: false, status: 503 } as Response)],
    [
      'a network error or an abort',
      () => Promise.reject(new DOMException('aborted', 'AbortError')),
    ],
    ['a body without series', () => ok({ deviceId: 'd 1' })],
    [
      'another device’s series',
      () => ok({ deviceId: 'd 1', series: [series('a', [1], [2], 'x')] }),
    ],
    ['times and values of different lengths', () => ok({ series: [series('a', [1, 2], [3])] })],
    ['a series without its points', () => ok({ series: [{ deviceId: 'd 1', metric: 'a' }] })],
    [
      'a body that is not JSON',
      () =>
        Promise.resolve({
          ok: true,
          status: 200,
          json: async () => JSON.parse('<html>'),
        } as Response),
    ],
  ])('reads nothing from %s (the window then comes in the subscribe)', async (_what, answer) => {
    const { api } = setup(answer);
    expect(await api.window('d 1', { from: 0, maxPoints: 10 })).toBeNull();
  });
});
