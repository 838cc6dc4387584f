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
  it('reads an older gateway’s events without kind (a page nginx moved to one mid-upgrade), the kind from their fields', () => {
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
    expect(input.list([older(hot), older(gone)], 'GET /api/alerts')).toEqual([hot, gone]);
    expect(input.one(older(hot), 'an acknowledgement')).toEqual(hot);
    expect(input.refused).toBe(0);
    // A wrong kind is still refused.
    expect(input.one({ ...hot, kind: 'magic' }, 'an alert delta')).toBeNull();
    expect(input.refused).toBe(1);
    warn.mockRestore();
  });
});
