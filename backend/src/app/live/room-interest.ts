import { Logger } from '@nestjs/common';
import { FLEET_ROOM, isValidId } from '@pulse/protocol';
import type { DeviceRegistryService } from '../devices/device-registry.service';

/** How often each gateway repeats its whole room list (new peers, lost messages). */
export const INTEREST_REPEAT_MS = 2_000;
/** A peer not heard from for this long is gone (SIGKILL, network split): its rooms are dropped. */
export const INTEREST_EXPIRY_MS = 3 * INTEREST_REPEAT_MS + 1_000;

/** What gateways tell each other about the readings rooms their clients are in. */
export type InterestMessage =
  | { g: string; kind: 'all' | 'add' | 'del'; rooms: string[] }
  | { g: string; kind: 'hello' | 'bye' };

/** The rooms the live hub flushes readings to (not socket-id rooms, not `summary`). */
export function isReadingsRoom(room: string): boolean {
  return room === FLEET_ROOM || room.startsWith('device:') || room.startsWith('group:');
}

/**
 * `room` is a readings room by the contract's ids (`fleet`, `device:<id>`, `group:<id>`): what a
 * room named by another gateway must be (an id outside the contract names no room here).
 */
export function isReadingsRoomName(room: unknown): room is string {
  if (typeof room !== 'string') return false;
  if (room === FLEET_ROOM) return true;
  if (room.startsWith('device:')) return isValidId(room.slice('device:'.length));
  return room.startsWith('group:') && isValidId(room.slice('group:'.length));
}

/**
 * The devices a readings room covers: a device room's one, a group room's members (the
 * registry's), and for the fleet room whatever `fleet` lists (the caller's notion of every device).
 */
export function devicesOfRoom(
  room: string,
  registry: Pick<DeviceRegistryService, 'inGroup'>,
  fleet: () => Iterable<string>,
): Iterable<string> {
  if (room === FLEET_ROOM) return fleet();
  if (room.startsWith('group:'))
    return registry.inGroup(room.slice('group:'.length)).map((d) => d.deviceId);
  if (room.startsWith('device:')) return [room.slice('device:'.length)];
  return [];
}

interface Peer {
  rooms: Set<string>;
  heardAt: number;
  /** Its whole list (`all`) has arrived since this gateway's last hello: its rooms are known. */
  complete: boolean;
}

/**
 * Which readings rooms have members on the other gateways, so the ingesting gateway buffers and
 * publishes a room's batch only when someone somewhere watches it (rooms nobody watches cost
 * nothing, as with one gateway). Each gateway announces a room as it gets its first member and
 * as it loses its last one, its whole list every INTEREST_REPEAT_MS and in answer to a `hello`
 * (a gateway that just started). A peer silent for INTEREST_EXPIRY_MS, or that said `bye`, has no
 * rooms any more.
 *
 * Owns the peers' room sets and the messages about them; must not touch Redis (it is handed a
 * `send`) or sockets (it is told about local rooms and asked `has`).
 */
export class RoomInterest {
  private readonly logger = new Logger('RoomInterest');
  private readonly peers = new Map<string, Peer>();

  constructor(
    /** This gateway's id in every message (its own messages come back and are ignored). */
    readonly self: string,
    private readonly send: (message: InterestMessage) => void,
    /** This gateway's readings rooms with members now. */
    private readonly localRooms: () => string[],
    private readonly now: () => number = Date.now,
    /** Rooms a peer's screens watch now that they did not before (its `add`, or new in its `all`). */
    private readonly onAdded: (peer: string, rooms: string[]) => void = () => undefined,
  ) {}

  /** A peer watches `room`. */
  has(room: string): boolean {
    for (const peer of this.peers.values()) if (peer.rooms.has(room)) return true;
    return false;
  }

  /** Peers heard from and not expired. */
  peerCount(): number {
    return this.peers.size;
  }

  /** Peers whose whole room list arrived since the last {@link hello} (not just an add or del). */
  knownPeerCount(): number {
    let known = 0;
    for (const peer of this.peers.values()) if (peer.complete) known++;
    return known;
  }

  hello(): void {
    for (const peer of this.peers.values()) peer.complete = false;
    this.send({ g: this.self, kind: 'hello' });
    this.announceAll();
  }

  bye(): void {
    this.send({ g: this.self, kind: 'bye' });
  }

  announceAll(): void {
    this.send({ g: this.self, kind: 'all', rooms: this.localRooms() });
  }

  created(room: string): void {
    if (isReadingsRoom(room)) this.send({ g: this.self, kind: 'add', rooms: [room] });
  }

  deleted(room: string): void {
    if (isReadingsRoom(room)) this.send({ g: this.self, kind: 'del', rooms: [room] });
  }

  /** Drop peers not heard from in INTEREST_EXPIRY_MS (called with each repeat). */
  expire(): void {
    const cutoff = this.now() - INTEREST_EXPIRY_MS;
    for (const [id, peer] of this.peers)
      if (peer.heardAt < cutoff) {
        this.peers.delete(id);
        this.logger.log(`gateway ${id} silent for ${INTEREST_EXPIRY_MS} ms: its rooms dropped`);
      }
  }

  /** A message from the interest channel (untrusted shape: another version may have sent it). */
  receive(message: InterestMessage): void {
    if (typeof message?.g !== 'string' || message.g === this.self) return;
    if (message.kind === 'bye') {
      this.peers.delete(message.g);
      return;
    }
    let peer = this.peers.get(message.g);
    if (!peer) {
      peer = { rooms: new Set(), heardAt: 0, complete: false };
      this.peers.set(message.g, peer);
    }
    peer.heardAt = this.now();
    if (message.kind === 'hello') return this.announceAll();
    const rooms = (message as { rooms?: unknown }).rooms;
    if (!Array.isArray(rooms)) return;
    const named = rooms.filter((room): room is string => typeof room === 'string');
    if (message.kind === 'del') {
      for (const room of named) peer.rooms.delete(room);
      return;
    }
    if (message.kind !== 'all' && message.kind !== 'add') return;
    const added = named.filter((room) => isReadingsRoom(room) && !peer.rooms.has(room));
    if (message.kind === 'all') {
      peer.rooms = new Set(named.filter(isReadingsRoom));
      peer.complete = true;
    } else for (const room of added) peer.rooms.add(room);
    if (added.length > 0) this.onAdded(message.g, added);
  }
}
