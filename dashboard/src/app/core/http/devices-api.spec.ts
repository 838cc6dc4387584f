import { TestBed } from '@angular/core/testing';
import { LIMITS } from '@pulse/protocol/core';
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

describe('DevicesApi.windows (a device page’s, a wall board’s, a screen of tiles’ windows)', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('asks for every metric of the devices since `from`, time deltas, and hands on the signal', async () => {
    const deltas = { deviceId: 'd 1', metric: 'a', dt: [1, 1], v: [3, 4] };
    const { api, asked } = setup(() =>
      ok({ series: [deltas, series('b', [], []), series('c', [5], [6], 'd2')] }),
    );
    const abort = new AbortController();
    expect(
      await api.windows(['d 1', 'd2'], { from: 1000.7, maxPoints: 3600 }, abort.signal),
    ).toEqual({ series: [deltas, series('b', [], []), series('c', [5], [6], 'd2')], unread: [] });
    expect(asked[0].url.pathname).toBe('/api/history');
    expect(Object.fromEntries(asked[0].url.searchParams)).toEqual({
      devices: 'd 1,d2',
      from: '1000',
      maxPoints: '3600',
      timeDeltas: 'true',
    });
    expect(asked[0].init?.signal).toBe(abort.signal);
  });

  it('asks for more devices than one request takes in several requests at once', async () => {
    const ids = Array.from({ length: LIMITS.maxHistoryDevices + 1 }, (_, i) => `d${i}`);
    const { api, asked } = setup((url) =>
      ok({
        series: (url.searchParams.get('devices') ?? '')
          .split(',')
          .map((id) => series('a', [1], [2], id)),
      }),
    );
    const read = await api.windows(ids, { from: 0, maxPoints: 60 });
    expect(asked.map((a) => a.url.searchParams.get('devices')?.split(',').length)).toEqual([
      LIMITS.maxHistoryDevices,
      1,
    ]);
    expect(read.series.map((s) => s.deviceId)).toEqual(ids);
    expect(read.unread).toEqual([]);
  });

  it.each([
    ['a refusal', () => Promise.resolve({ ok: false, status: 503 } as Response)],
    [
      'a network error or an abort',
      () => Promise.reject(new DOMException('aborted', 'AbortError')),
    ],
    ['a body without series', () => ok({ deviceId: 'd 1' })],
    ['a device not asked for', () => ok({ series: [series('a', [1], [2], 'x')] })],
    ['times and values of different lengths', () => ok({ series: [series('a', [1, 2], [3])] })],
    [
      'time deltas and values of different lengths',
      () => ok({ series: [{ deviceId: 'd 1', metric: 'a', dt: [1], v: [] }] }),
    ],
    ['a series without its points', () => ok({ series: [{ deviceId: 'd 1', metric: 'a' }] })],
    ['a series that is not one', () => ok({ series: [null] })],
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
    expect(await api.windows(['d 1'], { from: 0, maxPoints: 10 })).toEqual({
      series: [],
      unread: ['d 1'],
    });
  });

  it('keeps the requests read when one of several is refused (the read budget’s 429): only its devices are unread', async () => {
    const ids = Array.from({ length: 2 * LIMITS.maxHistoryDevices + 1 }, (_, i) => `d${i}`);
    const refused = ids.slice(LIMITS.maxHistoryDevices, 2 * LIMITS.maxHistoryDevices);
    const { api } = setup((url) => {
      const asked = (url.searchParams.get('devices') ?? '').split(',');
      return asked[0] === refused[0]
        ? Promise.resolve({ ok: false, status: 429 } as Response)
        : ok({ series: asked.map((id) => series('a', [1], [2], id)) });
    });
    const read = await api.windows(ids, { from: 0, maxPoints: 60 });
    expect(read.series.map((s) => s.deviceId)).toEqual(ids.filter((id) => !refused.includes(id)));
    expect(read.unread).toEqual(refused);
  });
});
