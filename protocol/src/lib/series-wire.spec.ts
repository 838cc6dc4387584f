import { fromWire, MetricSeries, SubscribeRequestSchema, toTimeDeltas, wirePoints } from '../index';

const AT = Date.UTC(2026, 11, 6, 5, 0, 0);

/** What a client receives: the JSON text of the series, parsed. */
const overTheWire = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const series = (t: number[], v = t.map((_, i) => 20 + i / 10)): MetricSeries => ({
  deviceId: 'sim-0001',
  metric: 'temperature',
  t,
  v,
});

describe('history with time deltas (subscribe {timeDeltas: true})', () => {
  it('reads back to the same series, through JSON', () => {
    const plain = series([AT, AT + 1000, AT + 1000, AT + 2500, AT + 61_000]);
    const wire = overTheWire(toTimeDeltas(plain));
    expect(wire).toEqual({
      deviceId: 'sim-0001',
      metric: 'temperature',
      dt: [AT, 1000, 0, 1500, 58_500],
      v: plain.v,
    });
    expect(fromWire(wire)).toEqual(plain);
  });

  it('is exact for points out of order, and for fractional milliseconds of today', () => {
    // Ingest keeps whole milliseconds; should a fraction ever come, neighbours this close (within
    // a factor of two) still subtract exactly. Then a late point: a negative step.
    const t = [1796532711622.123, 1796532712622.457, 1796532713622.001, 1796532700000.5];
    const back = fromWire(overTheWire(toTimeDeltas(series(t))));
    for (let i = 0; i < t.length; i++) expect(Object.is(back.t[i], t[i])).toBe(true);
  });

  it('is exact over a long random series (every step read back bit for bit)', () => {
    let at = AT;
    const t: number[] = [];
    for (let i = 0; i < 5000; i++) {
      at += Math.floor(Math.random() * 5000) + (i % 7 === 0 ? Math.random() : 0);
      t.push(at);
    }
    expect(fromWire(overTheWire(toTimeDeltas(series(t)))).t).toEqual(t);
  });

  it('is about half the bytes for a sparkline of 1 Hz readings', () => {
    const t = Array.from({ length: 60 }, (_, i) => AT + i * 5000 + (i % 2) * 4000);
    const v = t.map((_, i) => Math.round((21 + Math.sin(i)) * 100) / 100);
    const plain = JSON.stringify(series(t, v));
    const delta = JSON.stringify(toTimeDeltas(series(t, v)));
    expect(delta.length).toBeLessThan(plain.length * 0.6);
  });

  it('leaves a plain series as it is, and counts points of either form', () => {
    const plain = series([AT, AT + 1]);
    expect(fromWire(plain)).toBe(plain);
    expect(wirePoints(plain)).toBe(2);
    expect(wirePoints(toTimeDeltas(plain))).toBe(2);
    expect(fromWire(toTimeDeltas(series([])))).toEqual(series([]));
  });

  it('cuts a damaged answer where it stops being numbers', () => {
    const cut = { deviceId: 'd', metric: 'm', dt: [AT, 1000, null, 1000], v: [1, 2, 3, 4] };
    expect(fromWire(cut as never)).toEqual({
      deviceId: 'd',
      metric: 'm',
      t: [AT, AT + 1000],
      v: [1, 2],
    });
    const short = { deviceId: 'd', metric: 'm', dt: [AT, 1000, 1000], v: [1] };
    expect(fromWire(short)).toEqual({ deviceId: 'd', metric: 'm', t: [AT], v: [1] });
    expect(fromWire({ deviceId: 'd', metric: 'm', dt: 'x', v: [1] } as never).t).toEqual([]);
    expect(fromWire(null as never)).toEqual({ deviceId: '', metric: '', t: [], v: [] });
  });

  it('is asked for with a boolean', () => {
    expect(SubscribeRequestSchema.parse({ devices: ['d'], timeDeltas: true })).toEqual({
      devices: ['d'],
      timeDeltas: true,
    });
    expect(SubscribeRequestSchema.safeParse({ timeDeltas: 'yes' }).success).toBe(false);
  });
});
