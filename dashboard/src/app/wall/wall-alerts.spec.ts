import { acknowledged, alertEvent } from '../testing/alerts';
import { BANNER_FULL_MS, BannerFold, bannerMessageFit, wallAlerts } from './wall-alerts';

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);
const names = (id: string) => ({ d1: 'Boiler 1', d2: 'Pump 2' })[id] ?? id;

describe('wallAlerts', () => {
  it('shows nothing without critical or major alerts', () => {
    const view = wallAlerts(
      [alertEvent({ severity: 'minor' }), alertEvent({ severity: 'warning' })],
      T0,
      names,
    );
    expect(view).toEqual({ banner: null, strip: null });
  });

  it('shouts an unacknowledged critical with device name, message and age', () => {
    const view = wallAlerts(
      [
        alertEvent({
          id: 'a',
          deviceId: 'd1',
          message: 'temperature 80 > 50',
          raisedAt: T0 - 42_000,
        }),
      ],
      T0,
      names,
    );
    expect(view.banner).toEqual({
      level: 'critical',
      critical: 1,
      major: 0,
      more: 0,
      folded: false,
      fit: 'beside',
      lines: [
        {
          id: 'a',
          severity: 'critical',
          deviceId: 'd1',
          device: 'Boiler 1',
          message: 'temperature 80 > 50',
          age: '42 s ago',
          ack: '',
          cleared: false,
        },
      ],
    });
    expect(view.strip).toBeNull();
  });

  it('folds the banner once its newest alert has been on the wall a minute, unfolds it for a new one', () => {
    const fold = new BannerFold();
    const a = alertEvent({ id: 'a', raisedAt: T0 - 3_600_000 }); // old, but new on this wall
    const b = alertEvent({ id: 'b', severity: 'major', raisedAt: T0 });
    const view = (active: ReturnType<typeof alertEvent>[], at: number) =>
      wallAlerts(active, at, names, fold).banner?.folded;
    expect(view([a], T0)).toBe(false);
    expect(view([a], T0 + BANNER_FULL_MS - 1)).toBe(false);
    expect(view([a], T0 + BANNER_FULL_MS)).toBe(true);
    // A new loud alert: in full again, for a minute from its arrival.
    expect(view([a, b], T0 + 120_000)).toBe(false);
    expect(view([a, b], T0 + 120_000 + BANNER_FULL_MS)).toBe(true);
    // Acknowledged (no longer loud) and raised again: a new arrival.
    expect(view([b], T0 + 200_000)).toBe(true);
    expect(view([a, b], T0 + 201_000)).toBe(false);
    // Without a fold (other callers), or with fold=never, never folded.
    expect(wallAlerts([a], T0 + 10 * BANNER_FULL_MS, names).banner?.folded).toBe(false);
    expect(wallAlerts([a, b], T0 + 900_000, names, fold, null).banner?.folded).toBe(false);
    expect(wallAlerts([a, b], T0 + 900_000, names, fold, 5_000).banner?.folded).toBe(true);
  });

  it('uses the lesser major style when no critical is loud, and puts criticals first', () => {
    expect(wallAlerts([alertEvent({ severity: 'major' })], T0, names).banner?.level).toBe('major');
    const both = wallAlerts(
      [
        alertEvent({ id: 'm', severity: 'major', raisedAt: T0 }),
        alertEvent({ id: 'c', severity: 'critical', raisedAt: T0 - 1000 }),
      ],
      T0,
      names,
    );
    expect(both.banner?.level).toBe('critical');
    expect(both.banner?.lines.map((l) => l.id)).toEqual(['c', 'm']);
    expect(both.banner).toMatchObject({ critical: 1, major: 1 });
  });

  it('shrinks an acknowledged critical to the strip; an acknowledged major leaves the wall', () => {
    const c = alertEvent({ id: 'c', deviceId: 'd2' });
    const m = alertEvent({ id: 'm', severity: 'major' });
    const view = wallAlerts([acknowledged(c, 'ana', T0), acknowledged(m, 'ana', T0)], T0, names);
    expect(view.banner).toBeNull();
    expect(view.strip?.lines).toEqual([
      expect.objectContaining({ id: 'c', device: 'Pump 2', ack: 'ack by ana' }),
    ]);
  });

  it('keeps a cleared but unacknowledged critical in the strip, not the banner, muted', () => {
    const view = wallAlerts([alertEvent({ id: 'c', state: 'cleared', clearedAt: T0 })], T0, names);
    expect(view.banner).toBeNull();
    expect(view.strip?.lines[0]).toMatchObject({ ack: 'cleared, not acknowledged', cleared: true });
    expect(view.strip?.muted).toBe(true);
  });

  it('lists the acknowledged criticals still on before the cleared ones, and is not muted then', () => {
    const cleared = alertEvent({ id: 'old', state: 'cleared', clearedAt: T0, raisedAt: T0 });
    const on = acknowledged(alertEvent({ id: 'on', raisedAt: T0 - 60_000 }), 'ana', T0);
    const view = wallAlerts([cleared, on], T0, names);
    expect(view.strip?.lines.map((l) => [l.id, l.cleared])).toEqual([
      ['on', false],
      ['old', true],
    ]);
    expect(view.strip?.muted).toBe(false);
  });

  it('counts what does not fit: three lines, then "+N more"', () => {
    const many = Array.from({ length: 5 }, (_, i) =>
      alertEvent({ id: `c${i}`, raisedAt: T0 - i * 1000 }),
    );
    const view = wallAlerts(many, T0, names);
    expect(view.banner?.lines.map((l) => l.id)).toEqual(['c0', 'c1', 'c2']);
    expect(view.banner?.more).toBe(2);
  });

  it('treats a flapping critical as loud until acknowledged', () => {
    const view = wallAlerts([alertEvent({ state: 'flapping', flapping: true })], T0, names);
    expect(view.banner?.level).toBe('critical');
  });

  it('places the message of its first (loudest) line by that line’s device and message', () => {
    const long = `Cold store compressor overheating: temperature 12.5 > 8 for 5 min (door open)`;
    const view = wallAlerts(
      [
        alertEvent({ id: 'a', deviceId: 'd1', message: long, raisedAt: T0 }),
        alertEvent({ id: 'b', deviceId: 'd2', severity: 'major', message: 'no data' }),
      ],
      T0,
      names,
    );
    expect(view.banner?.lines.map((l) => l.id)).toEqual(['a', 'b']);
    expect(view.banner?.fit).toBe('below-small');
  });
});

describe('bannerMessageFit (where the full banner puts its loudest message)', () => {
  /** A message of `n` characters. */
  const message = (n: number) => 'pressure 4.2 > 4 for 30 s; '.repeat(10).slice(0, n);

  it('keeps a short message beside the severity, device and age, in the banner’s big type', () => {
    expect(bannerMessageFit('Boiler 1', 'temperature 80 > 50')).toBe('beside');
    expect(bannerMessageFit('Pump 2', 'no data for 30 s')).toBe('beside');
  });

  it('gives a longer message a row of its own across the banner, in the big type while one row holds it', () => {
    expect(bannerMessageFit('Boiler 1', 'Overheating: temperature 80.2 > 50 for 30 s')).toBe(
      'below',
    );
    // A long device name takes the room beside the head: the message goes below it.
    expect(bannerMessageFit('Cold store compressor, east hall 2', 'temp 9 > 8')).toBe('below');
    expect(bannerMessageFit('Boiler 1', message(49))).toBe('below');
  });

  it('steps a message too long for one row of the big type down to the next step, two rows of it', () => {
    expect(bannerMessageFit('Boiler 1', message(50))).toBe('below-small');
    expect(
      bannerMessageFit(
        'Boiler 1',
        'Boiler room north, primary circuit overheating: temperature 80.2 > 50 for 30 s',
      ),
    ).toBe('below-small');
  });
});
