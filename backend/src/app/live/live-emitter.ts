import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  AlertDelta,
  AlertEvent,
  DeviceInfo,
  FLEET_ROOM,
  GatewayStatus,
  LIVE_NAMESPACE,
  Reading,
  SUMMARY_ROOM,
  SummaryEventWire,
  deviceRoom,
  groupRoom,
  parseAlertEventOfAnyBuild,
  quote,
} from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { RateLimitedLog } from '../common/rate-limited-log';
import { AlertAudience } from './alert-audience';
import { AlertsSnapshot } from '../common/alerts-snapshot';
import { HELD_ALERTS_RESEND_MS, HeldAlerts, PeerAlerts } from './peer-alerts';
import { LiveRedis } from './live-redis.repository';
import {
  EncodedEvent,
  directWire,
  encodeEvent,
  queuedPackets,
  writeToEngine,
} from './engine-adapter';
import { LAG_PAUSE_BYTES, LAG_PAUSE_PACKETS, LagGate } from './lag-gate';
import type { LiveNamespace, LiveServer, LiveSocket } from './live-io.server';
import { isReadingsRoom } from './room-interest';

/** Told when a room gets its first member and when it loses its last (the room interest). */
type RoomListener = (room: string) => void;

/**
 * The one emitter of the live layer: owns the Socket.IO server once Nest's gateway hands it over
 * (built by LiveIoAdapter with createLiveIoServer on Nest's HTTP server, namespace `/live` over
 * websocket and long-polling; see {@link bind}) and is
 * the only place that sends anything to a client — readings frames, `device`, `alert`,
 * `gateway`, `summary`, the `alerts` snapshot or its `alertsVersion`, `lagged` and `throttle` (acknowledgements aside: socket.io answers them
 * on the socket that asked). Engine internals only through engine-adapter.ts.
 *
 * Must not decide who lags (it asks the LagGate and reports back the sockets it skipped),
 * coalesce readings (LiveHubService) or handle client requests (LiveGateway).
 */
@Injectable()
export class LiveEmitter {
  private readonly logger = new Logger('LiveSocket');
  private io: LiveServer | null = null;
  private nsp: LiveNamespace | null = null;
  /** The latest broker status broadcast, sent to each new client on connect. */
  private gateway: GatewayStatus;
  private directWrites = 0;
  private engineWrites = 0;
  private readonly roomListeners: { created: RoomListener[]; deleted: RoomListener[] } = {
    created: [],
    deleted: [],
  };
  /** The other gateways' open alerts (several gateways), for the snapshot. */
  private readonly peerAlerts = new PeerAlerts();
  /** This gateway's alert events the peers could not be told yet (Redis away). */
  private readonly heldAlerts = new HeldAlerts();
  private resendTimer: ReturnType<typeof setTimeout> | null = null;
  /** Peers' alert events that were not whole alert events (ignored). */
  private malformedPeerAlerts = 0;
  /** Peers' events older than this gateway's held or due state of the alert, dropped. */
  private stalePeerAlerts = 0;
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
  private peerAlertListener: ((alert: AlertEvent) => void) | null = null;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'FLUSH_MS'>,
    /** Leaves group-scoped sockets out of alerts outside their scope (absent: everyone). */
    @Optional() private readonly audience?: AlertAudience,
    /** Other gateways share alerts through Socket.IO's Redis adapter (absent or off: none). */
    @Optional() private readonly peers?: LiveRedis,
    /** The active list's version, which every `alert` event moves (absent: the emitter's own). */
    @Optional() readonly snapshot: AlertsSnapshot = new AlertsSnapshot(),
  ) {
    // What the ingest reports until it has connected to the broker.
    this.gateway = { broker: 'disconnected', serverTime: 0, flushMs: config.FLUSH_MS };
  }

  /**
   * Take the `/live` namespace the gateway was given (Nest's `afterInit`): from here on every
   * send goes through it, and the emitter closes its server at shutdown.
   */
  bind(nsp: LiveNamespace): void {
    this.io = nsp.server;
    this.nsp = nsp;
    const { created, deleted } = this.roomListeners;
    nsp.adapter.on('create-room', (room: string) => created.forEach((listener) => listener(room)));
    nsp.adapter.on('delete-room', (room: string) => deleted.forEach((listener) => listener(room)));
    // A peer's alert, to this gateway's clients only (it sent it to its own), and into the
    // peers' open alerts a new client's snapshot includes; from here on events beat the seed.
    if (this.peers?.enabled) {
      this.peerAlerts.beginSeed();
      // Outside input, whatever the event map says: checked here, before anything reads it.
      nsp.on('pulse:alert', (event: unknown) => {
        const parsed = parseAlertEventOfAnyBuild(event);
        if (!parsed.ok) return this.rejectPeerAlert(event, parsed.field);
        const alert = parsed.alert;
        // Older than the state this gateway holds for the peers (the old holder's late resend
        // after a hand-over): its screens were told the newer one, which must stay on them.
        if (this.heldAlerts.forget(alert)) {
          this.stalePeerAlerts++;
          return;
        }
        // A repeat (a peer's resend after an outage): every screen here was told already.
        if (!this.peerAlerts.peer(alert)) return;
        this.peerAlertListener?.(alert);
        this.emitLocalAlert(alert);
      });
      // Redis (again) reachable: the peers get what changed meanwhile, and once more a little
      // later (HeldAlerts says why).
      this.peers.onEventsReady(() => this.sendHeldAlerts());
    }
    this.logger.debug(`Socket.IO namespace ${nsp.name} bound`);
  }

  /** A peer's `pulse:alert` that is no alert event: counted, logged at a bounded rate, dropped. */
  private rejectPeerAlert(event: unknown, field: string | null): void {
    this.malformedPeerAlerts++;
    const what = field === null ? 'not an object' : `bad ${field}`;
    this.rejectLog.report(
      'peer-alert',
      `ignored a malformed alert event from another gateway (${what}): ${quote(event, 80)}`,
    );
  }

  /**
   * Also tell `listener` of every alert event a peer sent and every open alert the seed added
   * (the fleet summary's alert state; one listener).
   */
  onPeerAlert(listener: (alert: AlertEvent) => void): void {
    this.peerAlertListener = listener;
  }

  /**
   * Follow room creation and deletion (the cross-gateway fan-out; shared subscribe snapshots).
   * Each call adds its listeners.
   */
  watchRooms(created: RoomListener | null, deleted: RoomListener | null): void {
    if (created) this.roomListeners.created.push(created);
    if (deleted) this.roomListeners.deleted.push(deleted);
  }

  /** The readings rooms with members on this gateway now. */
  readingsRooms(): string[] {
    const out: string[] = [];
    if (this.nsp)
      for (const room of this.nsp.adapter.rooms.keys()) if (isReadingsRoom(room)) out.push(room);
    return out;
  }

  hasMembers(room: string): boolean {
    return this.nsp !== null && this.nsp.adapter.rooms.has(room);
  }

  /**
   * One frame per room, encoded once (by the fan-out; or by the gateway that ingested the
   * readings, received over Redis) and shared by every member. A member on websocket with
   * nothing queued in engine.io gets it written straight to its TCP socket: one `write` of a
   * shared Buffer, no per-socket packet objects, events or callbacks (engine.io's per-socket
   * path was ~20 % of the fan-out profile; see docs/decisions/0005-performance.md). Order is
   * kept: a socket with packets queued in engine.io (an ack, a `device` event waiting for a
   * slow socket) and long-polling sockets take engine.io's path, like socket.io's own
   * broadcast. `except` removes sockets that get the same readings through a wider room
   * (fleet, group), so no socket receives a reading twice. Paused sockets are skipped; a
   * socket whose backlog reached its limit is skipped and pushed onto `laggards`.
   */
  writeReadings(
    room: string,
    except: readonly string[],
    encoded: EncodedEvent,
    gate: LagGate,
    laggards: LiveSocket[],
  ): void {
    const nsp = this.nsp;
    const members = nsp?.adapter.rooms.get(room);
    if (!nsp || !members || members.size === 0) return;
    const roomsOf = nsp.adapter.sids;
    const now = Date.now();
    for (const id of members) {
      if (gate.isPaused(id)) continue;
      if (except.length > 0 && inAny(roomsOf.get(id), except)) continue;
      const socket = nsp.sockets.get(id);
      if (!socket) continue;
      const wire = directWire(socket);
      if (wire) {
        // The constant first: almost every socket has nothing queued, and this runs per socket
        // per flush; the gate's limit (never below it) only for the few that have.
        const queued = wire.writableLength;
        if (queued >= LAG_PAUSE_BYTES && queued >= gate.limitBytes(id, now)) {
          laggards.push(socket);
          continue;
        }
        wire.write(encoded.frame);
        this.directWrites++;
      } else {
        // engine.io's path is bounded like the direct one: a socket with LAG_PAUSE_PACKETS
        // queued there (long-polling that stopped polling, a stalled upgrade) is a laggard now,
        // not at the monitor's next once-a-second check.
        if (queuedPackets(socket) >= LAG_PAUSE_PACKETS) {
          laggards.push(socket);
          continue;
        }
        writeToEngine(socket, encoded);
        this.engineWrites++;
      }
    }
  }

  /**
   * A merged (conflated) batch of `room` to the members `take` names (the conflator's tier),
   * encoded once, through the same two paths as writeReadings but without its lag limits: the
   * conflator paces these frames itself. Returns how many sockets it was written to.
   */
  writeMerged(
    room: string,
    except: readonly string[],
    batch: Reading[],
    take: (socketId: string) => boolean,
  ): number {
    const nsp = this.nsp;
    const members = nsp?.adapter.rooms.get(room);
    if (!nsp || !members || members.size === 0) return 0;
    let encoded: EncodedEvent | null = null;
    let written = 0;
    for (const id of members) {
      if (!take(id)) continue;
      if (except.length > 0 && inAny(nsp.adapter.sids.get(id), except)) continue;
      const socket = nsp.sockets.get(id);
      if (!socket) continue;
      encoded ??= encodeEvent(LIVE_NAMESPACE, 'readings', batch);
      const wire = directWire(socket);
      if (wire) {
        wire.write(encoded.frame);
        this.directWrites++;
      } else {
        writeToEngine(socket, encoded);
        this.engineWrites++;
      }
      written++;
    }
    return written;
  }

  /** Tell a socket its effective readings rate (`throttle`; 0 = every reading), behind its queue. */
  throttle(socket: LiveSocket, intervalMs: number): void {
    socket.emit('throttle', { intervalMs });
  }

  /** The connected socket with this id, if any. */
  socket(socketId: string): LiveSocket | undefined {
    return this.nsp?.sockets.get(socketId);
  }

  /**
   * Socket writes of readings frames so far (merged ones included): straight to the TCP socket,
   * and through engine.io.
   */
  writeStats(): { direct: number; engine: number } {
    return { direct: this.directWrites, engine: this.engineWrites };
  }

  /** `local` and the other gateways' open alerts not among them (see PeerAlerts). */
  withPeerAlerts(local: AlertEvent[]): AlertEvent[] {
    return this.peerAlerts.with(local);
  }

  /** An open alert another gateway holds, as its last event told (see PeerAlerts). */
  peerAlert(id: string): AlertEvent | undefined {
    return this.peerAlerts.get(id);
  }

  /**
   * The other gateways' open alerts held for snapshots, their events dropped as repeats or as
   * malformed, and this gateway's events held for them (undefined with one gateway).
   */
  peerAlertStats():
    | {
        open: number;
        refused: number;
        repeats: number;
        stale: number;
        malformed: number;
        held: number;
        unsent: number;
      }
    | undefined {
    if (!this.peers?.enabled) return undefined;
    return {
      open: this.peerAlerts.size,
      refused: this.peerAlerts.refused,
      repeats: this.peerAlerts.repeats,
      stale: this.stalePeerAlerts,
      malformed: this.malformedPeerAlerts,
      held: this.heldAlerts.size,
      unsent: this.heldAlerts.unsent,
    };
  }

  /**
   * One `devices` event per audience: the fleet room gets the whole batch, each group room the
   * devices of its group (its members outside the fleet room), each device room its device (its
   * members in neither), so a socket hears each device once, in as few events as the rooms it is
   * in allow. Local: every gateway hears a device's status and meta itself (retained, plain
   * subscriptions).
   */
  emitDevices(devices: readonly DeviceInfo[]): void {
    const nsp = this.nsp;
    if (!nsp || devices.length === 0) return;
    if (this.hasMembers(FLEET_ROOM))
      nsp.local.to(FLEET_ROOM).emit('devices', devices as DeviceInfo[]);
    const byGroup = new Map<string, DeviceInfo[]>();
    for (const device of devices) {
      const group = device.meta?.group ? groupRoom(device.meta.group) : null;
      if (group && this.hasMembers(group)) {
        const list = byGroup.get(group);
        if (list) list.push(device);
        else byGroup.set(group, [device]);
      }
      const room = deviceRoom(device.deviceId);
      if (!this.hasMembers(room)) continue;
      const except = group ? [FLEET_ROOM, group] : [FLEET_ROOM];
      nsp.local.to(room).except(except).emit('devices', [device]);
    }
    for (const [room, list] of byGroup) nsp.local.to(room).except(FLEET_ROOM).emit('devices', list);
  }

  /**
   * To every client of the namespace, whatever it watches (the `alerts` snapshot's set), but
   * group-scoped ones only when the device is in their scope; with peers, to theirs too.
   */
  emitAlert(alert: AlertEvent): void {
    this.peerAlerts.local(alert);
    this.emitLocalAlert(alert);
    if (!this.peers?.enabled) return;
    // Peers apply their own audience: `except` names this gateway's sockets only. Sent only
    // while Redis is reachable and nothing older waits (the order of an alert's events holds).
    if (this.nsp && this.peers.eventsConnected && this.heldAlerts.size === 0) {
      this.nsp.serverSideEmit('pulse:alert', alert);
      this.heldAlerts.sent(alert);
    } else this.heldAlerts.hold(alert);
  }

  /**
   * The held alert events (and a resend still due) to the peers, then the same once more
   * HELD_ALERTS_RESEND_MS later; a resend that finds Redis away again stays due for the next.
   */
  private sendHeldAlerts(): void {
    const nsp = this.nsp;
    if (!nsp || !this.peers?.eventsConnected) return;
    const events = this.heldAlerts.take();
    if (events.length === 0) return;
    for (const alert of events) nsp.serverSideEmit('pulse:alert', alert);
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      if (this.nsp !== nsp || !this.peers?.eventsConnected) return;
      for (const alert of this.heldAlerts.takeAgain()) nsp.serverSideEmit('pulse:alert', alert);
    }, HELD_ALERTS_RESEND_MS);
    this.resendTimer.unref();
  }

  /** A change of the active list: numbered (`v`, docs/decisions/0054), then to this gateway's clients. */
  private emitLocalAlert(alert: AlertEvent): void {
    const delta: AlertDelta = { ...alert, v: this.snapshot.changed() };
    const except = this.audience?.excluded(alert.deviceId) ?? [];
    if (except.length === 0) this.nsp?.local.emit('alert', delta);
    else this.nsp?.local.except(except as string[]).emit('alert', delta);
  }

  /**
   * A fleet summary delta to the summary room, leaving out `except` (scoped sockets, which get
   * their own filtered one): socket.io encodes a broadcast once for all its members.
   */
  emitSummary(event: SummaryEventWire, except: readonly string[]): void {
    // Local: each gateway's summary is its own (docs/decisions/0027-scale-out.md).
    const room = this.nsp?.local.to(SUMMARY_ROOM);
    if (!room) return;
    if (except.length === 0) room.emit('summary', event);
    else room.except(except as string[]).emit('summary', event);
  }

  /** Ids of the summary room's members (empty when nobody asked for the summary). */
  summaryMembers(): ReadonlySet<string> {
    return this.nsp?.adapter.rooms.get(SUMMARY_ROOM) ?? NO_MEMBERS;
  }

  /** One socket's own summary delta (a group-scoped one). */
  emitSummaryTo(socketId: string, event: SummaryEventWire): void {
    this.nsp?.sockets.get(socketId)?.emit('summary', event);
  }

  emitGateway(status: GatewayStatus): void {
    this.gateway = status;
    this.nsp?.local.emit('gateway', status); // this gateway's broker connection
  }

  /**
   * Snapshot, then deltas: the broker status and the active alerts (with peers, theirs too: see
   * {@link withPeerAlerts}), to a new client. A client that reads the list over HTTP
   * (`overHttp`, docs/decisions/0054) gets the list's version instead: `activeAlerts` is not
   * built for it; for the others it is built once per version ({@link AlertsSnapshot}).
   */
  greet(socket: LiveSocket, activeAlerts: () => AlertEvent[], overHttp: boolean): void {
    socket.emit('gateway', { ...this.gateway, serverTime: Date.now() });
    if (overHttp) {
      socket.emit('alertsVersion', { version: this.snapshot.version() });
      return;
    }
    // The list of this version, built once for every client greeted before the next change.
    const alerts = this.snapshot.current(activeAlerts).alerts as AlertEvent[];
    socket.emit(
      'alerts',
      this.audience ? this.audience.visible(socket.data.principal, alerts) : alerts,
    );
  }

  /**
   * Several gateways: learn the open alerts the peers held before this one started, from the
   * shared store's open list read at boot (AlertsService's restore); events seen since
   * {@link bind} win over it (see PeerAlerts).
   */
  seedPeerAlerts(open: readonly AlertEvent[]): void {
    if (!this.peers?.enabled) return;
    const taken = this.peerAlerts.seed(open);
    if (taken.length > 0) this.snapshot.changed(); // no event tells the clients: a new version
    for (const alert of taken) this.peerAlertListener?.(alert);
  }

  /** Tell a socket it is paused for lagging (queued behind its backlog, so read when caught up). */
  lagged(socket: LiveSocket, since: number): void {
    socket.data.lagged = (socket.data.lagged ?? 0) + 1; // shown per screen on the Screens page
    socket.emit('lagged', { since });
  }

  sockets(): Iterable<LiveSocket> {
    return this.nsp ? this.nsp.sockets.values() : [];
  }

  clientCount(): number {
    return this.nsp ? this.nsp.sockets.size : 0;
  }

  async close(): Promise<void> {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
    this.rejectLog.close();
    const io = this.io;
    this.io = null;
    this.nsp = null;
    if (!io) return;
    io.disconnectSockets(true);
    // io.close() also closes the HTTP server; Nest closes it again afterwards, harmlessly.
    await new Promise<void>((resolve) => io.close(() => resolve()));
  }
}

const NO_MEMBERS: ReadonlySet<string> = new Set();

function inAny(rooms: Set<string> | undefined, names: readonly string[]): boolean {
  if (!rooms) return false;
  for (let i = 0; i < names.length; i++) if (rooms.has(names[i])) return true;
  return false;
}
