import { TestBed } from '@angular/core/testing';
import { fakeAuthServer, FakeAuthOptions } from '../../testing/fake-auth-server';
import { connectLive, provideFakeLive } from '../../testing/testbed';
import { FETCH } from '../http/alerts-api';
import { AuthRequestError, BUSY_RETRIES, parseAuthState } from './auth-api';
import { VIEWED_KEY } from '../live/early-start';
import { RANDOM } from '../live/live-socket';
import { AuthService } from './auth.service';

describe('AuthService', () => {
  afterEach(() => TestBed.resetTestingModule());

  function setup(options: FakeAuthOptions = {}) {
    const server = fakeAuthServer(options);
    const socket = provideFakeLive([{ provide: FETCH, useValue: server.fetch }]);
    const sut = TestBed.inject(AuthService);
    return { sut, server, socket };
  }

  it('reads who is signed in, the anonymous role and the first-run flag from /api/auth/me', async () => {
    const { sut, server } = setup({ user: { username: 'ana', role: 'operator' } });
    await sut.ready();
    expect(sut.user()).toEqual({ username: 'ana', role: 'operator' });
    expect(sut.role()).toBe('operator');
    expect(sut.canAcknowledge()).toBe(true);
    expect(sut.isAdmin()).toBe(false);
    expect(sut.setupRequired()).toBe(false);
    expect(server.fetch.mock.calls[0][1]).toMatchObject({ credentials: 'same-origin' });
  });

  it('gives an anonymous visitor the anonymous role: viewer watches, none sees nothing', async () => {
    const viewer = setup({
      anonymousRole: 'viewer',
      accounts: { a: { password: 'p', role: 'admin' } },
    });
    await viewer.sut.ready();
    expect([viewer.sut.role(), viewer.sut.canView(), viewer.sut.canAcknowledge()]).toEqual([
      'viewer',
      true,
      false,
    ]);
    TestBed.resetTestingModule();
    const none = setup({
      anonymousRole: 'none',
      accounts: { a: { password: 'p', role: 'admin' } },
    });
    await none.sut.ready();
    expect([none.sut.role(), none.sut.canView()]).toEqual([null, false]);
  });

  it('remembers whether the server let this browser view, so the next load connects at boot', async () => {
    localStorage.removeItem(VIEWED_KEY);
    const viewer = setup({
      anonymousRole: 'viewer',
      accounts: { a: { password: 'p', role: 'admin' } },
    });
    await viewer.sut.ready();
    expect(localStorage.getItem(VIEWED_KEY)).toBe('1');
    TestBed.resetTestingModule();
    const none = setup({
      anonymousRole: 'none',
      accounts: { a: { password: 'p', role: 'admin' } },
    });
    await none.sut.ready();
    expect(localStorage.getItem(VIEWED_KEY)).toBe('0');
  });

  it('applies only the newest answer of who is signed in: an older one that arrives late is ignored', async () => {
    // A retry's /api/auth/me leaves before the sign-in and answers after it (a gateway coming
    // back): its "anonymous" must not sign the person out of the page.
    const server = fakeAuthServer({
      anonymousRole: 'viewer',
      accounts: { bo: { password: 'pw-of-bo', role: 'admin' } },
    });
    let holdNext = false;
    let release = (): void => undefined;
    const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
      const answer = server.fetch(input, init); // answered as things stand when it leaves
      if (holdNext && String(input).endsWith('/api/auth/me')) {
        holdNext = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
      return answer;
    };
    provideFakeLive([{ provide: FETCH, useValue: fetchFn }]);
    const sut = TestBed.inject(AuthService);
    await sut.ready();
    holdNext = true;
    const late = sut.refresh();
    await sut.login('bo', 'pw-of-bo');
    expect(sut.user()?.username).toBe('bo');
    release();
    await late;
    expect(sut.user()?.username).toBe('bo');
    expect(sut.isAdmin()).toBe(true);
  });

  it('signs in, then opens a new live connection so the gateway sees the user', async () => {
    const { sut, socket } = setup({ accounts: { bo: { password: 'pw-of-bo', role: 'admin' } } });
    await sut.ready();
    connectLive(socket);
    const before = socket();
    await expect(sut.login('bo', 'pw-of-bo')).resolves.toEqual({ username: 'bo', role: 'admin' });
    expect(sut.user()?.username).toBe('bo');
    expect(sut.isAdmin()).toBe(true);
    expect(before.disconnects).toBe(1);
    expect(socket()).not.toBe(before);
    expect(socket().connects).toBe(1);
  });

  it('says why a sign-in was refused, and keeps the visitor anonymous', async () => {
    const { sut, server } = setup({ accounts: { bo: { password: 'right', role: 'viewer' } } });
    await expect(sut.login('bo', 'wrong')).rejects.toThrow('Wrong username or password.');
    server.rateLimited = true;
    await expect(sut.login('bo', 'right')).rejects.toMatchObject({
      status: 429,
      // The gateway's Retry-After, not a minute: the login budget locks for 15 (QA found the
      // page saying "wait a minute" while every try for the next 14 was refused again).
      message: 'Too many attempts; try again in 15 minutes.',
    });
    expect(sut.user()).toBeNull();
  });

  it('signs in while the gateway is busy checking other passwords by trying again, then says it is busy', async () => {
    jest.useFakeTimers();
    try {
      const { sut, server } = setup({ accounts: { bo: { password: 'right', role: 'viewer' } } });
      const logins = () => server.calls.filter((call) => call === 'POST /api/auth/login').length;
      // More sign-ins at once than the gateway checks and lets wait: told "busy" (503, Retry-After).
      server.busy = 2;
      const signedIn = sut.login('bo', 'right');
      await jest.advanceTimersByTimeAsync(4000); // 1.5 s, then 2.25 s (RANDOM is 0.5 here)
      await expect(signedIn).resolves.toEqual({ username: 'bo', role: 'viewer' });
      expect(logins()).toBe(3);
      // Busy for longer than a person waits at a form: said in words, not "HTTP 503".
      server.busy = 100;
      const refused = sut.login('bo', 'right');
      refused.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(refused).rejects.toMatchObject({
        status: 503,
        message: 'Pulse is busy checking other sign-ins; try again in a moment.',
      });
      expect(logins()).toBe(3 + 1 + BUSY_RETRIES);
      expect(sut.user()).toEqual({ username: 'bo', role: 'viewer' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('tries a busy sign-in again no sooner than Retry-After, then at a moment of its own: people refused together do not come back in step', async () => {
    jest.useFakeTimers();
    try {
      // How long after a busy answer (Retry-After: 1) the sign-in is sent again, for one draw.
      const retryAfter = async (random: number) => {
        const server = fakeAuthServer({ accounts: { bo: { password: 'right', role: 'viewer' } } });
        const sent: number[] = [];
        const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
          if (String(input) === '/api/auth/login') sent.push(Date.now());
          return server.fetch(input, init);
        };
        provideFakeLive([
          { provide: FETCH, useValue: fetch },
          { provide: RANDOM, useValue: () => random },
        ]);
        server.busy = 1;
        const signedIn = TestBed.inject(AuthService).login('bo', 'right');
        await jest.advanceTimersByTimeAsync(5000);
        await expect(signedIn).resolves.toEqual({ username: 'bo', role: 'viewer' });
        TestBed.resetTestingModule();
        return sent[1] - sent[0];
      };
      // Never sooner than the server asked; spread over the second after it by the draw.
      expect(await retryAfter(0)).toBe(1000);
      expect(await retryAfter(0.5)).toBe(1500);
      expect(await retryAfter(0.99)).toBe(1990);
    } finally {
      jest.useRealTimers();
    }
  });

  it('asks who is signed in again until the gateway answers, backing off with jitter, and starts over once it has', async () => {
    jest.useFakeTimers();
    try {
      // When /api/auth/me went out, for one draw of the random source, with the gateway
      // unreachable for the first `down` requests.
      const asked = async (random: number, down: number) => {
        const server = fakeAuthServer({ user: { username: 'ana', role: 'operator' } });
        const sent: number[] = [];
        const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
          if (String(input) !== '/api/auth/me') return server.fetch(input, init);
          sent.push(Date.now());
          return sent.length <= down
            ? Promise.reject(new TypeError('Failed to fetch'))
            : server.fetch(input, init);
        };
        provideFakeLive([
          { provide: FETCH, useValue: fetch },
          { provide: RANDOM, useValue: () => random },
        ]);
        const sut = TestBed.inject(AuthService);
        const t0 = Date.now();
        await sut.ready();
        await jest.advanceTimersByTimeAsync(120_000);
        const since = (t: number) => sent.filter((at) => at >= t).map((at) => at - t);
        return { sut, since, t0, goDown: () => (down = Infinity) };
      };
      // Down for five requests: 4 s, then twice as long each time up to 30 s (-20 % at this draw).
      const slow = await asked(0, 5);
      expect(slow.since(slow.t0)).toEqual([0, 4000, 12_000, 28_000, 52_000, 76_000]);
      expect(slow.sut.user()).toEqual({ username: 'ana', role: 'operator' });
      expect(slow.sut.error()).toBeNull();
      // Answered: the next failure starts from the shortest wait again.
      slow.goDown();
      const failedAt = Date.now();
      await slow.sut.refresh();
      await jest.advanceTimersByTimeAsync(4000);
      expect(slow.since(failedAt)).toEqual([0, 4000]);
      TestBed.resetTestingModule();
      // Another screen, another draw: it asks at its own moments, not in step.
      const other = await asked(0.99, 1);
      expect(other.since(other.t0)).toEqual([0, 5980]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('signs out and reconnects as anonymous', async () => {
    const { sut, socket } = setup({ user: { username: 'ana', role: 'operator' } });
    await sut.ready();
    connectLive(socket);
    const before = socket();
    await sut.logout();
    expect(sut.user()).toBeNull();
    expect(before.disconnects).toBe(1);
    expect(socket()).not.toBe(before);
  });

  it('creates the first admin, with the setup code when the server asks for one', async () => {
    const { sut } = setup({ setupCode: 'K7-93Q' });
    await sut.ready();
    expect(sut.setupRequired()).toBe(true);
    await expect(sut.setup('admin', 'long-password')).rejects.toMatchObject({ status: 403 });
    await sut.setup('admin', 'long-password', 'K7-93Q');
    expect(sut.user()).toEqual({ username: 'admin', role: 'admin' });
    expect(sut.setupRequired()).toBe(false);
    await expect(sut.setup('other', 'long-password')).rejects.toMatchObject({ status: 409 });
  });

  it('treats a server without /api/auth (404) as open: everybody watches and acknowledges', async () => {
    const server = fakeAuthServer();
    const fetch404 = jest.fn(async () => ({ ok: false, status: 404, json: async () => ({}) }));
    provideFakeLive([{ provide: FETCH, useValue: fetch404 }]);
    const sut = TestBed.inject(AuthService);
    await sut.ready();
    expect([sut.enabled(), sut.canView(), sut.canAcknowledge()]).toEqual([false, true, true]);
    expect(server.calls).toEqual([]);
  });
});

describe('parseAuthState', () => {
  it('accepts the contract and refuses anything that would guess a permission', () => {
    expect(parseAuthState({ user: null, anonymousRole: 'none', setupRequired: false })).toEqual({
      user: null,
      anonymousRole: 'none',
      setupRequired: false,
    });
    for (const bad of [
      null,
      'x',
      { user: null, anonymousRole: 'operator', setupRequired: false },
      { user: { username: 'a', role: 'root' }, anonymousRole: 'none', setupRequired: false },
      { user: { role: 'admin' }, anonymousRole: 'none', setupRequired: false },
    ])
      expect(() => parseAuthState(bad)).toThrow(AuthRequestError);
  });
});
