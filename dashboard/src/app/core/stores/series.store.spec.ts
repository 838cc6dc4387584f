import { MAX_SERIES_CAPACITY, SeriesStore, capacityForWindow } from './series.store';

describe('SeriesStore capacity', () => {
  it('sizes a window from the cadence, capped', () => {
    expect(capacityForWindow(300_000, 1000)).toBe(600); // 5 min at 1 Hz (+ headroom, in steps of 300)
    expect(capacityForWindow(300_000, 100)).toBe(MAX_SERIES_CAPACITY); // 5 min at 10 Hz: 3450 -> 3600
    expect(capacityForWindow(3_600_000, 100)).toBe(MAX_SERIES_CAPACITY);
    expect(capacityForWindow(60_000, null)).toBe(300); // unknown cadence: assume 2 / s
  });

  it('grows a pinned window to hold it at the observed cadence (10 Hz: the whole 5 min, not 60 s)', () => {
    const store = new SeriesStore();
    const release = store.pinDefaultWindow(300_000);
    store.push('d1', 'm', 0, 1);
    store.noteCadence('d1', 100);
    expect(store.get('d1', 'm')?.maxPoints).toBe(MAX_SERIES_CAPACITY);
    // Jitter does not reallocate.
    const buffer = store.get('d1', 'm');
    store.noteCadence('d1', 104);
    expect(store.get('d1', 'm')).toBe(buffer);
    release();
    expect(store.get('d1', 'm')?.maxPoints).toBe(300);
  });

  it('takes the cadence from history when no live reading came yet', () => {
    const store = new SeriesStore();
    const release = store.pinWindow('d1', 300_000);
    const t = Array.from({ length: 3000 }, (_, i) => i * 100);
    store.merge({ deviceId: 'd1', metric: 'm', t, v: t.map(() => 1) });
    expect(store.get('d1', 'm')?.size).toBe(3000);
    release();
  });

  it('tells listeners when points change', () => {
    const store = new SeriesStore();
    let calls = 0;
    const stop = store.onChange(() => calls++);
    store.push('d1', 'm', 1, 1);
    store.push('d1', 'm', 1, 1); // same point: no change
    expect(calls).toBe(1);
    stop();
    store.push('d1', 'm', 2, 1);
    expect(calls).toBe(1);
  });
});
