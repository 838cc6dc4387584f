import { LIMITS } from './limits';
import { isDecodedReading, PEER_FUTURE_SKEW_MS } from './reading-check';

describe('isDecodedReading: a reading another gateway sends on', () => {
  const now = 1_800_000_000_000;
  const latest = now + PEER_FUTURE_SKEW_MS;
  const ok = { deviceId: 'sim-001', ts: now, values: { temperature: 21.5, humidity: 40 } };

  it('takes a reading as the decoder makes it, up to the skew ahead', () => {
    expect(isDecodedReading(ok, latest)).toBe(true);
    expect(isDecodedReading({ ...ok, ts: latest }, latest)).toBe(true);
    expect(isDecodedReading({ ...ok, ts: LIMITS.minTimestampMs }, latest)).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'sim-001'],
    ['an array', [ok]],
    ['a field the decoder never sets', { ...ok, range: {} }],
    ['no values', { deviceId: 'sim-001', ts: now }],
    ['a device id outside the contract', { ...ok, deviceId: '../etc' }],
    ['a device id of 65 characters', { ...ok, deviceId: 'd'.repeat(65) }],
    ['a ts that is text', { ...ok, ts: 'now' }],
    ['a ts before 2000', { ...ok, ts: 1 }],
    ['a ts past the skew', { ...ok, ts: latest + 1 }],
    ['Infinity', { ...ok, values: { t: Infinity } }],
    ['a value that is text', { ...ok, values: { t: '40' } }],
    ['values that are a list', { ...ok, values: [40] }],
    ['no metric', { ...ok, values: {} }],
    ['a metric name outside the contract', { ...ok, values: { 'a/b': 1 } }],
    ['__proto__ as a metric', { ...ok, values: JSON.parse('{"__proto__": 1}') }],
    [
      'more metrics than a reading holds',
      {
        ...ok,
        values: Object.fromEntries(
          Array.from({ length: LIMITS.maxMetricsPerReading + 1 }, (_, i) => [`m${i}`, i]),
        ),
      },
    ],
  ])('refuses %s', (_what, reading) => {
    expect(isDecodedReading(reading, latest)).toBe(false);
  });
});
