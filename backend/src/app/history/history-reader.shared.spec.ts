import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricSeries, Reading } from '@pulse/protocol';
import { HistoryReader } from './history-reader.service';
import { HistoryService, storeLagMs } from './history.service';
import { HISTORY_DATABASE_FILE, SqliteHistoryStore } from './sqlite-history.store';

// Two gateways take shares of one device's readings ($share): this gateway's window holds only
// its share, the store (real SQLite in a temp dir, written here as the peer would) every share
// once the writers have flushed. A chart opened on this gateway must get every reading.
describe('HistoryReader with a shared ingest (several gateways)', () => {
  const base = {
    HISTORY_WINDOW_MS: 3_600_000,
    HISTORY_MAX_POINTS: 7200,
    RETENTION_RAW: 7 * 86_400_000,
    RETENTION_1M: 30 * 86_400_000,
    RETENTION_1H: 365 * 86_400_000,
    HISTORY_FLUSH_MS: 500,
  };
  const shared = { ...base, REDIS_URL: 'redis://127.0.0.1:6379', MQTT_URL: 'mqtt://127.0.0.1' };
  const T = 1_800_000_000_000;
  let dir: string;
  let store: SqliteHistoryStore;

  beforeEach(async () => {
    jest.useFakeTimers({
      now: T,
      doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'queueMicrotask'],
    });
    dir = mkdtempSync(join(tmpdir(), 'pulse-reader-shared-'));
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
  });
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reading = (ts: number, t: number): Reading => ({ deviceId: 'd1', ts, values: { t } });
  const stored = (readings: Reading[]) =>
    store.write({
      deviceIds: readings.map((r) => r.deviceId),
      metrics: readings.map(() => 't'),
      ts: readings.map((r) => r.ts),
      values: readings.map((r) => r.values['t']),
    });
  const times = async (answer: MetricSeries[] | Promise<MetricSeries[]>) =>
    (await answer).find((series) => series.metric === 't')?.t ?? [];

  /** A reading a second for the last minute: even seconds ours, odd ones the peer's. */
  async function split(config: typeof base) {
    jest.setSystemTime(T - 61_000); // the gateway started a minute ago
    const recent = new HistoryService(config);
    const reader = new HistoryReader(config, recent, store);
    const all: number[] = [];
    const peers: Reading[] = [];
    for (let ts = T - 60_000; ts < T; ts += 1000) {
      all.push(ts);
      jest.setSystemTime(ts); // received as it was read
      const mine = (ts / 1000) % 2 === 0;
      if (mine) recent.record('d1', [reading(ts, ts % 7)]);
      else peers.push(reading(ts, ts % 7));
    }
    jest.setSystemTime(T);
    // Both writers flushed everything older than the lag; ours wrote our share too.
    const lag = storeLagMs(config);
    await stored(peers.filter((r) => r.ts < T - lag));
    await stored(
      all.filter((ts) => ts < T - lag && (ts / 1000) % 2 === 0).map((ts) => reading(ts, ts % 7)),
    );
    return { recent, reader, all, peers };
  }

  it('reads the store up to its lag and the window after it: every share of the last minute', async () => {
    const { reader, all } = await split(shared);
    const got = await times(reader.query('d1', T - 60_000, Infinity, 10_000, undefined, 'spread'));
    const lag = storeLagMs(shared);
    // Older than the lag: every share (the store); younger: ours (the peer's comes relayed or
    // as its catch-up, not from here).
    expect(got).toEqual(all.filter((ts) => ts < T - lag || (ts / 1000) % 2 === 0));
  });

  it('one gateway alone (no shared ingest) keeps answering a range the window covers from the window', async () => {
    const { reader, all } = await split(base);
    const answer = reader.query('d1', T - 60_000, Infinity, 10_000, undefined, 'spread');
    expect(Array.isArray(answer)).toBe(true); // never reached the store
    expect(await times(answer)).toEqual(all.filter((ts) => (ts / 1000) % 2 === 0));
  });

  it('adds what came in lately with an older ts, which the store may not have yet', async () => {
    const { recent, reader, all } = await split(shared);
    // A device's late readings, ts 30 s back, received now: in the window, not stored yet.
    const late = [T - 30_500, T - 29_500];
    recent.record(
      'd1',
      late.map((ts) => reading(ts, 1)),
    );
    const got = await times(reader.query('d1', T - 60_000, Infinity, 10_000, undefined, 'spread'));
    const lag = storeLagMs(shared);
    const expected = [...all.filter((ts) => ts < T - lag || (ts / 1000) % 2 === 0), ...late];
    expect(got).toEqual(expected.sort((a, b) => a - b));
    expect(new Set(got).size).toBe(got.length); // one point per ts where both hold it
  });

  it("answers a departed peer's share of the last lag span from the store once its departure is seen", async () => {
    const { reader, all, peers } = await split(shared);
    // The peer stored its whole share, then died: no catch-up from it, and no window holds it.
    await stored(peers.filter((r) => r.ts >= T - storeLagMs(shared)));
    const query = () => reader.query('d1', T - 60_000, Infinity, 10_000, undefined, 'spread');
    const before = await times(query());
    expect(before.length).toBeLessThan(all.length); // its last span missing
    reader.peerDeparted(T);
    const got = await times(query());
    expect(got).toEqual(all); // ours from the window (not stored yet), its from the store
    // Once the lag has passed our writer has stored our share too: the usual split again.
    await stored(
      all
        .filter((ts) => ts >= T - storeLagMs(shared) && (ts / 1000) % 2 === 0)
        .map((ts) => reading(ts, ts % 7)),
    );
    jest.setSystemTime(T + storeLagMs(shared));
    expect(await times(query())).toEqual(all);
  });

  it('forgets what came in lately once two lag spans have passed (the store has it by then)', () => {
    const recent = new HistoryService(shared);
    recent.record('d1', [reading(T - 30_000, 1)]);
    expect(recent.receivedLow('d1', 't')).toBe(T - 30_000);
    jest.setSystemTime(T + 2 * storeLagMs(shared));
    expect(recent.receivedLow('d1', 't')).toBe(Infinity);
    expect(new HistoryService(base).receivedLow('d1', 't')).toBe(Infinity);
  });
});
