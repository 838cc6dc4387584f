import { BucketPlan, WINDOWS, bucketPlan, isBucketed, windowFromParam } from './chart-windows';

const HOUR = 3_600_000;

/** The gateway's bucket width for a plan (docs/decisions/0021: range / buckets, rounded up to its rollup). */
function gatewayWidth(plan: BucketPlan): number {
  const buckets = plan.maxPoints / 2;
  const raw = (plan.to - plan.from) / buckets;
  const align = raw < 60_000 ? 1 : raw < HOUR ? 60_000 : HOUR;
  const origin = Math.floor(plan.from / align) * align;
  return Math.max(align, Math.ceil((plan.to - origin) / buckets / align) * align);
}

describe('device view windows', () => {
  it('offers 6h, 24h and 7d beside the live windows, and reads them from the URL', () => {
    expect(WINDOWS.map((w) => w.label)).toEqual(['1m', '5m', '15m', '1h', '6h', '24h', '7d']);
    expect(windowFromParam('24h').ms).toBe(24 * HOUR);
    expect(windowFromParam('7d').ms).toBe(7 * 24 * HOUR);
    // A stale or hand-edited bookmark falls back to the default window.
    expect(windowFromParam('2y').label).toBe('5m');
    expect(windowFromParam(undefined).label).toBe('5m');
    expect(WINDOWS.filter((w) => isBucketed(w.ms)).map((w) => w.label)).toEqual([
      '6h',
      '24h',
      '7d',
    ]);
  });

  it('asks for about one bucket per pixel column, bounded, on the gateway’s own bucket edges', () => {
    const now = Date.UTC(2026, 11, 2, 9, 17, 23, 456);
    for (const w of WINDOWS.filter((x) => isBucketed(x.ms))) {
      for (const width of [50, 300, 1100, 5000]) {
        const plan = bucketPlan(w.ms, width, now);
        const buckets = plan.maxPoints / 2;
        expect(buckets).toBeGreaterThanOrEqual(Math.min(100, w.ms / plan.bucketMs));
        expect(buckets).toBeLessThanOrEqual(2001);
        // The whole window, ending now, and not more than one bucket before it.
        expect(plan.from).toBeLessThanOrEqual(now - w.ms);
        expect(plan.from).toBeGreaterThan(now - w.ms - plan.bucketMs);
        expect(plan.to).toBeGreaterThan(now);
        expect(plan.from % plan.bucketMs).toBe(0);
        // The gateway's buckets over this range are exactly the chart's.
        expect(gatewayWidth(plan)).toBe(plan.bucketMs);
      }
    }
    // 24 h on an 1100 px plot: 2 min buckets (79 s would be one per pixel; rounded up to the ladder).
    expect(bucketPlan(24 * HOUR, 1100, now).bucketMs).toBe(120_000);
    expect(bucketPlan(7 * 24 * HOUR, 1100, now).bucketMs).toBe(10 * 60_000);
  });
});
