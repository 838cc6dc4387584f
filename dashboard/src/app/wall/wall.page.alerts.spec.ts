import { acknowledged, alertEvent } from '../testing/alerts';
import { T0, renderWithFakeLive, useFakeClock } from '../testing/testbed';
import { BANNER_FULL_MS } from './wall-alerts';
import { WallPage } from './wall.page';

describe('WallPage alerts', () => {
  useFakeClock();

  async function render() {
    const { el, settle, socket } = renderWithFakeLive(WallPage, { query: { devices: 'a,b' } });
    socket().server.connected('websocket');
    socket().server.device({
      deviceId: 'a',
      status: 'online',
      lastSeen: T0,
      lastTs: T0,
      metrics: ['temperature'],
      meta: { name: 'Boiler A' },
    } as never);
    await settle();
    return { el, socket, settle };
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

  it('folds an unacknowledged banner into the header after a minute, above the tiles, and unfolds it for a new alert', async () => {
    const { el, socket, settle } = await render();
    const alert = alertEvent({ id: 'x', deviceId: 'a', message: 'temperature 80 > 50' });
    socket().server.alerts([alert]);
    await settle();
    const overlay = () => el.querySelector('.wall-overlays [data-testid=wall-alert-banner]');
    const header = () => el.querySelector('header [data-testid=wall-alert-banner]');
    expect([!!overlay(), !!header()]).toEqual([true, false]);
    jest.advanceTimersByTime(BANNER_FULL_MS);
    await settle();
    expect([!!overlay(), !!header()]).toEqual([false, true]);
    expect(header()?.getAttribute('data-level')).toBe('critical');
    expect(header()?.textContent).toContain('Boiler A');
    expect(header()?.textContent).toContain('temperature 80 > 50');
    socket().server.alert(alertEvent({ id: 'y', deviceId: 'b', severity: 'major' }));
    await settle();
    expect([!!overlay(), !!header()]).toEqual([true, false]);
    expect(overlay()?.getAttribute('data-count')).toBe('2');
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
