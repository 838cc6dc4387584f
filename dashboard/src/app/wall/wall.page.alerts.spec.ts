import { TestBed } from '@angular/core/testing';
import { ActivatedRoute, convertToParamMap } from '@angular/router';
import { of } from 'rxjs';
import { LIVE_SOCKET_FACTORY, RANDOM } from '../core/live/live-socket';
import { acknowledged, alertEvent } from '../testing/alerts';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { WallPage } from './wall.page';

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);

describe('WallPage alerts', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => {
    TestBed.resetTestingModule();
    jest.useRealTimers();
  });

  async function render() {
    const sockets = fakeSocketFactory();
    TestBed.configureTestingModule({
      providers: [
        { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory },
        { provide: RANDOM, useValue: () => 0.5 },
        {
          provide: ActivatedRoute,
          useValue: { queryParamMap: of(convertToParamMap({ devices: 'a,b' })) },
        },
      ],
    });
    const fixture = TestBed.createComponent(WallPage);
    fixture.detectChanges();
    const el = fixture.nativeElement as HTMLElement;
    const settle = async (ms = 0) => {
      await jest.advanceTimersByTimeAsync(ms);
      fixture.detectChanges();
    };
    sockets.last().server.connected('websocket');
    sockets.last().server.device({
      deviceId: 'a',
      status: 'online',
      lastSeen: T0,
      lastTs: T0,
      metrics: ['temperature'],
      meta: { name: 'Boiler A' },
    } as never);
    await settle();
    return { el, socket: sockets.last, settle };
  }

  it('puts an unacknowledged critical in a full-width banner, shrinks it to a strip once acknowledged', async () => {
    const { el, socket, settle } = await render();
    expect(el.querySelector('[data-testid=wall-alert-banner]')).toBeNull();
    const alert = alertEvent({
      id: 'x',
      deviceId: 'a',
      message: 'temperature 80 > 50',
      raisedAt: T0 - 5000,
    });
    socket().server.alerts([alert]);
    await settle();
    const banner = el.querySelector('[data-testid=wall-alert-banner]') as HTMLElement;
    expect(banner.getAttribute('data-level')).toBe('critical');
    const parts = [...banner.querySelectorAll('.wall-alert-line > span')].map((span) =>
      span.textContent?.trim(),
    );
    expect(parts).toEqual(['critical', 'Boiler A', 'temperature 80 > 50', '5 s ago']);
    const tile = el.querySelector('.wall-tile[data-device-id=a]') as HTMLElement;
    expect(tile.classList).toContain('alert-critical');
    expect(el.querySelector('.wall-tile[data-device-id=b]')?.className).not.toContain('alert-');

    socket().server.alert(acknowledged(alert, 'ana', T0 + 1000));
    await settle();
    expect(el.querySelector('[data-testid=wall-alert-banner]')).toBeNull();
    expect(el.querySelector('[data-testid=wall-alert-strip]')?.textContent).toContain('ack by ana');
    expect(tile.classList).toContain('alert-critical'); // still open: the border stays

    socket().server.alert({
      ...acknowledged(alert, 'ana', T0 + 1000),
      state: 'cleared',
      clearedAt: T0 + 2000,
      updatedAt: T0 + 2000,
      active: false,
    });
    await settle();
    expect(el.querySelector('[data-testid=wall-alert-strip]')).toBeNull();
    expect(tile.className).not.toContain('alert-');
  });

  it('shows an unacknowledged major in the lesser banner style', async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([alertEvent({ deviceId: 'b', severity: 'major' })]);
    await settle();
    expect(el.querySelector('[data-testid=wall-alert-banner]')?.getAttribute('data-level')).toBe(
      'major',
    );
  });
});
