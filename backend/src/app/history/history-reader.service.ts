import { Inject, Injectable, OnApplicationShutdown, Logger, Optional } from '@nestjs/common';
import { LIMITS, MetricSeries, SeriesBuffer } from '@pulse/protocol';
import { RateLimitedLog } from '../common/rate-limited-log';
import { CONFIG, Config, sharesIngest } from '../config/config';
import { RAW_READ_LIMIT, downsample } from './history-buckets';
import { HISTORY_STORE, HistoryStore, RetentionCutoffs } from './history-store';
import { HistoryUnavailableError } from './history-unavailable';
import { HistoryService, storeLagMs } from './history.service';
import { SHARED_READ_MS, SharedReads } from './shared-reads';

/*
 * Answers history ranges from two places that meet at one edge per series: the in-memory
 * recent window (HistoryService) from `edge` on, the durable store before it. Both halves are
 * disjoint by construction (store: ts < edge; window: ts >= edge), so the join has neither a
 * gap nor a duplicate; the window half is read synchronously at the call, so a subscribe
 * snapshot still comes before its room join (docs/decisions/0021). A range the window covers
 * never touches the store. Identical store reads of one second are made once (SharedReads):
 * the store half starts at `from` rounded down to its second, and points before `from` are
 * dropped after. A store read that fails is counted (`history.store.reads.failed`), its cause
 * logged at most once per 10 s, and the caller gets a HistoryUnavailableError (HTTP: 503), never
 * the driver's error. Owns this join and the split of the point budget; must not write.
 */

type PickMode = 'latest' | 'spread';

/** No points (shared: never mutated, as every column the join reads). */
const EMPTY: { t: number[]; v: number[] } = { t: [], v: [] };

@Injectable()
export class HistoryReader implements OnApplicationShutdown {
  private readonly startedAt = Date.now();
  private readonly shared = new SharedReads();
  /** With a shared ingest, the store answers up to this long before now (else null). */
  private readonly lagMs: number | null;
  /** When a peer was last seen departing (see {@link peerDeparted}). */
  private departedAt = -Infinity;
  /** Reads that needed the store and failed. */
  private failed = 0;
  private readonly logger = new Logger('HistoryStore');
  private readonly failureLog = new RateLimitedLog((line) => this.logger.error(line));

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'RETENTION_RAW' | 'RETENTION_1M' | 'RETENTION_1H'> &
      Partial<Pick<Config, 'HISTORY_FLUSH_MS' | 'HISTORY_HOLD_MS' | 'REDIS_URL' | 'MQTT_URL'>>,
    private readonly recent: HistoryService,
    @Optional() @Inject(HISTORY_STORE) private readonly store?: HistoryStore,
  ) {
    this.lagMs = sharesIngest(config)
      ? storeLagMs({
          HISTORY_FLUSH_MS: config.HISTORY_FLUSH_MS ?? 500,
          HISTORY_HOLD_MS: config.HISTORY_HOLD_MS,
        })
      : null;
  }

  /**
   * Where the window's part of a series starts: its own edge, and with a shared ingest no
   * earlier than storeLagMs before `now` (before that the window holds only this gateway's
   * share; the store holds every gateway's, once it has had storeLagMs to write it). Younger
   * points come from the window, which then also holds the peers' shares of the rooms this
   * gateway's screens watch and of a room just watched (live/peer-catch-up.ts).
   */
  private edgeOf(deviceId: string, metric: string, now: number): number {
    const edge = this.recent.edge(deviceId, metric);
    if (this.lagMs === null) return edge;
    return Math.max(edge, now - this.lagMs, Math.min(this.departedAt, now));
  }

  /**
   * A peer was seen departing at `at` (LostPeerRefill): by then the store holds everything that
   * peer will ever write itself (its journal comes to the window with the drain), and no window
   * holds its last storeLagMs, nor will it send a catch-up. For the next storeLagMs the store
   * answers up to `at`, with this gateway's share not stored yet from the window (as for late
   * readings), so a chart opened now gets the departed share.
   */
  peerDeparted(at: number): void {
    this.departedAt = Math.max(this.departedAt, at);
  }

  /**
   * One device's series over `[from, to]`, at most `maxPoints` points each. Synchronous when
   * the recent window holds the whole range (`pick` as HistoryService.query); otherwise a
   * promise. A series that reaches the store keeps, with `pick: 'spread'`, points min/max
   * decimated over the whole range; with `latest`, its newest `maxPoints` readings (the stored
   * ones from raw rows: a range older than RETENTION_RAW has no readings left, only rollups).
   */
  query(
    deviceId: string,
    from: number,
    to: number,
    maxPoints: number,
    metrics?: readonly string[],
    pick: PickMode = 'latest',
  ): MetricSeries[] | Promise<MetricSeries[]> {
    const store = this.store;
    const asked = metrics && metrics.length > 0 ? metrics : undefined;
    const names = asked ?? this.recent.metricsOf(deviceId);
    const now = Date.now();
    // Before this process started, the store may hold metrics the window never saw; with a
    // shared ingest, metrics only the other gateways ingested.
    const storeNames =
      !asked && (from < this.startedAt || (this.lagMs !== null && from < now - this.lagMs));
    if (!store || (!storeNames && names.every((m) => from >= this.edgeOf(deviceId, m, now))))
      return this.recent.query(deviceId, from, to, maxPoints, asked, pick);
    // The window's halves now, before any await: the snapshot is taken at the call.
    const recent = new Map<string, MetricSeries>();
    // Each edge with its window half: the two halves meet there, whatever arrives during the await.
    const edges = new Map<string, number>();
    for (const metric of names) {
      const edge = this.edgeOf(deviceId, metric, now);
      edges.set(metric, edge);
      if (edge === Infinity) continue;
      const [series] = this.recent.query(
        deviceId,
        Math.max(from, edge),
        to,
        maxPoints,
        [metric],
        pick,
      );
      if (series) recent.set(metric, series);
    }
    // Shared ingest: points older than the edge that came in lately may not be stored yet.
    const unstored = new Map<string, { t: number[]; v: number[] }>();
    if (this.lagMs !== null)
      for (const metric of names) {
        const edge = edges.get(metric) as number;
        const end = Math.min(edge, to + 1);
        const low = Math.max(from, this.recent.receivedLow(deviceId, metric));
        if (low >= end) continue;
        const [series] = this.recent.query(deviceId, low, end, maxPoints, [metric]);
        if (series) unstored.set(metric, below(series, end));
      }
    return this.withStored(
      store,
      deviceId,
      from,
      to,
      maxPoints,
      names,
      storeNames,
      recent,
      edges,
      unstored,
      pick,
    ).catch((error: unknown) => this.unavailable(error));
  }

  /** A read the store failed: counted, its cause logged (bounded), the caller told in general terms. */
  private unavailable(error: unknown): never {
    this.failed++;
    this.failureLog.report('read', `history store read failed: ${String(error)}`);
    throw new HistoryUnavailableError();
  }

  private async withStored(
    store: HistoryStore,
    deviceId: string,
    from: number,
    to: number,
    maxPoints: number,
    names: readonly string[],
    storeNames: boolean,
    recent: Map<string, MetricSeries>,
    edges: Map<string, number>,
    /** Window points before the edge the store may not hold yet (shared ingest), by metric. */
    unstored: Map<string, { t: number[]; v: number[] }>,
    pick: PickMode,
  ): Promise<MetricSeries[]> {
    const all = new Set(names);
    if (storeNames)
      for (const metric of await this.shared.share(
        Date.now(),
        `m\0${deviceId}`,
        () => store.metricsOf(deviceId),
        (names) => names.length,
      ))
        all.add(metric);
    // The clock is read after the await: a caller's second is the one its reads are made in,
    // and what the store is asked depends on it only through that second (one storm, one read).
    const at = Date.now();
    const slotEnd = SharedReads.slotOf(at) + SHARED_READ_MS;
    const cutoffs = this.cutoffs(slotEnd);
    const start = SharedReads.slotOf(from);
    const metrics = [...all].sort();
    const ends = metrics.map((metric) =>
      // A store-only series (edge +Infinity) may hold readings up to the allowed clock skew ahead.
      // A metric the window did not hold at the call: its edge now (no window half was taken).
      Math.min(
        edges.get(metric) ?? this.recent.edge(deviceId, metric),
        to + 1,
        slotEnd + LIMITS.maxFutureSkewMs + 1,
      ),
    );
    if (pick === 'latest')
      return this.newest(store, deviceId, from, maxPoints, metrics, ends, recent, unstored);
    const pasts = await Promise.all(
      metrics.map((metric, i) =>
        from < ends[i]
          ? this.shared
              .share(
                at,
                `r\0${deviceId}\0${metric}\0${start}\0${ends[i]}\0${maxPoints}`,
                () => downsample(store, deviceId, metric, start, ends[i], maxPoints, cutoffs),
                (column) => column.t.length,
              )
              .then((column) => startingAt(column, from))
              .then((column) => union(column, unstored.get(metric)))
          : EMPTY,
      ),
    );
    const now = Date.now();
    const out: MetricSeries[] = [];
    metrics.forEach((metric, i) => {
      const live = recent.get(metric) ?? EMPTY;
      const joined = join(pasts[i], live, maxPoints, from, ends[i], now);
      if (joined.t.length > 0) out.push({ deviceId, metric, t: joined.t, v: joined.v });
    });
    return out;
  }

  /**
   * `pick: 'latest'` over a range that reaches the store: per series, the window's newest points
   * and, when they are fewer than `maxPoints`, the newest stored readings before the window's
   * edge (`ends`) to make up the rest, read backwards from the edge ({@link newestRaw}).
   */
  private async newest(
    store: HistoryStore,
    deviceId: string,
    from: number,
    maxPoints: number,
    metrics: readonly string[],
    ends: readonly number[],
    recent: Map<string, MetricSeries>,
    unstored: Map<string, { t: number[]; v: number[] }>,
  ): Promise<MetricSeries[]> {
    const series = await Promise.all(
      metrics.map(async (metric, i) => {
        const live = recent.get(metric) ?? EMPTY;
        const need = maxPoints - live.t.length;
        if (need <= 0 || from >= ends[i]) return live;
        const past = union(
          await newestRaw(store, deviceId, metric, from, ends[i], need),
          unstored.get(metric),
        );
        const keep = Math.max(0, past.t.length - need);
        return { t: past.t.slice(keep).concat(live.t), v: past.v.slice(keep).concat(live.v) };
      }),
    );
    const out: MetricSeries[] = [];
    metrics.forEach((metric, i) => {
      const { t, v } = series[i];
      if (t.length > 0) out.push({ deviceId, metric, t, v });
    });
    return out;
  }

  /**
   * Store reads made, asks answered by an identical read of the same second, and asks the store
   * failed (stats).
   */
  sharedReads(): { made: number; shared: number; failed: number } {
    return { ...this.shared.stats(), failed: this.failed };
  }

  private cutoffs(now: number): RetentionCutoffs {
    return {
      raw: now - this.config.RETENTION_RAW,
      '1m': now - this.config.RETENTION_1M,
      '1h': now - this.config.RETENTION_1H,
    };
  }

  /** The gateway stops: read failures held back are written now, with no timer left after it. */
  onApplicationShutdown(): void {
    this.failureLog.close();
  }
}

/**
 * Stored past then recent window (all of `past` is older than all of `recent`). Over budget,
 * each side gets points in proportion to the time it spans (a side needing fewer gives the
 * rest to the other) and is decimated like SeriesBuffer's `spread`.
 */
function join(
  past: { t: number[]; v: number[] },
  recent: { t: number[]; v: number[] },
  maxPoints: number,
  from: number,
  edge: number,
  now: number,
): { t: number[]; v: number[] } {
  if (past.t.length + recent.t.length <= maxPoints)
    return { t: past.t.concat(recent.t), v: past.v.concat(recent.v) };
  const span = Math.max(1, now - from);
  const share = Math.round((maxPoints * Math.max(0, Math.min(edge, now) - from)) / span);
  // The window side keeps at least its last two points: the live edge a chart continues from.
  const pastPoints = Math.min(
    past.t.length,
    Math.max(share, maxPoints - recent.t.length),
    maxPoints - Math.min(2, recent.t.length),
  );
  const a = spread(past, pastPoints);
  const b = spread(recent, maxPoints - a.t.length);
  return { t: a.t.concat(b.t), v: a.v.concat(b.v) };
}

/**
 * The newest `count` raw readings of a series in `[from, end)`, oldest first. The store reads
 * oldest first and at most RAW_READ_LIMIT rows a read, so this reads spans that end at `end`:
 * the first a reading a second for `count` seconds, then eight times wider while it holds fewer
 * than `count` (until it reaches `from`), narrower when a read comes back full (its newest rows
 * were cut off), between the two once both are known. A series holds one reading per ms, so a
 * span under RAW_READ_LIMIT ms never comes back full: a handful of bounded reads.
 */
async function newestRaw(
  store: HistoryStore,
  deviceId: string,
  metric: string,
  from: number,
  end: number,
  count: number,
): Promise<{ t: number[]; v: number[] }> {
  let span = Math.max(60_000, count * 1000);
  let full = Infinity; // the narrowest span known to come back full
  for (;;) {
    const start = Math.max(from, end - span);
    const rows = await store.readRaw(deviceId, metric, start, end, RAW_READ_LIMIT);
    if (rows.ts.length >= RAW_READ_LIMIT) {
      full = span;
      span = Math.max(1, Math.floor(span / 8));
      continue;
    }
    if (rows.ts.length >= count || start === from) {
      const keep = Math.max(0, rows.ts.length - count);
      return { t: rows.ts.slice(keep), v: rows.values.slice(keep) };
    }
    const wider = span * 8 < full ? span * 8 : Math.floor((span + full) / 2);
    if (wider <= span) return { t: rows.ts, v: rows.values }; // fewer than asked fit a read
    span = wider;
  }
}

/** The points of a column before `edge`. */
function below(column: { t: number[]; v: number[] }, edge: number): { t: number[]; v: number[] } {
  let n = column.t.length;
  while (n > 0 && column.t[n - 1] >= edge) n--;
  return n === column.t.length ? column : { t: column.t.slice(0, n), v: column.v.slice(0, n) };
}

/**
 * A stored column with the window's points of the same span that may not be stored yet, one
 * point per ts (the store's where both hold one). `extra` absent or empty: `column` itself.
 */
function union(
  column: { t: number[]; v: number[] },
  extra: { t: number[]; v: number[] } | undefined,
): { t: number[]; v: number[] } {
  if (!extra || extra.t.length === 0) return column;
  const t: number[] = [];
  const v: number[] = [];
  let i = 0;
  let j = 0;
  while (i < column.t.length || j < extra.t.length) {
    if (j >= extra.t.length || (i < column.t.length && column.t[i] <= extra.t[j])) {
      if (j < extra.t.length && column.t[i] === extra.t[j]) j++;
      t.push(column.t[i]);
      v.push(column.v[i++]);
    } else {
      t.push(extra.t[j]);
      v.push(extra.v[j++]);
    }
  }
  return { t, v };
}

/** The points of a shared (not to be mutated) column at or after `from`, the column itself when all are. */
function startingAt(
  column: { t: number[]; v: number[] },
  from: number,
): { t: number[]; v: number[] } {
  let i = 0;
  while (i < column.t.length && column.t[i] < from) i++;
  return i === 0 ? column : { t: column.t.slice(i), v: column.v.slice(i) };
}

function spread(
  column: { t: number[]; v: number[] },
  points: number,
): { t: number[]; v: number[] } {
  if (column.t.length <= points) return column;
  if (points < 2)
    return points < 1 ? { t: [], v: [] } : { t: column.t.slice(-1), v: column.v.slice(-1) };
  const buffer = new SeriesBuffer(column.t.length, column.t.length);
  buffer.merge(column.t, column.v);
  return buffer.range(-Infinity, Infinity, points, 'spread');
}
