/*
 * `Date.now()` pinned for the tests of the enclosing `describe` and moved by hand, with real
 * timers (Angular's render hooks and promises run as in the app; jest's fake timers would hold
 * them). Test-only: production code must never import it; it replaces Date.now and nothing else.
 */

/** Date.now() returns the clock's `now`, from `start` at each test; restored after each. */
export function useDateNow(start: number): { now: number } {
  const clock = { now: start };
  const realNow = Date.now;
  beforeEach(() => {
    clock.now = start;
    Date.now = () => clock.now;
  });
  afterEach(() => {
    Date.now = realNow;
  });
  return clock;
}
