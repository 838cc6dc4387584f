import { TransportChoice, TransportChoiceEnv, pageTransportEnv } from './transport-choice';
import { WEBSOCKET_GUARD_MS, readTransportRecord, writeTransportRecord } from './transport-memory';

const ORIGIN = 'https://pulse.example';
const T0 = Date.UTC(2026, 11, 2, 6, 0, 0);

function env(forced: string | null = null): TransportChoiceEnv {
  return { storage: localStorage, origin: ORIGIN, forced, now: () => Date.now() };
}
const verdict = () => readTransportRecord(localStorage, ORIGIN)?.websocket ?? null;

/** A choice where the websocket worked before, its first attempt started. */
function attemptWhereItWorked() {
  writeTransportRecord(localStorage, ORIGIN, 'worked', T0 - 1000);
  const choice = new TransportChoice(env());
  const giveUp = jest.fn();
  choice.attemptStarted(giveUp);
  return { choice, giveUp };
}

describe('TransportChoice', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    localStorage.clear();
  });
  afterEach(() => jest.useRealTimers());

  it('tries a first visit websocket-first and remembers that it worked', () => {
    const first = new TransportChoice(env());
    expect(first.transports).toEqual(['websocket', 'polling']);
    first.connected('websocket');
    expect(readTransportRecord(localStorage, ORIGIN)).toEqual({ websocket: 'worked', at: T0 });
  });

  it('starts a blocked origin over long-polling and learns when its upgrade succeeds again', () => {
    writeTransportRecord(localStorage, ORIGIN, 'blocked', T0 - 86_400_000);
    const choice = new TransportChoice(env());
    expect(choice.transports).toEqual(['polling', 'websocket']);
    choice.connected('polling');
    expect(verdict()).toBe('blocked'); // polling-first says nothing until the upgrade does
    choice.upgraded('websocket');
    expect(verdict()).toBe('worked');
    expect(new TransportChoice(env()).transports).toEqual(['websocket', 'polling']);
  });

  it('remembers a failed background upgrade', () => {
    writeTransportRecord(localStorage, ORIGIN, 'worked', T0 - 1000);
    const choice = new TransportChoice(env());
    choice.lost(true); // a failed websocket-first attempt: polling first from now on
    choice.connected('polling');
    expect(verdict()).toBe('worked');
    choice.upgradeFailed();
    expect(verdict()).toBe('blocked');
    expect(new TransportChoice(env()).transports).toEqual(['polling', 'websocket']);
  });

  it('hands a silent websocket-first attempt to long-polling after the guard', () => {
    const { choice, giveUp } = attemptWhereItWorked();
    jest.advanceTimersByTime(WEBSOCKET_GUARD_MS - 1);
    expect(giveUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(giveUp).toHaveBeenCalledTimes(1);
    expect(choice.transports).toEqual(['polling', 'websocket']);
    expect(verdict()).toBe('blocked');
    // The polling-first attempt that follows is not guarded.
    choice.attemptStarted(giveUp);
    jest.advanceTimersByTime(60_000);
    expect(giveUp).toHaveBeenCalledTimes(1);
  });

  it('does not give up on a websocket that connected in time', () => {
    const { choice, giveUp } = attemptWhereItWorked();
    jest.advanceTimersByTime(WEBSOCKET_GUARD_MS - 100);
    choice.connected('websocket');
    jest.advanceTimersByTime(10_000);
    expect(giveUp).not.toHaveBeenCalled();
    expect(choice.transports).toEqual(['websocket', 'polling']);
    expect(readTransportRecord(localStorage, ORIGIN)).toEqual({
      websocket: 'worked',
      at: T0 + WEBSOCKET_GUARD_MS - 100,
    });
  });

  it('counts a websocket-first connection that landed on polling as blocked', () => {
    writeTransportRecord(localStorage, ORIGIN, 'worked', T0 - 1000);
    new TransportChoice(env()).connected('polling');
    expect(verdict()).toBe('blocked');
  });

  it('switches to long-polling first after a failed websocket-first attempt, not after a lost connection', () => {
    writeTransportRecord(localStorage, ORIGIN, 'worked', T0 - 1000);
    const choice = new TransportChoice(env());
    expect(choice.lost(false)).toBe(false);
    expect(choice.transports[0]).toBe('websocket');
    expect(choice.lost(true)).toBe(true);
    expect(choice.transports).toEqual(['polling', 'websocket']);
    expect(choice.lost(true)).toBe(false); // already polling-first: same socket, new attempt
    // A server that is down says nothing about the websocket.
    expect(verdict()).toBe('worked');
  });

  it('neither reads nor writes memory when ?transport= forces one', () => {
    writeTransportRecord(localStorage, ORIGIN, 'blocked', T0 - 1000);
    const choice = new TransportChoice(env('websocket'));
    expect(choice.transports).toEqual(['websocket']);
    const giveUp = jest.fn();
    choice.attemptStarted(giveUp);
    jest.advanceTimersByTime(30_000);
    expect(giveUp).not.toHaveBeenCalled();
    choice.connected('websocket');
    expect(verdict()).toBe('blocked');
  });

  it('reads the page: its origin, ?transport= and its localStorage', () => {
    window.history.replaceState({}, '', '/?transport=polling');
    const page = pageTransportEnv(window);
    window.history.replaceState({}, '', '/');
    expect(page).toMatchObject({ origin: 'http://localhost', forced: 'polling' });
    expect(page.storage).toBe(localStorage);
    expect(pageTransportEnv(null)).toMatchObject({ storage: null, origin: '', forced: null });
  });
});
