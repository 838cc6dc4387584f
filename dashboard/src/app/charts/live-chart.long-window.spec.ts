import { TestBed } from '@angular/core/testing';
import { FETCH } from '../core/http/alerts-api';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { LiveService } from '../core/live/live.service';
import { SeriesStore } from '../core/stores/series.store';
import { useDateNow } from '../testing/date-now';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { ChartDataHook, LiveChartComponent } from './live-chart.component';

const HOUR = 3_600_000;

describe('LiveChartComponent, a 24h window', () => {
  const now = Date.UTC(2026, 11, 2, 9, 0, 0);
  const clock = useDateNow(now);
  afterEach(() => TestBed.resetTestingModule());

  /** The gateway's history endpoint: each bucket's lowest and highest reading, as 0021 answers. */
  function gateway(status = 200) {
    const asked: URL[] = [];
    const fetch = (async (url: string) => {
      const u = new URL(url, 'http://pulse.test');
      asked.push(u);
      // Two readings in the bucket 20 h ago and one 3 h ago: far older than the live series.
      const body = {
        deviceId: 'd1',
        series: [
          {
            deviceId: 'd1',
            metric: 'temperature',
            t: [now - 20 * HOUR + 1000, now - 20 * HOUR + 5000, now - 3 * HOUR],
            v: [10, 30, 15],
          },
        ],
      };
      return { ok: status === 200, status, json: async () => body };
    }) as unknown as typeof globalThis.fetch;
    return { asked, fetch };
  }

  async function render(fetch: typeof globalThis.fetch) {
    const sockets = fakeSocketFactory();
    TestBed.configureTestingModule({
      providers: [
        { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory },
        { provide: FETCH, useValue: fetch },
      ],
    });
    TestBed.inject(LiveService).start();
    sockets.last().server.connected('websocket');
    // The live hour the device view holds: one reading a second for the last minute.
    sockets.last().server.readings(
      Array.from({ length: 60 }, (_, i) => ({
        deviceId: 'd1',
        ts: now - (59 - i) * 1000,
        values: { temperature: 20 + (i % 3) },
      })),
    );
    const fixture = TestBed.createComponent(LiveChartComponent);
    fixture.componentRef.setInput('deviceId', 'd1');
    fixture.componentRef.setInput('metric', 'temperature');
    fixture.componentRef.setInput('windowMs', 24 * HOUR);
    await fixture.whenStable();
    const host = fixture.nativeElement as HTMLElement & ChartDataHook;
    return { fixture, host, sut: fixture.componentInstance, series: TestBed.inject(SeriesStore) };
  }

  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  it('loads its range downsampled to the chart, and draws min/max as a band', async () => {
    const { asked, fetch } = gateway();
    const { host, sut } = await render(fetch);
    sut.frame();
    expect(host.getAttribute('data-range')).toBe('loading');
    expect(asked).toHaveLength(1);
    const q = asked[0].searchParams;
    expect(asked[0].pathname).toBe('/api/devices/d1/history');
    expect(q.get('metrics')).toBe('temperature');
    // Spread over the day, not the newest readings (the API's default).
    expect(q.get('pick')).toBe('spread');
    // The whole day, on bucket edges, about one bucket per pixel column (bounded).
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    const maxPoints = Number(q.get('maxPoints'));
    expect(from).toBeLessThanOrEqual(now - 24 * HOUR);
    expect(to).toBeGreaterThan(now);
    expect(maxPoints).toBeGreaterThanOrEqual(200);
    expect(maxPoints).toBeLessThanOrEqual(4002);

    await settle();
    clock.now += 10;
    sut.frame();
    expect(host.getAttribute('data-range')).toBe('loaded');
    const { line, band } = host.pulseChartData();
    // The bucket 20 h ago: a band from 10 to 30; the one 3 h ago a single reading.
    expect(band.find(([, lo, hi]) => lo === 10 && hi === 30)).toBeDefined();
    expect(line).toContainEqual([now - 3 * HOUR, 15]);
    // The live minute is folded in at the right edge, in a few buckets, not 60 points.
    const live = band.filter(([x]) => x > now - 60_000);
    expect(live.length).toBeGreaterThan(0);
    expect(live.length).toBeLessThan(10);
    expect(Math.min(...live.map(([, lo]) => lo))).toBe(20);
    expect(Math.max(...live.map(([, , hi]) => hi))).toBe(22);
    expect(asked).toHaveLength(1); // sliding on never asks again
  });

  it('folds a new live reading into its newest bucket and keeps sliding', async () => {
    const { fetch, asked } = gateway();
    const { host, sut, series } = await render(fetch);
    sut.frame();
    await settle();
    clock.now += 10;
    sut.frame();
    const before = host.pulseChartData().band.length;
    series.push('d1', 'temperature', now + 500, 99);
    clock.now += 3000;
    sut.frame();
    const { band } = host.pulseChartData();
    expect(band.length - before).toBeLessThanOrEqual(1);
    expect(band[band.length - 1][2]).toBe(99);
    expect(asked).toHaveLength(1);
  });

  it('tries the range again when the gateway could not answer', async () => {
    const { fetch, asked } = gateway(503);
    const { host, sut } = await render(fetch);
    sut.frame();
    await settle();
    clock.now += 10;
    sut.frame();
    expect(host.getAttribute('data-range')).toBe('failed');
    // Meanwhile the live hour is still drawn.
    expect(host.pulseChartData().band.length).toBeGreaterThan(0);
    clock.now += 5_000;
    sut.frame();
    expect(asked).toHaveLength(2);
  });

  it('drops the band for a short window', async () => {
    const { fetch } = gateway();
    const { host, sut, fixture } = await render(fetch);
    sut.frame();
    await settle();
    fixture.componentRef.setInput('windowMs', 60_000);
    await fixture.whenStable();
    sut.frame();
    expect(host.getAttribute('data-range')).toBeNull();
    expect(host.pulseChartData().band).toEqual([]);
    expect(host.pulseChartData().line).toHaveLength(60);
  });
});
