import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import { CrossGatewayStats, LIVE_NAMESPACE, Reading } from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { EncodedEvent, encodeEvent, eventOfFrame } from './engine-adapter';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import type { PeerCatchUp } from './peer-catch-up';
import { LocalReadingsFanOut, ReadingsFanOut, RelayedHandler } from './readings-fan-out';
import { INTEREST_REPEAT_MS, InterestMessage, RoomInterest } from './room-interest';

/** Format version in the first byte of every readings message (an old gateway skips a new one). */
const VERSION = 1;
/**
 * Longest a starting gateway holds its ingest back to learn what its peers' screens watch
 * (Redis unreachable at boot: it ingests anyway, relaying to peers once it hears them).
 */
export const INTEREST_LEARN_MAX_MS = 5_000;

/**
 * Who sent a batch, for which room, leaving out which wider rooms' members; `t`: for that gateway
 * only (a catch-up), the others ignore it.
 */
interface BatchHeader {
  g: string;
  r: string;
  x: readonly string[];
  t?: string;
}

/**
 * The cross-gateway fan-out (REDIS_URL set): each flushed room batch is encoded once, written to
 * this gateway's members by the local direct-write fan-out, and — when a peer's clients watch the
 * room ({@link RoomInterest}) — published once to Redis as the same websocket frame, with the room
 * and its `except` rooms in a small header. Every other gateway hands the batch to its hub
 * ({@link onRelayed}), which buffers it with its own and flushes it on its own tick to its own
 * members through the same local path (lag gate, conflation, engine.io fallback): a gateway with
 * no screens flushes almost at once, in batches of a reading or two, and the one holding the
 * screens must not write each of those to every socket. So a socket gets a reading from the one
 * gateway it is connected to, once: the gateway that ingested it writes only its own sockets and
 * ignores its own message coming back.
 *
 * Owns the message format and the peers' room interest; must not write to sockets (the local
 * fan-out does) or hold Redis connections (LiveRedis does).
 */
export class CrossGatewayFanOut implements ReadingsFanOut, BeforeApplicationShutdown {
  private readonly logger = new Logger('CrossGatewayFanOut');
  /** This process's identity on the channels; a restarted gateway is a new peer. */
  readonly gatewayId = randomUUID();
  private readonly readingsChannel: string;
  private readonly interestChannel: string;
  private readonly interest: RoomInterest;
  private timer: ReturnType<typeof setInterval> | null = null;
  private published = 0;
  private received = 0;
  private catchUpsSent = 0;
  private catchUpReadings = 0;
  /** The hub's buffer for peers' batches; until it is set they are written at once. */
  private relayed: RelayedHandler | null = null;
  /** Resolves once every peer's rooms are known (or INTEREST_LEARN_MAX_MS passed). */
  private readonly learned: Promise<void>;
  private resolveLearned: () => void = () => undefined;
  private learnedDone = false;
  private readonly giveUp: ReturnType<typeof setTimeout>;

  constructor(
    private readonly local: LocalReadingsFanOut,
    private readonly emitter: LiveEmitter,
    private readonly redis: LiveRedis,
    /** The window's side of a shared ingest: peers' relays kept, catch-ups made (peer-catch-up.ts). */
    private readonly peers?: Pick<PeerCatchUp, 'remember' | 'catchUp' | 'stats'>,
  ) {
    this.readingsChannel = redis.channel('readings');
    this.interestChannel = redis.channel('rooms');
    this.interest = new RoomInterest(
      this.gatewayId,
      (message) => redis.publish(this.interestChannel, Buffer.from(JSON.stringify(message))),
      () => emitter.readingsRooms(),
      Date.now,
      (peer, rooms) => this.catchUp(peer, rooms),
    );
    emitter.watchRooms(
      (room) => this.interest.created(room),
      (room) => this.interest.deleted(room),
    );
    redis.subscribe(this.readingsChannel, (message) => this.receive(message));
    redis.subscribe(this.interestChannel, (message) => this.receiveInterest(message));
    this.learned = new Promise((resolve) => (this.resolveLearned = resolve));
    this.giveUp = setTimeout(() => {
      this.logger.warn(
        `the other gateways' rooms not known after ${INTEREST_LEARN_MAX_MS} ms (Redis unreachable?): ` +
          'ingesting anyway; readings reach their screens through history until they are',
      );
      this.markLearned();
    }, INTEREST_LEARN_MAX_MS);
    this.giveUp.unref();
    // Published only once connected (readings and interest are not queued while Redis is
    // away); again after a Redis restart, whose peers may have missed anything in between.
    redis.onPublisherReady(() => void this.greet());
    this.timer = setInterval(() => {
      this.interest.expire();
      this.interest.announceAll();
    }, INTEREST_REPEAT_MS);
    this.timer.unref();
  }

  /**
   * Resolves once this gateway knows which rooms every other gateway's screens watch: the ingest
   * waits for it, so no reading it takes before then misses a peer's screen. Right after the
   * `hello` every live peer answers with its rooms; how many there are, Redis tells (each
   * gateway holds one subscription on the interest channel). At most INTEREST_LEARN_MAX_MS.
   */
  interestKnown(): Promise<void> {
    return this.learned;
  }

  private markLearned(): void {
    if (this.learnedDone) return;
    this.learnedDone = true;
    clearTimeout(this.giveUp);
    this.resolveLearned();
  }

  /** Say hello once listening (the answers must find us subscribed); learn who answers. */
  private async greet(): Promise<void> {
    await this.redis.whenSubscribed();
    this.interest.hello();
    if (this.learnedDone) return;
    let gateways = 0;
    try {
      gateways = await this.redis.subscribers(this.interestChannel);
    } catch {
      return; // Redis went away again: the next `ready` greets again, or the cap ends the wait
    }
    // Every live peer repeats its whole list within INTEREST_REPEAT_MS even if an answer was lost.
    const deadline = Date.now() + INTEREST_REPEAT_MS + 250;
    while (this.interest.knownPeerCount() < gateways - 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    this.markLearned();
  }

  hasMembers(room: string): boolean {
    return this.local.hasMembers(room) || this.interest.has(room);
  }

  hasLocalMembers(room: string): boolean {
    return this.local.hasMembers(room);
  }

  send(room: string, except: readonly string[], batch: Reading[]): void {
    const encoded = encodeEvent(LIVE_NAMESPACE, 'readings', batch);
    this.local.write(room, except, encoded, () => batch);
    if (!this.interest.has(room)) return;
    if (
      this.redis.publish(
        this.readingsChannel,
        pack({ g: this.gatewayId, r: room, x: except }, encoded.frame),
      )
    )
      this.published++;
  }

  onRelayed(handler: RelayedHandler): void {
    this.relayed = handler;
  }

  sendLocal(room: string, except: readonly string[], batch: Reading[]): void {
    this.local.write(room, except, encodeEvent(LIVE_NAMESPACE, 'readings', batch), () => batch);
  }

  /**
   * A peer's screens watch `rooms` now: what this gateway holds of them that the store may not
   * have yet goes to that peer alone, before anything relayed from now on (one channel, in order).
   */
  private catchUp(peer: string, rooms: string[]): void {
    if (!this.peers) return;
    for (const room of rooms) {
      const readings = this.peers.catchUp(room);
      if (readings.length === 0) continue;
      const { frame } = encodeEvent(LIVE_NAMESPACE, 'readings', readings);
      const header = { g: this.gatewayId, r: room, x: [], t: peer };
      if (!this.redis.publish(this.readingsChannel, pack(header, frame))) continue;
      this.catchUpsSent++;
      this.catchUpReadings += readings.length;
    }
  }

  /**
   * Batches published to and received from the other gateways, peers known; catch-ups sent (their
   * readings, those cut at CATCH_UP_MAX_READINGS, those skipped over CATCH_UP_BUDGET_PER_S) and
   * relayed readings remembered.
   */
  stats(): CrossGatewayStats {
    const peers = this.peers?.stats();
    return {
      published: this.published,
      received: this.received,
      peers: this.interest.peerCount(),
      failures: this.redis.failures(),
      catchUps: this.catchUpsSent,
      catchUpReadings: this.catchUpReadings,
      catchUpsCapped: peers?.capped ?? 0,
      catchUpsSkipped: peers?.skipped ?? 0,
      remembered: peers?.remembered ?? 0,
    };
  }

  /** Before LiveRedis closes: the peers drop this gateway's rooms at once. */
  beforeApplicationShutdown(): void {
    this.markLearned();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.interest.bye();
  }

  private receive(message: Buffer): void {
    const unpacked = unpack(message);
    if (!unpacked || unpacked.header.g === this.gatewayId) return;
    const { header, frame } = unpacked;
    if (header.t !== undefined && header.t !== this.gatewayId) return; // another's catch-up
    if (!this.local.hasMembers(header.r)) return;
    this.received++;
    const encoded: EncodedEvent = eventOfFrame(frame);
    if (!this.relayed)
      return this.local.write(header.r, header.x, encoded, () => readingsOf(encoded));
    let batch: Reading[];
    try {
      batch = readingsOf(encoded);
    } catch {
      this.logger.warn('unreadable readings message ignored');
      return;
    }
    this.peers?.remember(batch);
    this.relayed(header.r, header.x, batch);
  }

  private receiveInterest(message: Buffer): void {
    try {
      this.interest.receive(JSON.parse(message.toString('utf8')) as InterestMessage);
    } catch {
      this.logger.warn('unreadable room interest message ignored');
    }
  }
}

/** [version][u16 header length][header JSON][websocket frame]. */
function pack(header: BatchHeader, frame: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(3 + json.length + frame.length);
  out[0] = VERSION;
  out.writeUInt16BE(json.length, 1);
  json.copy(out, 3);
  frame.copy(out, 3 + json.length);
  return out;
}

function unpack(message: Buffer): { header: BatchHeader; frame: Buffer } | null {
  if (message.length < 3 || message[0] !== VERSION) return null;
  const length = message.readUInt16BE(1);
  try {
    const header = JSON.parse(message.toString('utf8', 3, 3 + length)) as BatchHeader;
    if (typeof header.r !== 'string' || !Array.isArray(header.x)) return null;
    return { header, frame: message.subarray(3 + length) };
  } catch {
    return null;
  }
}

/** The batch inside a received readings event (only the conflator needs it as objects). */
function readingsOf(encoded: EncodedEvent): Reading[] {
  const packet = encoded.packets[0];
  return (JSON.parse(packet.slice(packet.indexOf('['))) as [string, Reading[]])[1];
}
