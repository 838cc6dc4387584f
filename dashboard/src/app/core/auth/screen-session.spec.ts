import { TestBed } from '@angular/core/testing';
import { connectLive, provideFakeLive } from '../../testing/testbed';
import { DisplayTokenStore, PAGE_RELOAD } from './display-token';
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
      const status: number = gateway.status;
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
    expect(socket().options.auth?.()).toEqual({ token: 'display-token', alerts: 'http' });
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

  describe('after a reload (a wall screen restarting at night)', () => {
    /** A first page load that reads the board, then the reload: a fresh injector, same storage. */
    async function readOnceThenReload(): Promise<ScreenSession> {
      const first = TestBed.inject(ScreenSession);
      first.start();
      await settle();
      expect(first.self()).toEqual(BOARD);
      TestBed.resetTestingModule();
      socket = provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      return TestBed.inject(ScreenSession);
    }

    it('has its board from the first render, before the gateway answers', async () => {
      const sut = await readOnceThenReload();
      expect(sut.self()).toEqual(BOARD);
      expect(sut.pending()).toBe(false);
    });

    it('keeps showing its board when the gateway is unreachable at the reload', async () => {
      const sut = await readOnceThenReload();
      gateway.status = 'down';
      sut.start();
      await settle();
      expect(sut.self()).toEqual(BOARD);
      expect(reload).not.toHaveBeenCalled();
    });

    it('takes the board the gateway answers over the one it remembered', async () => {
      const sut = await readOnceThenReload();
      const moved = { ...BOARD, board: 'cols=4' };
      gateway.fetch.mockImplementationOnce(async () => ({
        ok: true,
        status: 200,
        json: async () => moved,
      }));
      sut.start();
      await settle();
      expect(sut.self()).toEqual(moved);
      TestBed.resetTestingModule();
      provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      expect(TestBed.inject(ScreenSession).self()).toEqual(moved);
    });

    it('forgets the board with the token once revoked', async () => {
      const sut = await readOnceThenReload();
      gateway.status = 401;
      sut.start();
      await settle();
      expect(reload).toHaveBeenCalledTimes(1);
      expect(Object.keys(localStorage)).toEqual([]);
    });

    it('remembers nothing for a new pairing: a new token starts without a board', async () => {
      await readOnceThenReload();
      TestBed.inject(DisplayTokenStore).set('another-token');
      TestBed.resetTestingModule();
      provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      const sut = TestBed.inject(ScreenSession);
      expect(sut.self()).toBeNull();
      expect(sut.pending()).toBe(true);
    });

    it('remembers a whole-fleet screen (no group scope) as well', async () => {
      const fleet = { id: 's2', name: 'Lobby', board: 'view=heatmap', groups: null };
      gateway.fetch.mockImplementationOnce(async () => ({
        ok: true,
        status: 200,
        json: async () => fleet,
      }));
      const first = TestBed.inject(ScreenSession);
      first.start();
      await settle();
      TestBed.resetTestingModule();
      provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      expect(TestBed.inject(ScreenSession).self()).toEqual(fleet);
    });

    it('keeps only what a board is, whatever else the gateway answers', async () => {
      gateway.fetch.mockImplementationOnce(async () => ({
        ok: true,
        status: 200,
        json: async () => ({ ...BOARD, expiresAt: 1, note: 'later field' }),
      }));
      const first = TestBed.inject(ScreenSession);
      first.start();
      await settle();
      expect(JSON.parse(localStorage.getItem('pulse.screenBoard') ?? 'null')).toEqual(BOARD);
    });

    it("never draws a board read with another tab's token", async () => {
      // Two tabs paired in turn: this one still holds its old token when it next reads its board.
      const first = TestBed.inject(ScreenSession);
      localStorage.setItem('pulse.displayToken', 'the-other-tabs-token');
      first.start();
      await settle();
      expect(first.self()).toEqual(BOARD); // its own, for this page
      expect(localStorage.getItem('pulse.screenBoard')).toBeNull();
      TestBed.resetTestingModule();
      provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      expect(TestBed.inject(ScreenSession).pending()).toBe(true);
    });

    it('ignores a board left without a token', () => {
      localStorage.removeItem('pulse.displayToken');
      localStorage.setItem('pulse.screenBoard', JSON.stringify(BOARD));
      expect(TestBed.inject(ScreenSession).self()).toBeNull();
    });

    it('waits for the gateway after a reload when storage refused the board', async () => {
      const setItem = jest.spyOn(Storage.prototype, 'setItem').mockImplementation((key) => {
        if (key === 'pulse.screenBoard') throw new DOMException('full', 'QuotaExceededError');
      });
      try {
        const first = TestBed.inject(ScreenSession);
        first.start();
        await settle();
        expect(first.self()).toEqual(BOARD);
      } finally {
        setItem.mockRestore();
      }
      TestBed.resetTestingModule();
      provideFakeLive([{ provide: PAGE_RELOAD, useValue: reload }]);
      expect(TestBed.inject(ScreenSession).pending()).toBe(true);
    });

    it.each([
      ['not JSON', '{'],
      ['not a board', JSON.stringify({ id: 's1', board: 7 })],
      ['groups not a list of names', JSON.stringify({ ...BOARD, groups: [1] })],
    ])('ignores a stored board that is %s', (_, stored) => {
      localStorage.setItem('pulse.screenBoard', stored);
      const sut = TestBed.inject(ScreenSession);
      expect(sut.self()).toBeNull();
      expect(sut.pending()).toBe(true);
    });
  });
});
