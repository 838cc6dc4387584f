import type { AlertEvent } from '@pulse/protocol/core';
import { alertEvent } from '../../testing/alerts';
import { AlertInput } from './alert-input';

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
});
