import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { By } from '@angular/platform-browser';
import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import type { DeviceInfo } from '@pulse/protocol/core';
import { DeviceStore } from '../core/stores/device.store';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { alertEvent } from '../testing/alerts';
import { viewportInjectsStyles } from './cdk-viewport-styles';
import { OverviewPage } from './overview.page';

const info = (deviceId: string, name: string, group: string): DeviceInfo => ({
  deviceId,
  status: 'online',
  lastSeen: Date.now(),
  lastTs: Date.now(),
  meta: { name, group, units: { temperature: '°C' } },
  metrics: ['temperature'],
});

describe('OverviewPage', () => {
  // jsdom has no layout: give the window (the scroller the overview uses) a screen's height.
  beforeAll(() =>
    Object.defineProperty(document.documentElement, 'clientHeight', {
      configurable: true,
      value: 900,
    }),
  );
  afterAll(() => delete (document.documentElement as { clientHeight?: number }).clientHeight);

  async function render(
    devices = [
      info('b-1', 'Boiler', 'hall-a'),
      info('p-1', 'Pump', 'hall-b'),
      info('f-1', 'Fan', 'hall-a'),
    ],
  ) {
    const sockets = fakeSocketFactory();
    TestBed.configureTestingModule({
      providers: [provideRouter([]), { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory }],
    });
    const fixture = TestBed.createComponent(OverviewPage);
    await fixture.whenStable();
    const socket = sockets.last();
    socket.server.connected('websocket');
    socket.subscribes[0].reply({
      ok: true,
      serverTime: Date.now(),
      devices,
      history: [{ deviceId: 'b-1', metric: 'temperature', t: [Date.now()], v: [71.5] }],
      rooms: ['fleet'],
    });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    TestBed.inject(DeviceStore).flush();
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    // The viewport measures the window once rendered; ask again now that rows exist.
    const viewport = fixture.debugElement.query(By.directive(CdkVirtualScrollViewport))
      .componentInstance as CdkVirtualScrollViewport;
    const settle = async () => {
      viewport.checkViewportSize();
      await fixture.whenStable();
    };
    await settle();
    const tiles = () =>
      [...el.querySelectorAll('.tile')].map((t) => t.getAttribute('data-device-id'));
    return { fixture, el, socket, tiles, settle };
  }

  it('subscribes to the whole fleet with a few minutes of history', async () => {
    const { socket } = await render();
    expect(socket.subscribes[0].request).toMatchObject({
      fleet: true,
      history: true,
      maxPoints: 300,
    });
  });

  it('shows every device as a tile, sorted by name, with its latest value and unit', async () => {
    const { el, tiles } = await render();
    expect(tiles()).toEqual(['b-1', 'f-1', 'p-1']);
    const boiler = el.querySelector('.tile[data-device-id="b-1"]') as HTMLElement;
    expect(boiler.textContent).toContain('Boiler');
    expect(boiler.textContent).toContain('hall-a');
    expect(boiler.querySelector('.metric-value')?.textContent?.trim()).toBe('71.50°C');
    expect(boiler.getAttribute('href')).toBe('/devices/b-1');
  });

  it('filters by text and by group, and groups by group', async () => {
    const { fixture, el, tiles, settle } = await render();
    const input = el.querySelector('input[type=search]') as HTMLInputElement;
    input.value = 'pu';
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    expect(tiles()).toEqual(['p-1']);

    input.value = '';
    input.dispatchEvent(new Event('input'));
    const select = el.querySelector('select') as HTMLSelectElement;
    select.value = 'hall-a';
    select.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect(tiles()).toEqual(['b-1', 'f-1']);

    select.value = '';
    select.dispatchEvent(new Event('change'));
    const groupBy = el.querySelector('input[type=checkbox]') as HTMLInputElement;
    groupBy.checked = true;
    groupBy.dispatchEvent(new Event('change'));
    await settle();
    expect(
      [...el.querySelectorAll('.section-title')].map((h) => h.textContent?.trim().split(' ')[0]),
    ).toEqual(['hall-a', 'hall-b']);
  });

  it('sorts alerting devices first, the most severe first', async () => {
    const { fixture, el, socket, tiles, settle } = await render();
    socket.server.alerts([
      alertEvent({ id: 'a', deviceId: 'p-1', severity: 'warning' }),
      alertEvent({ id: 'b', deviceId: 'f-1', severity: 'critical' }),
    ]);
    const sort = el.querySelector('[data-testid=fleet-sort]') as HTMLSelectElement;
    expect(sort.value).toBe('name');
    sort.value = 'severity';
    sort.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    await settle();
    expect(tiles()).toEqual(['f-1', 'p-1', 'b-1']);
  });

  it('keeps the DOM to the rows on screen, however large the fleet', async () => {
    const fleet = Array.from({ length: 2000 }, (_, i) =>
      info(`sim-${String(i + 1).padStart(4, '0')}`, `Env sensor ${i + 1}`, 'hall-a'),
    );
    const { el, tiles } = await render(fleet);
    expect(el.querySelector('[data-testid=device-count]')?.textContent).toContain('2000 / 2000');
    // 900 px of window plus the buffer above and below, one tile per row without layout width.
    expect(tiles().length).toBeGreaterThan(0);
    expect(tiles().length).toBeLessThan(12);
    expect(tiles()[0]).toBe('sim-0001');
  });

  it('shortens a long name in the middle and always shows the id', async () => {
    const { el } = await render([
      info('env-0042', 'Env sensor in the north wing 0042 · Hall A', 'hall-a'),
    ]);
    const tile = el.querySelector('.tile[data-device-id="env-0042"]') as HTMLElement;
    const name = tile.querySelector('.tile-name') as HTMLElement;
    // No layout in jsdom: the narrowest tile's budget, where only the number fits whole.
    expect(name.textContent?.trim()).toMatch(/^Env.*…0042…$/);
    expect(name.title).toBe('Env sensor in the north wing 0042 · Hall A (env-0042)');
    expect(tile.querySelector('[data-testid=tile-id]')?.textContent).toBe('env-0042');
  });

  it('adds no <style> element for the virtual scroller (the CSP refuses inline styles)', async () => {
    await render();
    expect(viewportInjectsStyles()).toBe(false);
    expect(document.head.querySelector('style')?.textContent ?? '').not.toContain(
      'cdk-virtual-scroll',
    );
  });
});
