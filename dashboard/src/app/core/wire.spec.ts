import * as protocol from '@pulse/protocol';
import {
  ALERT_LIMITS,
  ALERT_SEVERITIES,
  ALERT_STATES,
  ID_MAX_LENGTH,
  isValidId,
  LIVE_NAMESPACE,
  LiveEvent,
} from './wire';

describe('wire constants restated from the protocol', () => {
  it('match the protocol at runtime', () => {
    expect(LIVE_NAMESPACE).toBe(protocol.LIVE_NAMESPACE);
    expect(LiveEvent).toEqual(protocol.LiveEvent);
    expect(ID_MAX_LENGTH).toBe(protocol.ID_MAX_LENGTH);
    expect(ALERT_SEVERITIES).toEqual(protocol.ALERT_SEVERITIES);
    expect(ALERT_STATES).toEqual(protocol.ALERT_STATES);
    expect(ALERT_LIMITS).toEqual(protocol.ALERT_LIMITS);
  });

  it.each([
    'sim-001',
    'a.b_c-D',
    'x'.repeat(64),
    '',
    'x'.repeat(65),
    'a/b',
    'a b',
    '#',
    'ü',
    42,
    null,
  ])('agree with the protocol on id %p', (id) => {
    expect(isValidId(id)).toBe(protocol.isValidId(id));
  });
});
