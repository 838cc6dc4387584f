import { DS } from '@pulse/protocol';
import { Logger } from '@nestjs/common';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { emptyLatestRows, HistoryStore, LatestRows } from '../history/history-store';
import { FleetSummaryService, SEED_CHUNK, SEED_WAIT_MS } from './fleet-summary.service';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A history store that holds `temp` = the device's number and `battery` for even ones. */
function storeOf(): { store: HistoryStore; asked: string[][] } {
  const asked: string[][] = [];
  const latestOf = async (deviceIds: readonly string[]): Promise<LatestRows> => {
    asked.push([...deviceIds]);
    const rows = emptyLatestRows();
    deviceIds.forEach((id, i) => {
      const n = Number(id.slice(1));
      const add = (metric: string, value: number) => {
        rows.device.push(i);
        rows.metrics.push(metric);
        rows.ts.push(T0 - 1000);
        rows.values.push(value);
      };
      add('temp', n);
      if (n % 2 === 0) add('battery', 100);
    });
    return rows;
  };
  return { store: { latestOf } as unknown as HistoryStore, asked };
}

// The real registry and summary; the store's own answers are checked against SQLite and
// PostgreSQL in test/history-store.spec.ts, and the whole restart in test/fleet-summary-restart.spec.ts.
describe('FleetSummaryService: starting from the history store', () => {
  let registry: DeviceRegistryService;

  beforeEach(() => {
    registry = new DeviceRegistryService({ MAX_DEVICES: 20_000 });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('gives every known device its stored values, asking the store SEED_CHUNK devices at a time', async () => {
    const count = 2 * SEED_CHUNK + 500;
    for (let n = 0; n < count; n++) registry.applyMeta(`d${n}`, null, T0 - 60_000);
    const { store, asked } = storeOf();
    const sut = new FleetSummaryService(registry, store);

    expect(await sut.seed()).toMatchObject({ devices: count, values: count + count / 2 });

    expect(asked.map((ids) => ids.length)).toEqual([SEED_CHUNK, SEED_CHUNK, 500]);
    const summary = sut.snapshot(null, T0);
    expect(summary.metrics).toEqual(['temp', 'battery']);
    expect(summary.devices.find((d) => d[DS.id] === 'd7')?.[DS.values]).toEqual([7]);
    expect(summary.devices.find((d) => d[DS.id] === 'd2048')?.[DS.values]).toEqual([2048, 100]);
  });

  it('starts after SEED_WAIT_MS when the store does not answer, and says so', async () => {
    jest.useFakeTimers();
    try {
      registry.applyMeta('d1', null, T0);
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const store = { latestOf: () => new Promise(() => undefined) } as unknown as HistoryStore;
      const sut = new FleetSummaryService(registry, store);
      let started = false;
      void sut.onApplicationBootstrap().then(() => (started = true));
      await jest.advanceTimersByTimeAsync(SEED_WAIT_MS - 1);
      expect(started).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(started).toBe(true);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('still being read'));
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts without stored values when the store cannot be read, and says so', async () => {
    registry.applyMeta('d1', null, T0);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = {
      latestOf: () => Promise.reject(new Error('connection refused')),
    } as unknown as HistoryStore;
    const sut = new FleetSummaryService(registry, store);

    await expect(sut.onApplicationBootstrap()).resolves.toBeUndefined();

    expect(sut.snapshot(null, T0).devices).toEqual([['d1', null, null, 'unknown', 0, []]]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('connection refused'));
  });
});
