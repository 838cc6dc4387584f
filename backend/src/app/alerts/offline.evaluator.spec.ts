import { setup } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the offline evaluator's part
// (offline duration from the status topic).

describe('offline rules', () => {
  it('raises after the device stays offline for forMs and clears when it is back', () => {
    const { sut, clock, events } = setup([
      { id: 'off', kind: 'offline', forMs: 5000, severity: 'critical' },
    ]);
    sut.onStatus('dev-1', 'offline');
    sut.tick(clock.advance(3000));
    sut.onStatus('dev-1', 'online'); // a blip: nothing
    sut.tick(clock.advance(10_000));
    expect(events).toEqual([]);
    const wentOffline = clock.now();
    sut.onStatus('dev-1', 'offline', wentOffline);
    sut.tick(clock.advance(5000));
    expect(events).toMatchObject([
      {
        kind: 'offline',
        state: 'raised',
        severity: 'critical',
        deviceId: 'dev-1',
        metric: null,
        raisedAt: wentOffline + 5000,
        message: 'off: device offline for 5 s',
      },
    ]);
    clock.advance(2000);
    sut.onStatus('dev-1', 'online');
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('raises at once without forMs', () => {
    const { sut, events } = setup([{ id: 'off', kind: 'offline', severity: 'critical' }]);
    sut.onStatus('dev-1', 'offline');
    expect(events.map((e) => e.state)).toEqual(['raised']);
    sut.onStatus('dev-1', 'offline'); // retained status again: no duplicate
    expect(events).toHaveLength(1);
  });
});
