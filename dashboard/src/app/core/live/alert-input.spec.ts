import type { AlertEvent } from '@pulse/protocol/core';
import { alertEvent } from '../../testing/alerts';
import { ALERT_WARN_INTERVAL_MS, AlertInput } from './alert-input';

/** As a gateway built before `kind` (2026-12-06) sends `event`: without it. */
function older(event: AlertEvent): Partial<AlertEvent> {
  const copy: Partial<AlertEvent> = { ...event };
  delete copy.kind;
  return copy;
}

describe('AlertInput', () => {
  it('reads an older gateway’s events without kind (a page nginx moved to one mid-upgrade), the kind from their words or fields', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const input = new AlertInput();
    const hot = alertEvent({ id: 'a', kind: 'threshold', metric: 't' });
    const gone = alertEvent({
      id: 'b',
      kind: 'offline',
      metric: null,
      value: null,
      threshold: null,
    });
    // A no-data rule on one metric: fields like a threshold's, words of its own.
    const quiet = alertEvent({
      id: 'c',
      kind: 'nodata',
      metric: 't',
      ruleName: 'Quiet',
      message: 'Quiet: no t for 10 min',
      value: 600_000,
      threshold: 300_000,
    });
    expect(input.list([older(hot), older(gone), older(quiet)], 'GET /api/alerts')).toEqual([
      hot,
      gone,
      quiet,
    ]);
    expect(input.one(older(hot), 'an acknowledgement')).toEqual(hot);
    expect(input.refused).toBe(0);
    // A wrong kind is still refused.
    expect(input.one({ ...hot, kind: 'magic' }, 'an alert delta')).toBeNull();
    expect(input.refused).toBe(1);
    warn.mockRestore();
  });

  describe('warnings of malformed events, at most one per interval', () => {
    let warn: jest.SpyInstance;
    beforeEach(() => {
      jest.useFakeTimers({ now: Date.UTC(2026, 11, 7) });
      warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => {
      warn.mockRestore();
      jest.useRealTimers();
    });
    const bad = { ...alertEvent(), severity: 'dire' };

    it('reports the count held back when the interval ends, though no refusal follows', async () => {
      const input = new AlertInput();
      input.list([bad], 'GET /api/alerts');
      expect(warn).toHaveBeenCalledTimes(1);
      // A burst within the interval: held back, not lost.
      input.list([bad, bad, bad], 'GET /api/alerts/history');
      expect(warn).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(ALERT_WARN_INTERVAL_MS);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[1][0]).toBe(
        '[live] ignored 3 more malformed alert events since the last warning ' +
          '(the last from GET /api/alerts/history, bad severity)',
      );
      expect(input.refused).toBe(4);
      // Nothing held: no timer left running, and nothing more said.
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(5 * ALERT_WARN_INTERVAL_MS);
      expect(warn).toHaveBeenCalledTimes(2);
    });

    it('says at most one line per interval while refusals go on', async () => {
      const input = new AlertInput();
      for (let s = 0; s < 35; s++) {
        input.one(bad, 'an alert delta');
        await jest.advanceTimersByTimeAsync(1_000);
      }
      await jest.advanceTimersByTimeAsync(ALERT_WARN_INTERVAL_MS);
      // 35 s of refusals and the interval after them: a line at 0, 10, 20 and 30 s, the count at 40.
      expect(warn).toHaveBeenCalledTimes(5);
      // Every refusal is told: the first of a line alone, the others in the counts.
      const told = (line: string) => {
        const flushed = /ignored (\d+) more/.exec(line);
        if (flushed) return Number(flushed[1]);
        const more = /\(\+(\d+) more/.exec(line);
        return 1 + (more ? Number(more[1]) : 0);
      };
      expect(warn.mock.calls.reduce((n, [line]) => n + told(String(line)), 0)).toBe(35);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('leaves no timer when the app is torn down', () => {
      const input = new AlertInput();
      input.one(bad, 'an alert delta');
      input.one(bad, 'an alert delta');
      expect(jest.getTimerCount()).toBe(1);
      input.ngOnDestroy();
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
