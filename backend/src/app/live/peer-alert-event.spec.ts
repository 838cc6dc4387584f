import type { AlertEvent } from '@pulse/protocol';
import { alertEvent } from '../alerts/testing/alert-engine.harness';
import { parsePeerAlertEvent } from './peer-alert-event';

/** As a gateway built before `kind` (2026-12-06) sends `event`: without it. */
function older(event: AlertEvent): Partial<AlertEvent> {
  const copy: Partial<AlertEvent> = { ...event };
  delete copy.kind;
  return copy;
}

describe('parsePeerAlertEvent', () => {
  it('reads an older peer’s event without kind, its kind from its own words or fields', () => {
    const offline = alertEvent('o', {
      kind: 'offline',
      metric: null,
      value: null,
      threshold: null,
      message: 'dev-o is offline',
    });
    expect(parsePeerAlertEvent(older(offline))).toEqual({ ok: true, alert: offline });
    const threshold = alertEvent('t');
    expect(parsePeerAlertEvent(older(threshold))).toEqual({ ok: true, alert: threshold });
  });

  it('takes a sent kind as it is, and refuses a wrong one or another wrong field', () => {
    const rate = alertEvent('r', { kind: 'rate' });
    expect(parsePeerAlertEvent(rate)).toEqual({ ok: true, alert: rate });
    expect(parsePeerAlertEvent({ ...rate, kind: 'magic' })).toEqual({ ok: false, field: 'kind' });
    expect(parsePeerAlertEvent({ ...older(rate), count: 0 })).toEqual({
      ok: false,
      field: 'count',
    });
    expect(parsePeerAlertEvent('x')).toEqual({ ok: false, field: null });
  });
});
