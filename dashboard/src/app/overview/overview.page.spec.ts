import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import type { DeviceInfo } from '@pulse/protocol/core';
import { DeviceStore } from '../core/stores/device.store';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { fakeSocketFactory } from '../testing/fake-live-socket';
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
  async function render() {
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
      devices: [
        info('b-1', 'Boiler', 'hall-a'),
        info('p-1', 'Pump', 'hall-b'),
        info('f-1', 'Fan', 'hall-a'),
      ],
      history: [{ deviceId: 'b-1', metric: 'temperature', t: [Date.now()], v: [71.5] }],
      rooms: ['fleet'],
    });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    TestBed.inject(DeviceStore).flush();
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const tiles = () =>
      [...el.querySelectorAll('.tile')].map((t) => t.getAttribute('data-device-id'));
    return { fixture, el, socket, tiles };
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
    const { fixture, el, tiles } = await render();
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
    await fixture.whenStable();
    expect(
      [...el.querySelectorAll('.section-title')].map((h) => h.textContent?.trim().split(' ')[0]),
    ).toEqual(['hall-a', 'hall-b']);
  });
});
