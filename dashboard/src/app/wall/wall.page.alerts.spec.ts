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

  it('takes the border off the tile of a device whose alert cleared with nobody acknowledging it, and mutes its strip line', async () => {
    const { el, socket, settle } = await render();
    const alert = alertEvent({ id: 'x', deviceId: 'a' });
    socket().server.alerts([alert, alertEvent({ id: 'y', deviceId: 'b', severity: 'warning' })]);
    await settle();
    const tile = (id: string) =>
      el.querySelector(`.wall-tile[data-device-id=${id}]`) as HTMLElement;
    expect([tile('a').dataset['alert'], tile('b').dataset['alert']]).toEqual([
      'critical',
      'warning',
    ]);
    socket().server.alert({ ...alert, state: 'cleared', clearedAt: T0 + 1, updatedAt: T0 + 1 });
    await settle();
    expect(tile('a').className).not.toContain('alert-');
    expect(tile('a').dataset['alert']).toBeUndefined();
    expect(tile('b').dataset['alert']).toBe('warning');
    // Not in the banner; in the strip, muted, until someone acknowledges it.
    expect(el.querySelector('[data-testid=wall-alert-banner]')).toBeNull();
    const strip = el.querySelector('[data-testid=wall-alert-strip]') as HTMLElement;
    expect(strip.classList).toContain('muted');
    expect(strip.textContent).toContain('CLEARED');
    expect(strip.textContent).not.toContain('CRITICAL');
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

  it('puts the folded line and the acknowledged strip in the header, covering neither it nor the tiles', async () => {
    const { el, socket, settle } = await render();
    const critical = alertEvent({ id: 'x', deviceId: 'a', message: 'temperature 80 > 50' });
    socket().server.alerts([
      acknowledged(critical, 'ana', T0),
      alertEvent({ id: 'y', deviceId: 'b', severity: 'major', message: 'vibration 9 > 4' }),
    ]);
    await settle();
    jest.advanceTimersByTime(BANNER_FULL_MS);
    await settle();
    expect(el.querySelector('.wall-overlays')?.children).toHaveLength(0);
    const header = el.querySelector('header.wall-top') as HTMLElement;
    const line = header.querySelector('[data-testid=wall-alert-banner]');
    expect(line?.getAttribute('data-folded')).toBe('true');
    expect(line?.textContent).toContain('vibration 9 > 4');
    expect(header.querySelector('[data-testid=wall-alert-strip]')?.textContent).toContain(
      'ack by ana',
    );
    // The connection lost: its banner covers the header, the folded line goes below it.
    socket().server.disconnected('transport close');
    await settle();
    const overlays = [...(el.querySelector('.wall-overlays')?.children ?? [])];
    expect(overlays.map((node) => node.getAttribute('data-testid'))).toEqual([
      'wall-banner',
      'wall-alert-banner',
    ]);
  });

  it('shows the whole of a long message of its loudest alert on a row of its own, a step smaller, the banner bounded', async () => {
    const { el, socket, settle } = await render();
    const long =
      'Boiler room north, primary circuit overheating: temperature 80.2 > 50 for 30 s (sensor 2)';
    socket().server.alerts([
      alertEvent({ id: 'x', deviceId: 'a', message: long, raisedAt: T0 }),
      alertEvent({ id: 'y', deviceId: 'b', severity: 'major', message: long }),
    ]);
    await settle();
    const lines = [...el.querySelectorAll('[data-testid=wall-alert-banner] .wall-alert-line')];
    expect(lines.map((l) => l.getAttribute('data-alert-id'))).toEqual(['x', 'y']);
    // The first line: its message on a row of its own (styles.css: the banner's width, the
    // next step of its type, two rows at most, an ellipsis only beyond), not cut by the page.
    expect(lines[0].classList).toContain('msg-below-small');
    expect(lines[0].querySelector('.wall-alert-message')?.textContent?.trim()).toBe(long);
    // The other lines stay one row each: the banner's height is bounded.
    expect(lines[1].className).not.toContain('msg-');

    // A short message stays beside the device, in the big type; a longer one gets its own row.
    socket().server.alerts([alertEvent({ id: 'z', deviceId: 'a', message: 'temp 80 > 50' })]);
    await settle();
    const line = () => el.querySelector('[data-testid=wall-alert-banner] .wall-alert-line');
    expect(line()?.classList).toContain('msg-beside');
    socket().server.alerts([
      alertEvent({ id: 'w', deviceId: 'a', message: 'Overheating: temperature 80.2 > 50' }),
    ]);
    await settle();
    expect(line()?.classList).toContain('msg-below');
  });

  it('shows an unacknowledged major in the lesser banner style', async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([alertEvent({ deviceId: 'b', severity: 'major' })]);
    await settle();
    expect(el.querySelector('[data-testid=wall-alert-banner]')?.getAttribute('data-level')).toBe(
      'major',
    );
  });

  it('names the devices of its alert lines on an explicit boards= wall, as the fleet walls do', async () => {
    // Angular (dev mode) warns that a new board re-creates every tile; not what this test is about.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { el, socket, settle } = renderWithFakeLive(WallPage, { query: { boards: 'a;b' } });
    socket().server.connected('websocket');
    await settle();
    const info = (deviceId: string, name: string) =>
      ({
        deviceId,
        status: 'online',
        lastSeen: T0,
        lastTs: T0,
        metrics: ['t'],
        meta: { name },
      }) as never;
    // The board on screen (a) names its device; b is on the next board, c on none.
    socket().subscribes[0].reply({
      ok: true,
      serverTime: T0,
      devices: [info('a', 'Boiler A')],
      history: [],
      rooms: [],
    });
    socket().server.alerts([
      alertEvent({ id: 'on-screen', deviceId: 'a' }),
      alertEvent({ id: 'next-board', deviceId: 'b' }),
      alertEvent({ id: 'off-wall', deviceId: 'c', severity: 'major' }),
    ]);
    await settle(1000);
    const named = socket().subscribes.find((s) => s.request.devices?.includes('c'));
    expect(named?.request.devices).toEqual(['a', 'b', 'c']);
    named?.reply({
      ok: true,
      serverTime: T0,
      devices: [info('a', 'Boiler A'), info('b', 'Boiler B'), info('c', 'Pump C')],
      history: [],
      rooms: [],
    });
    await settle(1000);
    const devices = [...el.querySelectorAll('.wall-alert-line .wall-alert-device')].map((d) =>
      d.textContent?.trim(),
    );
    expect(devices.sort()).toEqual(['Boiler A', 'Boiler B', 'Pump C']);
  });
});
