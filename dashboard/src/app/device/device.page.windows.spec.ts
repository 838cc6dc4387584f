import { TestBed } from '@angular/core/testing';
import { Router, provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { FETCH } from '../core/http/alerts-api';
import { T0, provideFakeLive, useFakeClock } from '../testing/testbed';
import { DevicePage } from './device.page';

describe('DevicePage windows', () => {
  useFakeClock();

  /** The gateway over HTTP: the history asked for is recorded and answered empty. */
  function gateway() {
    const history: URL[] = [];
    const fetch = (async (url: string) => {
      const u = new URL(url, 'http://pulse.test');
      if (u.pathname.endsWith('/history')) history.push(u);
      const body = u.pathname.endsWith('/origin')
        ? { deviceId: 'd1', source: null, skipped: [] }
        : { deviceId: 'd1', series: [] };
      return { ok: true, status: 200, json: async () => body };
    }) as unknown as typeof globalThis.fetch;
    return { history, fetch };
  }

  async function open(url: string) {
    const { history, fetch } = gateway();
    const socket = provideFakeLive([
      provideRouter([{ path: 'devices/:id', component: DevicePage }], withComponentInputBinding()),
      { provide: FETCH, useValue: fetch },
    ]);
    const harness = await RouterTestingHarness.create(url);
    socket().server.connected('websocket');
    socket().server.readings([{ deviceId: 'd1', ts: T0, values: { temperature: 21 } }]);
    harness.detectChanges();
    const el = harness.routeNativeElement as HTMLElement;
    const pressed = () =>
      [...el.querySelectorAll('[data-window][aria-pressed=true]')].map((b) =>
        b.getAttribute('data-window'),
      );
    return { harness, el, history, pressed, router: TestBed.inject(Router) };
  }

  it('offers every window, 5m when the URL names none', async () => {
    const { el, pressed } = await open('/devices/d1');
    expect([...el.querySelectorAll('[data-window]')].map((b) => b.textContent?.trim())).toEqual([
      '1m',
      '5m',
      '15m',
      '1h',
      '6h',
      '24h',
      '7d',
    ]);
    expect(pressed()).toEqual(['5m']);
  });

  it('opens on the window its URL keeps (a bookmark, a wall screen)', async () => {
    const { harness, el, pressed, history } = await open('/devices/d1?window=24h');
    expect(pressed()).toEqual(['24h']);
    harness.detectChanges();
    await jest.advanceTimersByTimeAsync(1100); // the chart's first frames
    expect(el.querySelector('app-live-chart')?.getAttribute('data-range')).toBe('loaded');
    // The day's range is read over HTTP, downsampled (the live hour is read apart, once the
    // page's subscribe is answered: decision 0050).
    const day = history.filter((u) => u.searchParams.has('to')); // the hour's read has none
    expect(day).toHaveLength(1);
    expect(Number(day[0].searchParams.get('from'))).toBeLessThanOrEqual(T0 - 24 * 3_600_000);
  });

  it('puts the chosen window into the URL, keeping the other parameters', async () => {
    const { harness, el, pressed, router } = await open('/devices/d1?transport=polling');
    (el.querySelector('[data-window="7d"]') as HTMLButtonElement).click();
    await jest.advanceTimersByTimeAsync(10); // the navigation settles
    harness.detectChanges();
    expect(router.url).toBe('/devices/d1?transport=polling&window=7d');
    expect(pressed()).toEqual(['7d']);
  });
});
