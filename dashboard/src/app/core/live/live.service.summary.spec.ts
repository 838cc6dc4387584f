import { TestBed } from '@angular/core/testing';
import { fleetSummary, replySummary, summaryEntry } from '../../testing/fleet-summary';
import { T0, provideFakeLive, useFakeClock } from '../../testing/testbed';
import { DeviceStore } from '../stores/device.store';
import { SeriesStore } from '../stores/series.store';
import { LiveService } from './live.service';

const flushPromises = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function setup() {
  const socket = provideFakeLive();
  const sut = TestBed.inject(LiveService);
  return {
    sut,
    socket,
    store: TestBed.inject(DeviceStore),
    series: TestBed.inject(SeriesStore),
  };
}

describe('LiveService fleet summary', () => {
  useFakeClock();

  it('applies the snapshot: status, last seen, name, group, latest values and alert state', async () => {
    const { sut, socket, store } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    expect(socket().subscribes[0].request).toEqual({ summary: true, history: false });
    replySummary(
      socket(),
      fleetSummary(
        [
          {
            id: 'b-1',
            name: 'Boiler',
            group: 'hall-a',
            age: 1500,
            values: { power: 3, temperature: 71.5 },
            alert: ['major', 2],
          },
          { id: 'p-1', status: 'offline', age: null },
        ],
        ['temperature', 'power'],
        T0,
      ),
    );
    await flushPromises();
    expect(store.get('b-1')).toMatchObject({
      name: 'Boiler',
      group: 'hall-a',
      status: 'online',
      lastHeard: T0 - 1500,
      latest: { temperature: 71.5, power: 3 },
      metrics: ['temperature', 'power'],
      alert: { severity: 'major', count: 2 },
    });
    // No name in its meta: the id is its name; never heard: no last seen.
    expect(store.get('p-1')).toMatchObject({
      name: 'p-1',
      status: 'offline',
      lastHeard: null,
      alert: null,
    });
    expect(store.metricNames()).toEqual(['temperature', 'power']);
  });

  it('applies deltas: removed first, then changed, with the metric table sent again when it grew', async () => {
    const { sut, socket, store, series } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    const metrics = ['temperature'];
    replySummary(
      socket(),
      fleetSummary(
        [
          { id: 'a', values: { temperature: 1 } },
          { id: 'b', values: { temperature: 2 } },
          { id: 'c', values: { temperature: 3 } },
        ],
        metrics,
        T0,
      ),
    );
    await flushPromises();
    series.push('b', 'temperature', T0, 2);
    const grown = ['temperature', 'humidity'];
    socket().server.summary({
      at: T0 + 1000,
      // `c` was evicted and came back within the second: in both lists, so it stays (anew).
      removed: ['b', 'c'],
      changed: [
        summaryEntry({ id: 'a', values: { temperature: 10, humidity: 40 }, age: 0 }, grown),
        summaryEntry({ id: 'c', name: 'Back again', values: { humidity: 55 }, age: 0 }, grown),
      ],
      metrics: grown,
    });
    expect(store.get('b')).toBeUndefined();
    expect(series.get('b', 'temperature')).toBeUndefined(); // its points went with it
    expect(store.get('a')?.latest).toEqual({ temperature: 10, humidity: 40 });
    expect(store.get('c')).toMatchObject({ name: 'Back again', latest: { humidity: 55 } });
    // A later delta without the table still reads values against the grown one.
    socket().server.summary({
      at: T0 + 2000,
      removed: [],
      changed: [summaryEntry({ id: 'a', values: { humidity: 41 }, age: 0 }, grown)],
    });
    expect(store.get('a')?.latest).toEqual({ temperature: 10, humidity: 41 });
  });

  it('never replaces a newer live value with an older summary one', async () => {
    const { sut, socket, store } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    replySummary(socket(), fleetSummary([{ id: 'a', values: { t: 1 } }], ['t'], T0));
    await flushPromises();
    jest.advanceTimersByTime(500);
    // The tile on screen gets its reading at once...
    socket().server.readings([{ deviceId: 'a', ts: T0 + 500, values: { t: 2 } }]);
    // ...and the summary pushed just before it arrives after: it must not turn the clock back.
    socket().server.summary({
      at: T0 + 600,
      removed: [],
      changed: [summaryEntry({ id: 'a', values: { t: 1.5 }, age: 300 }, ['t'])],
    });
    expect(store.get('a')?.latest['t']).toBe(2);
    // A summary that saw the device after our last reading does apply.
    socket().server.summary({
      at: T0 + 3000,
      removed: [],
      changed: [summaryEntry({ id: 'a', values: { t: 3 }, age: 100 }, ['t'])],
    });
    expect(store.get('a')?.latest['t']).toBe(3);
  });

  it('re-subscribes after a reconnect, and a group-scoped snapshot drops what left its groups', async () => {
    const { sut, socket, store } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    replySummary(
      socket(),
      fleetSummary(
        [
          { id: 'a', group: 'hall-a' },
          { id: 'b', group: 'hall-b' },
        ],
        [],
        T0,
      ),
    );
    await flushPromises();
    // A device moved out of a scoped client's groups is sent as a removal.
    socket().server.summary({ at: T0 + 1000, removed: ['b'], changed: [] });
    expect(store.get('b')).toBeUndefined();

    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    const again = socket().subscribes.filter((s) => s.request.summary);
    expect(again).toHaveLength(2);
    // Evicted while we were away: the new snapshot is the whole truth.
    replySummary(socket(), fleetSummary([{ id: 'c', group: 'hall-a' }], [], T0 + 5000));
    await flushPromises();
    expect(store.get('a')).toBeUndefined();
    expect(store.get('c')).toBeDefined();
  });

  it('is shared by its watchers and unsubscribed with the last release only', async () => {
    const { sut, socket } = setup();
    const first = sut.watchSummary();
    const second = sut.watchSummary();
    socket().server.connected('websocket');
    expect(socket().subscribes.filter((s) => s.request.summary)).toHaveLength(1);
    first.release();
    first.release(); // a second release of one handle counts once
    expect(socket().unsubscribes).toEqual([]);
    second.release();
    expect(socket().unsubscribes).toEqual([{ summary: true }]);
  });

  it('ignores deltas while nobody follows the summary', async () => {
    const { sut, socket, store } = setup();
    sut.start();
    socket().server.connected('websocket');
    socket().server.summary({
      at: T0,
      removed: [],
      changed: [summaryEntry({ id: 'ghost' }, [])],
    });
    expect(store.get('ghost')).toBeUndefined();
  });

  it('asks again when the gateway refuses the summary (rate limited)', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sut, socket } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    socket().subscribes[0].reply({ ok: false, error: 'rate limited' });
    await flushPromises();
    jest.advanceTimersByTime(2000);
    expect(socket().subscribes.filter((s) => s.request.summary)).toHaveLength(2);
  });

  it('backs off while the summary stays refused, up to a minute, warning once', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
    const { sut, socket } = setup();
    sut.watchSummary();
    socket().server.connected('websocket');
    const asked = () => socket().subscribes.filter((s) => s.request.summary);
    // 2, 4, 8, 16, 32 s, then a minute each time (the fake random: no jitter).
    for (const wait of [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]) {
      const n = asked().length;
      asked()[n - 1].reply({ ok: false, error: 'too many rooms' });
      await flushPromises();
      jest.advanceTimersByTime(wait - 1);
      expect(asked()).toHaveLength(n);
      jest.advanceTimersByTime(1);
      expect(asked()).toHaveLength(n + 1);
    }
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
