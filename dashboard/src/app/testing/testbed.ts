import { EnvironmentProviders, Provider, Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ActivatedRoute, convertToParamMap } from '@angular/router';
import { of } from 'rxjs';
import { LIVE_SOCKET_FACTORY, RANDOM } from '../core/live/live-socket';
import { LiveService } from '../core/live/live.service';
import { FakeLiveSocket, fakeSocketFactory } from './fake-live-socket';

/*
 * The TestBed set-up the component and service specs share: a fake clock, a fake live socket
 * the test plays the gateway through, and a render helper that drives fake time and change
 * detection by hand. Test-only: production code must never import it. Of its own it replaces
 * only the socket factory, the random source and (on request) the route; it must not fake
 * LiveService or the stores, so the specs exercise the app's own wiring.
 */

/** The fixed "now" of the specs (2026-11-22 01:00 UTC). */
export const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);

/** Fake timers at `now` for every test of the enclosing `describe`, and a fresh TestBed after each. */
export function useFakeClock(now = T0): void {
  beforeEach(() => jest.useFakeTimers({ now }));
  afterEach(() => {
    TestBed.resetTestingModule();
    jest.useRealTimers();
  });
}

/**
 * Configure TestBed with a fake live socket (and a fixed random, so reconnect delays are
 * exact) plus `providers` (`provideRouter(...)` and the like among them: TestBed takes
 * environment providers too). Returns the live socket (the last one created).
 */
export function provideFakeLive(
  providers: (Provider | EnvironmentProviders)[] = [],
): () => FakeLiveSocket {
  const sockets = fakeSocketFactory();
  TestBed.configureTestingModule({
    providers: [
      { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory },
      { provide: RANDOM, useValue: () => 0.5 },
      ...providers,
    ],
  });
  return sockets.last;
}

/** An ActivatedRoute whose query parameters are `query` (pages configured by URL). */
export function routeWithQuery(query: Record<string, string>): Provider {
  return { provide: ActivatedRoute, useValue: { queryParamMap: of(convertToParamMap(query)) } };
}

/** Start the live service and play the gateway accepting the connection. */
export function connectLive(socket: () => FakeLiveSocket): LiveService {
  const live = TestBed.inject(LiveService);
  live.start();
  socket().server.connected('websocket');
  return live;
}

/**
 * {@link provideFakeLive} (with the page's URL `query` and more `providers`), then
 * {@link renderWithFakeTime}: a page over a fake gateway, on fake time.
 */
export function renderWithFakeLive<T>(
  component: Type<T>,
  options: {
    query?: Record<string, string>;
    providers?: (Provider | EnvironmentProviders)[];
    passes?: number;
  } = {},
) {
  const route = options.query ? [routeWithQuery(options.query)] : [];
  const socket = provideFakeLive([...route, ...(options.providers ?? [])]);
  return { ...renderWithFakeTime(component, options.passes), socket };
}

/**
 * Create `component` and a `settle(ms)` that advances fake time by `ms`, then runs change
 * detection (whenStable would wait on the faked timers), `passes` times over.
 */
export function renderWithFakeTime<T>(component: Type<T>, passes = 1) {
  const fixture = TestBed.createComponent(component);
  fixture.detectChanges();
  const el = fixture.nativeElement as HTMLElement;
  const settle = async (ms = 0) => {
    for (let i = 0; i < passes; i++) {
      await jest.advanceTimersByTimeAsync(i === 0 ? ms : 0);
      fixture.detectChanges();
    }
  };
  return { fixture, el, settle };
}
