import { AlertHistory } from './alert-history';
import { setup, T0, tempAbove } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the history's part (the
// bounded, filtered event ring and its listeners).

describe('alert history', () => {
  it('keeps the newest events in a bounded history and filters it', () => {
    const { sut, clock, series, events } = setup(
      [
        tempAbove(),
        {
          id: 'cold',
          kind: 'threshold',
          metric: 'temperature',
          op: 'below',
          value: 0,
          severity: 'info',
        },
      ],
      { maxHistory: 5 },
    );
    series('temperature', [31, 20, 31, 20, -5, 20, 31], 1000, 'dev-1');
    series('temperature', [31], 1000, 'dev-2');
    expect(events).toHaveLength(8);
    const history = sut.history();
    expect(history).toHaveLength(5);
    expect(history).toEqual(events.slice(3).reverse());
    expect(sut.history({ deviceId: 'dev-2' }).map((e) => e.deviceId)).toEqual(['dev-2']);
    expect(sut.history({ severity: 'info' }).map((e) => e.ruleId)).toEqual(['cold', 'cold']);
    expect(sut.history({ state: 'cleared', deviceId: 'dev-1' }).map((e) => e.updatedAt)).toEqual([
      T0 + 6000,
      T0 + 4000,
    ]);
    expect(sut.history({ from: T0 + 6000, to: T0 + 7000 }).map((e) => e.updatedAt)).toEqual([
      T0 + 7000,
      T0 + 6000,
    ]);
    expect(sut.history({ limit: 2 })).toHaveLength(2);
    expect(clock.now()).toBe(T0 + 8000);
  });

  it('survives a listener that throws', () => {
    const { sut, read, events } = setup([tempAbove()]);
    sut.onAlert(() => {
      throw new Error('boom');
    });
    read({ temperature: 31 });
    read({ temperature: 20 });
    expect(events).toHaveLength(2);
    expect(sut.stats().listenerErrors).toBe(2);
  });
});

describe('AlertHistory on its own', () => {
  /** Four real lifecycle events of one alert: raised, cleared, raised again, cleared. */
  function fourEvents() {
    const { series, events } = setup([tempAbove()]);
    series('temperature', [31, 20, 31, 20]);
    return events;
  }

  it('keeps the newest events when its ring wraps, newest first, as copies both ways', () => {
    const events = fourEvents();
    const sut = new AlertHistory(3);
    for (const event of events) sut.record(event);
    expect(sut.size).toBe(3);
    expect(sut.query().map((e) => [e.state, e.updatedAt])).toEqual([
      ['cleared', T0 + 4000],
      ['raised', T0 + 3000],
      ['cleared', T0 + 2000],
    ]);
    events[3].state = 'raised'; // the recorder's object changes later; the kept copy does not
    sut.query()[0].state = 'raised'; // nor can a reader change it
    expect(sut.query()[0].state).toBe('cleared');
  });

  it('pages by time newest first, so paging with `to` finds an event recorded after a newer one', () => {
    // A late reading (a persistent MQTT session drained after a broker restart) raises an alert
    // stamped earlier than events recorded before it. Listed in the order they were recorded,
    // the dashboard's paging (the next page `to` the oldest time on this one) skipped an event.
    const [a, b, c, d] = fourEvents();
    const sut = new AlertHistory(10);
    // The newest recorded first of all, behind two older ones (no early stop may miss it).
    const at = [T0 + 4000, T0 + 2000, T0 + 1000, T0 + 3000].reverse();
    [a, b, c, d].forEach((event, i) => sut.record({ ...event, updatedAt: at[i] }));
    const seen = new Set<number>();
    let to: number | undefined;
    for (let page = 0; page < 10; page++) {
      const events = sut.query({ limit: 2, ...(to === undefined ? {} : { to }) });
      for (const event of events) seen.add(event.updatedAt);
      const oldest = events.at(-1)?.updatedAt;
      if (events.length < 2 || oldest === to) break;
      to = oldest;
    }
    expect([...seen].sort()).toEqual([...at].sort());
    expect(sut.query({ limit: 2 }).map((e) => e.updatedAt)).toEqual([T0 + 4000, T0 + 3000]);
  });

  it('tells each listener until it unsubscribes, and counts the listeners that throw', () => {
    const events = fourEvents();
    const sut = new AlertHistory(10);
    const seen: string[] = [];
    const unsubscribe = sut.onAlert((event) => seen.push(event.state));
    sut.onAlert(() => {
      throw new Error('boom');
    });
    sut.record(events[0]);
    unsubscribe();
    sut.record(events[1]);
    expect(seen).toEqual(['raised']);
    expect(sut).toMatchObject({ events: 2, listenerErrors: 2, size: 2 });
  });
});
