import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  DeviceInfo,
  FLEET_ROOM,
  MetricSeries,
  SUMMARY_ROOM,
  SubscribeAck,
  SubscribeRequest,
  SubscribeRequestSchema,
  UnsubscribeAck,
  UnsubscribeRequestSchema,
  deviceRoom,
  formatIssues,
  groupRoom,
} from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { HistoryReader } from '../history/history-reader.service';
import { HistoryService } from '../history/history.service';

/** Rooms one socket may be in (devices + groups + fleet), unknown devices included. */
export const MAX_ROOMS_PER_SOCKET = 1000;
/** History points per series in a subscribe ack when the client gives no maxPoints. */
export const DEFAULT_ACK_POINTS = 1000;
/** Total history points in one ack; series beyond it are left out (fetch them over HTTP). */
const MAX_ACK_POINTS = 500_000;

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

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'HISTORY_WINDOW_MS'>,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
    /** Answers `summary: true` (absent in specs that do not ask for it). */
    @Optional() private readonly summary?: FleetSummaryService,
    /** Ranges reaching past the recent window, from the durable store (absent in unit specs). */
    @Optional() private readonly reader?: HistoryReader,
  ) {
    this.windowMs = config.HISTORY_WINDOW_MS;
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
  ): SubscribeAck | Promise<SubscribeAck> {
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

    const history: MetricSeries[] = [];
    const parts: (MetricSeries[] | Promise<MetricSeries[]>)[] = [];
    if (request.history !== false) {
      const from = request.since ?? serverTime - this.windowMs;
      const maxPoints = request.maxPoints ?? DEFAULT_ACK_POINTS;
      let budget = MAX_ACK_POINTS;
      for (const deviceId of devices.keys()) {
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
    }

    membership.join(added);
    const rooms = [...membership.current()];
    const ack: SubscribeAck = {
      ok: true,
      serverTime,
      devices: [...devices.values()],
      history,
      rooms,
    };
    // After the join: a change pushed from now on repeats in the next delta, none falls between.
    if (summary) ack.summary = summary.wireSnapshot(scope, serverTime);
    if (parts.every((part) => Array.isArray(part))) {
      for (const part of parts as MetricSeries[][]) history.push(...part);
      return ack;
    }
    return Promise.all(parts).then((resolved) => {
      let budget = MAX_ACK_POINTS;
      for (const part of resolved)
        for (const series of part) {
          if (budget <= 0) break;
          budget -= series.t.length;
          history.push(series);
        }
      return ack;
    });
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
