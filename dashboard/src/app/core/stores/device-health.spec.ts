import { deviceHealth, HealthInput, silentSeconds, staleAfterMs } from './device-health';

const base: HealthInput = {
  status: 'online',
  lastHeard: 100_000,
  cadenceMs: 1000,
  intervalMs: null,
};

describe('device health', () => {
  it('is live while the device keeps to its cadence', () => {
    expect(deviceHealth(base, 105_000, 10_000)).toBe('live');
  });

  it('is stale after the stale threshold of silence', () => {
    expect(deviceHealth(base, 110_000, 10_000)).toBe('live');
    expect(deviceHealth(base, 110_001, 10_000)).toBe('stale');
  });

  it('waits 3 × the cadence for slow devices', () => {
    const slow = { ...base, cadenceMs: 60_000 };
    expect(staleAfterMs(slow, 10_000)).toBe(180_000);
    expect(deviceHealth(slow, 100_000 + 170_000, 10_000)).toBe('live');
    expect(deviceHealth(slow, 100_000 + 181_000, 10_000)).toBe('stale');
  });

  it('uses the meta interval until a cadence is observed', () => {
    expect(staleAfterMs({ cadenceMs: null, intervalMs: 20_000 }, 10_000)).toBe(60_000);
  });

  it('reports a Last Will offline distinctly from silence', () => {
    expect(deviceHealth({ ...base, status: 'offline' }, 100_500, 10_000)).toBe('offline');
    expect(deviceHealth({ ...base, status: 'offline' }, 999_999, 10_000)).toBe('offline');
  });

  it('is waiting before anything was heard', () => {
    expect(deviceHealth({ ...base, lastHeard: null }, 100_000, 10_000)).toBe('waiting');
    expect(silentSeconds({ lastHeard: null }, 1)).toBeNull();
    expect(silentSeconds({ lastHeard: 1000 }, 43_999)).toBe(42);
  });
});
