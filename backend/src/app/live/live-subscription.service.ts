import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  DeviceInfo,
  FLEET_ROOM,
  FleetSummaryWire,
  MetricSeries,
  SUMMARY_ROOM,
  SubscribeAck,
  SubscribeRequest,
  SubscribeRequestSchema,
  UnsubscribeAck,
  UnsubscribeRequestSchema,
  WireSeries,
  deviceRoom,
  formatIssues,
  groupRoom,
  toTimeDeltas,
  wirePoints,
} from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { HistoryReader } from '../history/history-reader.service';
import { HistoryService } from '../history/history.service';
import { EpochShare } from '../common/epoch-share';
import { RawJson } from './ack-encoder';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import { isReadingsRoom } from './room-interest';

/** Rooms one socket may be in (devices + groups + fleet), unknown devices included. */
export const MAX_ROOMS_PER_SOCKET = 1000;
/** History points per series in a subscribe ack when the client gives no maxPoints. */
export const DEFAULT_ACK_POINTS = 1000;
/** Total history points in one ack; series beyond it are left out (fetch them over HTTP). */
const MAX_ACK_POINTS = 500_000;
/** Distinct history snapshots shared in one hub generation (identical subscribes: a storm). */
export const MAX_SHARED_SNAPSHOTS = 64;
/** History points the shared snapshots of one generation may hold together (~50 MB of JSON). */
export const MAX_SHARED_SNAPSHOT_POINTS = 2_000_000;

type SubscribeAckOk = Extract<SubscribeAck, { ok: true }>;
/**
 * A subscribe's answer as the gateway sends it: the contract's ack, or the same with its history
 * already encoded (shared by identical subscribes, spliced in as is by the ack encoder).
 */
export type SubscribeAnswer =
  | SubscribeAck
  | (Omit<SubscribeAckOk, 'history' | 'summary'> & {
      history: WireSeries[] | RawJson;
      summary?: FleetSummaryWire | RawJson;
    });

/** The rooms a socket is in (without its own id room) and where a join/leave lands. */
export interface RoomMembership {
  current(): Set<string>;
  join(rooms: string[]): void;
  leave(rooms: string[]): void;
}

/**
 * Turns subscribe/unsubscribe requests into room changes plus the snapshot
 * (devices + history) for the acknowledgement. Input is untrusted: it is
 * validated with the contract's schemas and every failure is an `{ok:false}`.
 */
@Injectable()
export class LiveSubscriptionService {
  private readonly windowMs: number;
  /** History snapshots of this generation (see {@link generation}), by {@link shareKey}. */
  private readonly snapshots = new EpochShare<RawJson>(
    MAX_SHARED_SNAPSHOTS,
    MAX_SHARED_SNAPSHOT_POINTS,
  );
  /**
   * Readings rooms emptied so far. A room without members buffers nothing, so a reading that
   * came while it was empty is in no snapshot taken before and in no flush after: every
   * snapshot taken before a room emptied is let go (see {@link generation}).
   */
  private roomsEmptied = 0;
  /**
   * The unscoped fleet summary as JSON text, by the wire object it encodes. That object is one
   * per push interval (FleetSummary.wireSnapshot), so every screen asking within it gets the
   * same text: 10,000 devices are ~590 kB that Socket.IO would otherwise walk and stringify
   * per acknowledgement. Weak: an interval's text goes with its object.
   */
  private readonly summaryTexts = new WeakMap<FleetSummaryWire, RawJson>();

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'HISTORY_WINDOW_MS'>,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
    /** Answers `summary: true` (absent in specs that do not ask for it). */
    @Optional() private readonly summary?: FleetSummaryService,
    /** Ranges reaching past the recent window, from the durable store (absent in unit specs). */
    @Optional() private readonly reader?: HistoryReader,
    /** Its flush generation lets identical subscribes share one snapshot (absent in unit specs). */
    @Optional() private readonly hub?: LiveHubService,
    @Optional() emitter?: LiveEmitter,
  ) {
    this.windowMs = config.HISTORY_WINDOW_MS;
    emitter?.watchRooms(null, (room) => {
      if (isReadingsRoom(room)) this.roomsEmptied++; // not a socket's own room
    });
  }

  /**
   * `scope`: the groups a scoped principal (a wall screen's token) may watch, or null for
   * every group. A scoped request for the fleet, another group, or a device not known to be in
   * one of its groups is refused whole with `forbidden`; its `summary` is filtered to its groups.
   * A promise when part of the history is read from the durable store (docs/decisions/0021):
   * the recent window and the room join are still taken now, the stored past before them later.
   */
  subscribe(
    membership: RoomMembership,
    raw: unknown,
    scope: readonly string[] | null = null,
  ): SubscribeAnswer | Promise<SubscribeAnswer> {
    const parsed = SubscribeRequestSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
    const request = parsed.data;
    if (scope !== null && !this.withinScope(request, scope))
      return { ok: false, error: 'forbidden' };

    const wanted: string[] = [];
    for (const id of request.devices ?? []) wanted.push(deviceRoom(id));
    for (const group of request.groups ?? []) wanted.push(groupRoom(group));
    if (request.fleet) wanted.push(FLEET_ROOM);
    const summary = request.summary && this.summary ? this.summary : null;
    if (summary) wanted.push(SUMMARY_ROOM);

    const current = membership.current();
    const added = wanted.filter((room) => !current.has(room));
    const total = current.size + new Set(added).size;
    if (total > MAX_ROOMS_PER_SOCKET) {
      return {
        ok: false,
        error: `subscription would need ${total} rooms; at most ${MAX_ROOMS_PER_SOCKET} per connection`,
      };
    }

    // Snapshot before joining: readings flushed after the join may repeat the
    // newest history points, never leave a gap (clients de-duplicate by ts).
    const serverTime = Date.now();
    const devices = new Map<string, DeviceInfo>();
    if (request.fleet)
      for (const device of this.registry.list()) devices.set(device.deviceId, device);
    for (const group of request.groups ?? [])
      for (const device of this.registry.inGroup(group)) devices.set(device.deviceId, device);
    for (const id of request.devices ?? []) {
      const device = this.registry.get(id);
      if (device) devices.set(id, device);
    }

    const wantsHistory = request.history !== false;
    // The default window starts on a whole second (rounded up: still inside the recent window,
    // never a reason to read the store), so screens asking it within one second share it.
    const from = request.since ?? Math.ceil((serverTime - this.windowMs) / 1000) * 1000;
    const maxPoints = request.maxPoints ?? DEFAULT_ACK_POINTS;
    const key = wantsHistory && this.hub ? shareKey(request, scope, from, maxPoints) : null;
    // In the form asked: time deltas (series-wire.ts, decision 0048) or plain.
    const wire = (series: MetricSeries[]): WireSeries[] =>
      request.timeDeltas === true ? series.map(toTimeDeltas) : series;
    // The window's part of the history is read here, before the join.
    const history: WireSeries[] | RawJson | Promise<WireSeries[] | RawJson> =
      key === null
        ? then(collect(wantsHistory ? this.historyOf(devices.keys(), from, maxPoints) : []), wire)
        : // Encoded once for every identical subscribe of this generation (LIVE_PARSER splices it).
          this.snapshots.share(
            this.generation(),
            key,
            () =>
              then(collect(this.historyOf(devices.keys(), from, maxPoints)), (series) =>
                RawJson.of(wire(series), pointsOf(series)),
              ),
            (raw) => raw.points,
          );

    membership.join(added);
    const rooms = [...membership.current()];
    const base = { ok: true as const, serverTime, devices: [...devices.values()], rooms };
    // After the join: a change pushed from now on repeats in the next delta, none falls between.
    const summaryWire = summary ? { summary: this.summaryOf(summary, scope, serverTime) } : {};
    const answer = (series: WireSeries[] | RawJson): SubscribeAnswer => ({
      ...base,
      history: series,
      ...summaryWire,
    });
    if (!(history instanceof Promise)) return answer(history);
    // Refused (the store cannot be read): a screen told no is not fed the rooms' readings anyway.
    // A socket's subscribes are answered one at a time, so these rooms are still the ones added.
    return history.then(answer, (error: unknown) => {
      membership.leave(added);
      throw error;
    });
  }

  /** The summary for the acknowledgement: the unscoped one encoded once per push interval. */
  private summaryOf(
    summary: FleetSummaryService,
    scope: readonly string[] | null,
    at: number,
  ): FleetSummaryWire | RawJson {
    const wire = summary.wireSnapshot(scope, at);
    if (scope !== null) return wire; // built for this caller alone
    let text = this.summaryTexts.get(wire);
    if (!text) {
      text = RawJson.of(wire, summaryPoints(wire));
      this.summaryTexts.set(wire, text);
    }
    return text;
  }

  /** Subscribes that encoded a history snapshot, and those that reused one (stats). */
  sharedSnapshots(): { made: number; reused: number } {
    const { made, shared } = this.snapshots.stats();
    return { made, reused: shared };
  }

  /**
   * Snapshots of one generation may be shared: it ends at a flush that wrote readings to rooms,
   * or when a readings room emptied. Both counters only grow, so their sum does.
   */
  private generation(): number {
    return (this.hub as LiveHubService).generation + this.roomsEmptied;
  }

  /**
   * Each device's history over `[from, now]`, at most `maxPoints` per series and MAX_ACK_POINTS
   * in all: the recent window's part read now (before the room join), the stored past later.
   */
  private historyOf(
    deviceIds: Iterable<string>,
    from: number,
    maxPoints: number,
  ): (MetricSeries[] | Promise<MetricSeries[]>)[] {
    const parts: (MetricSeries[] | Promise<MetricSeries[]>)[] = [];
    let budget = MAX_ACK_POINTS;
    for (const deviceId of deviceIds) {
      if (budget <= 0) break;
      // Spread over the range (decimated), not the latest points: a refill after `lagged`
      // or a reconnect must cover the whole gap, and a chart its whole window.
      const part = (this.reader ?? this.history).query(
        deviceId,
        from,
        Infinity,
        Math.min(maxPoints, budget),
        undefined,
        'spread',
      );
      if (Array.isArray(part)) for (const series of part) budget -= series.t.length;
      parts.push(part);
    }
    return parts;
  }

  private withinScope(request: SubscribeRequest, scope: readonly string[]): boolean {
    if (request.fleet) return false;
    if ((request.groups ?? []).some((group) => !scope.includes(group))) return false;
    return (request.devices ?? []).every((id) => {
      const group = this.registry.groupOf(id);
      return group !== undefined && scope.includes(group);
    });
  }

  unsubscribe(membership: RoomMembership, raw: unknown): UnsubscribeAck {
    const parsed = UnsubscribeRequestSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
    const rooms: string[] = [];
    for (const id of parsed.data.devices ?? []) rooms.push(deviceRoom(id));
    for (const group of parsed.data.groups ?? []) rooms.push(groupRoom(group));
    if (parsed.data.fleet) rooms.push(FLEET_ROOM);
    if (parsed.data.summary) rooms.push(SUMMARY_ROOM);
    membership.leave(rooms);
    return { ok: true, rooms: [...membership.current()] };
  }
}

/**
 * What a subscribe's history depends on: who asks (scope), which devices (the request's own
 * lists), from when, how many points, in which form. Within one hub generation two subscribes
 * with the same key get the same history.
 */
function shareKey(
  request: SubscribeRequest,
  scope: readonly string[] | null,
  from: number,
  maxPoints: number,
): string {
  return JSON.stringify([
    scope === null ? null : [...scope].sort(),
    request.fleet === true,
    // In the request's order: it decides which series the MAX_ACK_POINTS cap leaves out.
    request.groups ?? [],
    request.devices ?? [],
    from,
    maxPoints,
    request.timeDeltas === true,
  ]);
}

/** `f` of a value now, or of a promised one when it comes. */
function then<T, U>(value: T | Promise<T>, f: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** The parts' series in order, at most MAX_ACK_POINTS points; a promise if any part is one. */
function collect(
  parts: (MetricSeries[] | Promise<MetricSeries[]>)[],
): MetricSeries[] | Promise<MetricSeries[]> {
  const join = (resolved: MetricSeries[][]) => {
    const history: MetricSeries[] = [];
    let budget = MAX_ACK_POINTS;
    for (const part of resolved)
      for (const series of part) {
        if (budget <= 0) return history;
        budget -= series.t.length;
        history.push(series);
      }
    return history;
  };
  return parts.every((part) => Array.isArray(part))
    ? join(parts as MetricSeries[][])
    : Promise.all(parts).then(join);
}

/** What a fleet summary costs the ack budget: about a point per value (10,000 devices × 4: 40,000). */
export function summaryPoints(wire: FleetSummaryWire): number {
  return wire.devices.length * Math.max(1, wire.metrics.length);
}

/** History points in `history` (what an ack's history costs the ack budget). */
export function pointsOf(history: readonly WireSeries[]): number {
  let points = 0;
  for (const series of history) points += wirePoints(series);
  return points;
}
