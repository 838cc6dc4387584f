import { TestBed } from '@angular/core/testing';
import { connectLive, provideFakeLive } from '../../testing/testbed';
import { PAGE_RELOAD } from './display-token';
import { ScreenSession } from './screen-session';

const BOARD = { id: 's1', name: 'Hall wall', board: 'cols=2', groups: ['hall-a'] };

/** Answers `/api/screens/me` with `status` (BOARD on 200), or fails like an unreachable gateway. */
function fakeGateway() {
  const gateway = {
    status: 200 as number | 'down',
    seen: [] as { url: string; authorization: string | null }[],
    fetch: jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      gateway.seen.push({
        url: String(input),
        authorization: new Headers(init?.headers).get('authorization'),
      });
      if (gateway.status === 'down') throw new TypeError('Failed to fetch');
      const status = gateway.status;
      return { ok: status < 400, status, json: async () => (status === 200 ? BOARD : {}) };
    }),
  };
  return gateway;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

// Real: ScreenSession, DisplayTokenStore, FETCH, LiveService and the stores; fake: the socket and
// the network (globalThis.fetch).
describe('ScreenSession (a paired wall screen)', () => {
  let gateway: ReturnType<typeof fakeGateway>;
  let reload: jest.Mock;
  let socket: ReturnType<typeof provideFakeLive>;
  let realFetch: typeof fetch;

  beforeEach(() => {
    localStorage.setItem('pulse.displayToken', 'display-token');
    gateway = fakeGateway();
    reload = jest.fn();
    // The app's own FETCH (it adds the token) over a fake network.
    realFetch = globalThis.fetch;
    globalThis.fetch = gateway.fetch as unknown as typeof fetch;
    socket = provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
    localStorage.clear();
    TestBed.resetTestingModule();
  });

  it('reads its board with the display token and sends the token in the socket handshake', async () => {
    const sut = TestBed.inject(ScreenSession);
    expect(sut.pending()).toBe(true);
    sut.start();
    await settle();
    expect(sut.self()).toEqual(BOARD);
    expect(sut.pending()).toBe(false);
    expect(gateway.seen[0]).toEqual({
      url: '/api/screens/me',
      authorization: 'Bearer display-token',
    });
    connectLive(socket);
    expect(socket().options.auth?.()).toEqual({ token: 'display-token' });
  });

  it('keeps the token while the gateway is unreachable, drops it and reloads once revoked (401)', async () => {
    const sut = TestBed.inject(ScreenSession);
    sut.start();
    await settle();
    connectLive(socket);

    gateway.status = 'down';
    socket().server.disconnected('transport close');
    TestBed.tick();
    await settle();
    expect(localStorage.getItem('pulse.displayToken')).toBe('display-token');
    expect(sut.self()).toEqual(BOARD);
    expect(reload).not.toHaveBeenCalled();

    gateway.status = 401;
    socket().server.connected('websocket');
    TestBed.tick();
    await settle();
    expect(localStorage.getItem('pulse.displayToken')).toBeNull();
    expect(sut.self()).toBeNull();
    expect(reload).toHaveBeenCalledTimes(1);
  });
});
