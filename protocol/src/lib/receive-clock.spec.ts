import { decodeDeviceMessage } from './decode';
import { ReceiveClock } from './receive-clock';

describe('ReceiveClock: receive time of readings without ts', () => {
  it('gives a batch without ts distinct, ordered stamps from the receive time', () => {
    const clock = new ReceiveClock();
    const now = Date.UTC(2026, 0, 1);
    const payload = JSON.stringify([
      { values: { a: 1 } },
      { ts: now - 5000, values: { a: 2 } },
      { a: 3 },
    ]);
    const decoded = decodeDeviceMessage('devices/d1/telemetry', payload, now, undefined, clock);
    expect(decoded.kind === 'telemetry' && decoded.readings.map((r) => r.ts)).toEqual([
      now,
      now - 5000,
      now + 1,
    ]);
  });

  it('never repeats a stamp for one device within a millisecond, other devices unaffected', () => {
    const clock = new ReceiveClock();
    const stamps = Array.from({ length: 20 }, () => clock.next('d1', 100));
    expect(stamps).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(clock.next('d2', 100)).toBe(100);
    // Once the clock has passed the last stamp, stamps are the receive time again.
    expect(clock.next('d1', 500)).toBe(500);
  });

  it('a rejected reading takes no stamp', () => {
    const clock = new ReceiveClock();
    const payload = JSON.stringify([{ values: { a: 'x' } }, { values: { a: 1 } }]);
    const decoded = decodeDeviceMessage('devices/d1/telemetry', payload, 7, undefined, clock);
    expect(decoded.kind === 'telemetry' && decoded.readings[0].ts).toBe(7);
  });

  it('forgets devices whose last stamp is in the past once the map doubles', () => {
    const clock = new ReceiveClock();
    for (let i = 0; i < 1023; i++) clock.next(`d${i}`, 1);
    clock.next('late', 2);
    expect(clock.size).toBeLessThan(10);
  });
});
