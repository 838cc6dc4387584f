import { Logger } from '@nestjs/common';
import { FLEET_ROOM, isValidId } from '@pulse/protocol';
import type { DeviceRegistryService } from '../devices/device-registry.service';

/** How often each gateway repeats its whole room list (new peers, lost messages). */
export const INTEREST_REPEAT_MS = 2_000;
/** A peer not heard from for this long is gone (SIGKILL, network split): its rooms are dropped. */
export const INTEREST_EXPIRY_MS = 3 * INTEREST_REPEAT_MS + 1_000;
/**
 * Other gateways whose rooms are kept at most (as many as device ownership counts members); a
 * further one is not (counted): each reading asks every peer's rooms.
 */
export const INTEREST_PEERS_MAX = 64;
/**
 * Rooms of one other gateway kept at most (its screens watching this many devices and groups);
 * an `all` naming more is refused whole, an `add` beyond is not kept (both counted).
 */
export const INTEREST_ROOMS_MAX = 100_000;
/** A gateway's id on the channels is its randomUUID (36 characters); longer is no gateway's. */
export const PEER_ID_MAX_LENGTH = 64;

/** What gateways tell each other about the readings rooms their clients are in. */
export type InterestMessage =
  | { g: string; kind: 'all' | 'add' | 'del'; rooms: string[] }
  | { g: string; kind: 'hello' | 'bye' };

/**
 * A message of the room interest channel, checked whole before anything reads it (another
 * version, a bug or anyone who can publish on Redis may have sent it): a gateway id, a known kind,
 * for a list at most INTEREST_ROOMS_MAX rooms. Returns why it is refused, or the message with the
 * rooms named by the contract's ids ({@link isReadingsRoomName}) and how many others were left out.
 */
export function parseInterest(raw: Buffer): { message: InterestMessage; refused: number } | string {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const { g, kind, rooms } = value as Record<string, unknown>;
  if (typeof g !== 'string' || g.length === 0 || g.length > PEER_ID_MAX_LENGTH)
    return 'bad gateway id';
  if (kind === 'hello' || kind === 'bye') return { message: { g, kind }, refused: 0 };
  if (kind !== 'all' && kind !== 'add' && kind !== 'del') return 'unknown kind';
  if (!Array.isArray(rooms)) return 'no room list';
  if (rooms.length > INTEREST_ROOMS_MAX) return `more than ${INTEREST_ROOMS_MAX} rooms`;
  const named = rooms.filter(isReadingsRoomName);
  return { message: { g, kind, rooms: named }, refused: rooms.length - named.length };
}

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
  /** Gateways beyond INTEREST_PEERS_MAX and rooms beyond INTEREST_ROOMS_MAX, not kept. */
  overLimit = 0;

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

  /**
   * A message from the interest channel, checked by {@link parseInterest}. A gateway beyond
   * INTEREST_PEERS_MAX is not kept, nor a peer's room beyond INTEREST_ROOMS_MAX (counted).
   */
  receive(message: InterestMessage): void {
    if (message.g === this.self) return;
    if (message.kind === 'bye') {
      this.peers.delete(message.g);
      return;
    }
    let peer = this.peers.get(message.g);
    if (!peer) {
      if (this.peers.size >= INTEREST_PEERS_MAX) {
        this.overLimit++;
        return;
      }
      peer = { rooms: new Set(), heardAt: 0, complete: false };
      this.peers.set(message.g, peer);
    }
    peer.heardAt = this.now();
    if (message.kind === 'hello') return this.announceAll();
    const rooms = (message as { rooms: string[] }).rooms;
    if (message.kind === 'del') {
      for (const room of rooms) peer.rooms.delete(room);
      return;
    }
    const known = peer.rooms;
    let added = rooms.filter((room) => !known.has(room));
    if (message.kind === 'all') {
      peer.rooms = new Set(rooms);
      peer.complete = true;
    } else {
      const room = INTEREST_ROOMS_MAX - known.size;
      if (added.length > room) {
        this.overLimit += added.length - room;
        added = added.slice(0, Math.max(0, room));
      }
      for (const name of added) known.add(name);
    }
    if (added.length > 0) this.onAdded(message.g, added);
  }
}
