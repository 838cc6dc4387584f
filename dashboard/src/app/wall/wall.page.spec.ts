import { T0, renderWithFakeLive, useFakeClock } from '../testing/testbed';
import { WallPage } from './wall.page';

describe('WallPage', () => {
  useFakeClock();

  async function render(query: Record<string, string>) {
    return renderWithFakeLive(WallPage, { query });
  }

  it('watches exactly the devices of the URL and lays them out in the asked columns', async () => {
    const { el, socket, settle } = await render({ devices: 'a,b', cols: '2', window: '1m' });
    socket().server.connected('websocket');
    await settle();
    // The newest point of each series in the subscribe; the window over HTTP (decision 0051).
    expect(socket().subscribes[0].request).toMatchObject({
      devices: ['a', 'b'],
      history: true,
      maxPoints: 1,
      since: T0 - 60_000,
    });
    expect([...el.querySelectorAll('app-wall-tile')].length).toBe(2);
    expect((el.querySelector('.wall-grid') as HTMLElement).style.gridTemplateColumns).toBe(
      'repeat(2, minmax(0, 1fr))',
    );
  });

  it('turns a silent device STALE after the stale threshold, showing the seconds', async () => {
    const { el, socket, settle } = await render({ devices: 'a', stale: '5' });
    socket().server.connected('websocket');
    socket().server.readings([{ deviceId: 'a', ts: T0, values: { temperature: 21 } }]);
    await settle(1000);
    const tile = () => el.querySelector('.wall-tile') as HTMLElement;
    expect(tile().getAttribute('data-health')).toBe('live');
    await settle(6000);
    expect(tile().getAttribute('data-health')).toBe('stale');
    expect(el.querySelector('[data-testid=stale-label]')?.textContent?.trim()).toMatch(
      /^STALE [67] s$/,
    );
  });

  it('shows a full-width banner with the countdown when the connection is lost', async () => {
    const { el, socket, settle } = await render({ devices: 'a' });
    socket().server.connected('websocket');
    await settle();
    expect(el.querySelector('[data-testid=wall-banner]')).toBeNull();
    socket().server.disconnected('transport close');
    await settle(1000);
    const banner = el.querySelector('[data-testid=wall-banner]');
    expect(banner?.textContent?.trim()).toMatch(/^CONNECTION LOST — reconnecting (in \d s|now)$/);
  });

  it('tells broker-down apart from a lost connection', async () => {
    const { el, socket, settle } = await render({ devices: 'a' });
    socket().server.connected('websocket');
    socket().server.gateway({ broker: 'disconnected', serverTime: T0, flushMs: 50 });
    await settle(1000);
    const banner = el.querySelector('[data-testid=wall-banner]');
    expect(banner?.getAttribute('data-kind')).toBe('broker-down');
    expect(banner?.textContent).toContain('BROKER DOWN');
  });

  it('rotates boards by the clock', async () => {
    // Angular (dev mode) warns that a new board re-creates every tile: that is the point here.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { el, socket, settle } = await render({ boards: 'a;b', rotate: '10' });
    socket().server.connected('websocket');
    await settle();
    const shown = () => el.querySelector('.wall-tile')?.getAttribute('data-device-id');
    const first = shown();
    await settle(10_000);
    expect(shown()).not.toBe(first);
    expect(el.querySelector('.wall-board')?.textContent).toMatch(/board [12] \/ 2/);
  });
});
