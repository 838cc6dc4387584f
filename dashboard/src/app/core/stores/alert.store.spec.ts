import { TestBed } from '@angular/core/testing';
import { acknowledged, alertEvent } from '../../testing/alerts';
import { AlertStore, compareAlerts } from './alert.store';

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);

describe('AlertStore', () => {
  let sut: AlertStore;
  beforeEach(() => {
    TestBed.configureTestingModule({});
    sut = TestBed.inject(AlertStore);
  });
  afterEach(() => TestBed.resetTestingModule());

  it('takes the snapshot, then applies deltas in order', () => {
    const a = alertEvent({ id: 'a', severity: 'major', deviceId: 'd1' });
    const b = alertEvent({ id: 'b', severity: 'critical', deviceId: 'd2' });
    expect(sut.snapshots()).toBe(0);
    sut.replaceAll([a, b]);
    expect(sut.snapshots()).toBe(1);
    expect(sut.active().map((x) => x.id)).toEqual(['b', 'a']);

    const c = alertEvent({ id: 'c', severity: 'warning', deviceId: 'd1' });
    sut.apply(c);
    sut.apply(acknowledged(b, 'ana', T0 + 1000));
    expect(sut.active().map((x) => [x.id, x.state])).toEqual([
      ['b', 'acknowledged'],
      ['a', 'raised'],
      ['c', 'raised'],
    ]);
    expect(sut.recent().map((x) => x.id)).toEqual(['b', 'c']);
    expect(sut.counts()).toEqual({ critical: 1, major: 1, minor: 0, warning: 1, info: 0 });
  });

  it('lists a lifecycle event once when it arrives twice (a gateway taking over a dead one re-sends the alerts it adopts)', () => {
    const raised = alertEvent({ id: 'a', deviceId: 'd1', value: 80 });
    sut.apply(raised);
    sut.apply({ ...raised });
    expect(sut.recent()).toHaveLength(1);
    expect(sut.active().map((x) => x.id)).toEqual(['a']);
    // The next event of the same alert is news, and so is the same state at a later time.
    const acked = acknowledged(raised, 'ana', T0 + 1000);
    sut.apply(acked);
    sut.apply({ ...acked });
    sut.apply({ ...acked, value: 81, updatedAt: acked.updatedAt + 1000 });
    expect(sut.recent().map((x) => [x.state, x.updatedAt - raised.updatedAt])).toEqual([
      ['acknowledged', acked.updatedAt + 1000 - raised.updatedAt],
      ['acknowledged', acked.updatedAt - raised.updatedAt],
      ['raised', 0],
    ]);
  });

  it('drops an alert once it is cleared and acknowledged (active: false), and ignores such entries in a snapshot', () => {
    const a = alertEvent({ id: 'a' });
    sut.replaceAll([a, alertEvent({ id: 'gone', active: false })]);
    expect(sut.active().map((x) => x.id)).toEqual(['a']);
    sut.apply({ ...a, state: 'cleared', clearedAt: T0 + 5, updatedAt: T0 + 5 });
    expect(sut.active()).toHaveLength(1);
    sut.apply({
      ...a,
      state: 'cleared',
      clearedAt: T0 + 5,
      acknowledgedAt: T0 + 6,
      acknowledgedBy: 'x',
      updatedAt: T0 + 6,
      active: false,
    });
    expect(sut.active()).toEqual([]);
    expect(sut.get('a')).toBeUndefined();
  });

  it('replaces everything on a new snapshot (reconnect): alerts cleared meanwhile disappear', () => {
    sut.replaceAll([alertEvent({ id: 'a' }), alertEvent({ id: 'b' })]);
    sut.replaceAll([alertEvent({ id: 'c' })]);
    expect(sut.active().map((x) => x.id)).toEqual(['c']);
  });

  it('sorts most severe first, then newest raised first', () => {
    const list = [
      alertEvent({ id: 'info-new', severity: 'info', raisedAt: T0 + 9 }),
      alertEvent({ id: 'crit-old', severity: 'critical', raisedAt: T0 }),
      alertEvent({ id: 'minor', severity: 'minor', raisedAt: T0 + 5 }),
      alertEvent({ id: 'crit-new', severity: 'critical', raisedAt: T0 + 3 }),
      alertEvent({ id: 'major', severity: 'major', raisedAt: T0 + 1 }),
    ];
    sut.replaceAll(list);
    expect(sut.active().map((x) => x.id)).toEqual([
      'crit-new',
      'crit-old',
      'major',
      'minor',
      'info-new',
    ]);
    expect([...list].sort(compareAlerts).map((x) => x.id)).toEqual(sut.active().map((x) => x.id));
  });

  it('counts by severity only the alerts whose condition is on; cleared ones wait apart to be acknowledged, listed after them', () => {
    const crit = alertEvent({ id: 'crit', severity: 'critical', deviceId: 'd1' });
    const major = alertEvent({ id: 'major', severity: 'major', deviceId: 'd2' });
    sut.replaceAll([crit, major]);
    expect(sut.counts()).toMatchObject({ critical: 1, major: 1 });
    expect(sut.toAcknowledge()).toBe(0);
    // Raised, then cleared with nobody acknowledging: on the list, in no severity count.
    sut.apply({ ...crit, state: 'cleared', clearedAt: T0 + 5, updatedAt: T0 + 5 });
    expect(sut.counts()).toEqual({ critical: 0, major: 1, minor: 0, warning: 0, info: 0 });
    expect(sut.toAcknowledge()).toBe(1);
    expect(sut.active().map((x) => x.id)).toEqual(['major', 'crit']);
    // Acknowledged and still firing: still on, counted by its severity.
    sut.apply(acknowledged(major, 'ana', T0 + 6));
    expect(sut.counts()).toMatchObject({ major: 1 });
    // Raised again before anyone acknowledged the clear (the gateway reopens the same alert).
    sut.apply({ ...crit, count: 2, raisedAt: T0 + 7, updatedAt: T0 + 7 });
    expect(sut.counts()).toMatchObject({ critical: 1, major: 1 });
    expect(sut.toAcknowledge()).toBe(0);
  });

  it('is bounded: beyond maxActive a cleared alert goes before any whose condition is on', () => {
    sut.maxActive = 2;
    sut.replaceAll([
      alertEvent({ id: 'c', severity: 'critical', state: 'cleared', clearedAt: T0 }),
      alertEvent({ id: 'w', severity: 'warning' }),
    ]);
    sut.apply(alertEvent({ id: 'i', severity: 'info' }));
    expect(sut.active().map((x) => x.id)).toEqual(['w', 'i']);
  });

  it('is bounded: beyond maxActive the least severe, oldest alerts are dropped', () => {
    sut.maxActive = 3;
    sut.replaceAll([
      alertEvent({ id: 'w', severity: 'warning' }),
      alertEvent({ id: 'c1', severity: 'critical', raisedAt: T0 }),
      alertEvent({ id: 'm', severity: 'major' }),
    ]);
    sut.apply(alertEvent({ id: 'c2', severity: 'critical', raisedAt: T0 + 1 }));
    expect(sut.active().map((x) => x.id)).toEqual(['c2', 'c1', 'm']);
    expect(sut.dropped).toBe(1);
    sut.maxRecent = 2;
    for (let i = 0; i < 5; i++) sut.apply(alertEvent({ id: `x${i}`, severity: 'info' }));
    expect(sut.recent().map((x) => x.id)).toEqual(['x4', 'x3']);
    expect(sut.active()).toHaveLength(3);
  });

  it('summarizes per device: highest severity, count and unacknowledged of the alerts on, and the cleared ones apart', () => {
    const a = alertEvent({ id: 'a', deviceId: 'd1', severity: 'minor' });
    const b = alertEvent({ id: 'b', deviceId: 'd1', severity: 'major' });
    const crit = alertEvent({ id: 'crit', deviceId: 'd1', severity: 'critical' });
    const gone = alertEvent({ id: 'gone', deviceId: 'd4', severity: 'critical' });
    sut.replaceAll([a, b, crit, gone, alertEvent({ id: 'c', deviceId: 'd2', severity: 'info' })]);
    sut.apply(acknowledged(b, 'ana', T0 + 1));
    const cleared = { state: 'cleared' as const, clearedAt: T0 + 2, updatedAt: T0 + 2 };
    sut.apply({ ...crit, ...cleared });
    sut.apply({ ...gone, ...cleared });
    expect(sut.byDevice().get('d1')).toEqual({
      severity: 'major',
      count: 2,
      unacknowledged: 1,
      cleared: 1,
    });
    expect(sut.byDevice().get('d2')).toEqual({
      severity: 'info',
      count: 1,
      unacknowledged: 1,
      cleared: 0,
    });
    // Every alert of it cleared: no severity (no colour), one to acknowledge.
    expect(sut.byDevice().get('d4')).toEqual({
      severity: null,
      count: 0,
      unacknowledged: 0,
      cleared: 1,
    });
    expect(sut.byDevice().get('d3')).toBeUndefined();
  });

  it('applies an acknowledgement answer only when nothing newer arrived for that alert', () => {
    const a = alertEvent({ id: 'a' });
    sut.replaceAll([a]);
    const acked = acknowledged(a, 'ana', T0 + 10);
    const cleared = { ...acked, state: 'cleared' as const, clearedAt: T0 + 20, updatedAt: T0 + 20 };
    sut.apply(cleared);
    sut.applyIfNewer(acked); // late answer: must not undo the clear
    expect(sut.get('a')?.state).toBe('cleared');
    const b = alertEvent({ id: 'b' });
    sut.apply(b);
    sut.applyIfNewer(acknowledged(b, 'bo', T0 + 30));
    expect(sut.get('b')?.acknowledgedBy).toBe('bo');
  });

  it('takes a storm of 5,000 events without sorting per event: the list is built once, when read', () => {
    sut.replaceAll([]);
    const sort = jest.spyOn(Array.prototype, 'sort');
    try {
      for (let i = 0; i < 5000; i++)
        sut.apply(
          alertEvent({
            id: `s${i}`,
            deviceId: `sim-${i}`,
            severity: i % 2 ? 'warning' : 'critical',
            raisedAt: T0 + i,
          }),
        );
      expect(sort).not.toHaveBeenCalled();
      expect(sut.size).toBe(5000);
      const active = sut.active();
      expect(sort).toHaveBeenCalledTimes(1);
      expect(active).toHaveLength(5000);
      expect(active[0].id).toBe('s4998');
      expect(active[4999].id).toBe('s1');
      expect(sut.counts()).toMatchObject({ critical: 2500, warning: 2500 });
      sut.active();
      expect(sort).toHaveBeenCalledTimes(1);
    } finally {
      sort.mockRestore();
    }
  });
});
