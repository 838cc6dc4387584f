import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import {
  CrossGatewayStats,
  isDecodedReading,
  LIVE_NAMESPACE,
  PEER_FUTURE_SKEW_MS,
  quote,
  Reading,
} from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { RateLimitedLog } from '../common/rate-limited-log';
import { encodeEvent, eventOfFrame } from './engine-adapter';
import { ROOM_BUFFER_LIMIT } from './live-hub.service';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import type { PeerCatchUp } from './peer-catch-up';
import { LocalReadingsFanOut, ReadingsFanOut, RelayedHandler } from './readings-fan-out';
import {
  INTEREST_PEERS_MAX,
  INTEREST_REPEAT_MS,
  INTEREST_ROOMS_MAX,
  isReadingsRoomName,
  parseInterest,
  PEER_ID_MAX_LENGTH,
  RoomInterest,
} from './room-interest';

/** Format version in the first byte of every readings message (an old gateway skips a new one). */
const VERSION = 1;
/**
 * Longest a starting gateway holds its ingest back to learn what its peers' screens watch
 * (Redis unreachable at boot: it ingests anyway, relaying to peers once it hears them).
 */
export const INTEREST_LEARN_MAX_MS = 5_000;
/**
 * Readings in one relayed batch at most: a gateway flushes a room's buffer, which holds no more
 * (ROOM_BUFFER_LIMIT); a bigger batch is refused whole, unread.
 */
export const RELAYED_BATCH_MAX = ROOM_BUFFER_LIMIT;

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
  /** Refusals of what peers sent, logged at a bounded rate (each one counted). */
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
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
  /** Peers' readings messages refused whole, and readings refused inside the others. */
  private malformed = 0;
  private malformedReadings = 0;
  /** Peers' room interest messages refused whole, and room names left out of the others. */
  private interestMalformed = 0;
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
      malformed: this.malformed,
      malformedReadings: this.malformedReadings,
      interestMalformed: this.interestMalformed,
      interestOverLimit: this.interest.overLimit,
      adapterRefused: this.redis.adapterRefused(),
    };
  }

  /** Before LiveRedis closes: the peers drop this gateway's rooms at once. */
  beforeApplicationShutdown(): void {
    this.markLearned();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.interest.bye();
    this.rejectLog.close();
  }

  /**
   * A peer's room batch, read through {@link parseRelayed} and {@link relayedBatch} (outside
   * input: the one check of this channel), to this gateway's hub, which flushes it to its members
   * on its own tick. Until the hub is bound, written to them at once, encoded here: a peer's frame
   * is never written as is. Every gateway hears every batch on the channel, its own included: the
   * header says whether one is for a screen here, and only such a batch is parsed and checked
   * (the JSON parse and the check of each reading are most of what a batch costs).
   */
  private receive(message: Buffer): void {
    const relayed = parseRelayed(message);
    if (typeof relayed === 'string') return this.reject(relayed, message);
    const { header, frame } = relayed;
    if (header.g === this.gatewayId) return;
    if (header.t !== undefined && header.t !== this.gatewayId) return; // another's catch-up
    if (!this.local.hasMembers(header.r)) return;
    const read = relayedBatch(frame, Date.now() + PEER_FUTURE_SKEW_MS);
    if (typeof read === 'string') return this.reject(read, message);
    const { batch, refused } = read;
    if (refused > 0) {
      this.malformedReadings += refused;
      this.rejectLog.report(
        'reading',
        `ignored ${refused} malformed reading(s) in a batch from gateway ${header.g} for ${header.r}`,
      );
    }
    if (batch.length === 0) return;
    this.received++;
    this.peers?.remember(batch);
    if (this.relayed) this.relayed(header.r, header.x, batch);
    else this.sendLocal(header.r, header.x, batch);
  }

  private reject(why: string, message: Buffer): void {
    this.malformed++;
    this.rejectLog.report(
      'message',
      `ignored a readings message from another gateway (${why}): ${quote(message.toString('utf8', 0, 120), 80)}`,
    );
  }

  /** A peer's room interest, read through parseInterest (the one check of this channel). */
  private receiveInterest(raw: Buffer): void {
    const parsed = parseInterest(raw);
    if (typeof parsed === 'string') {
      this.interestMalformed++;
      this.rejectLog.report(
        'interest',
        `ignored a room interest message from another gateway (${parsed}): ${quote(raw.toString('utf8', 0, 120), 80)}`,
      );
      return;
    }
    const { message, refused } = parsed;
    if (refused > 0) {
      this.interestMalformed += refused;
      this.rejectLog.report(
        'interest-room',
        `ignored ${refused} room name(s) outside the contract in the room interest of gateway ${message.g}`,
      );
    }
    const overLimit = this.interest.overLimit;
    this.interest.receive(message);
    if (this.interest.overLimit > overLimit)
      this.rejectLog.report(
        'interest-limit',
        `room interest of gateway ${message.g} not kept: over ${INTEREST_PEERS_MAX} gateways or ${INTEREST_ROOMS_MAX} rooms`,
      );
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

/**
 * A message of the readings channel, its envelope checked before anything else reads it: the
 * format version and a header of a gateway id, a readings room and its `except` rooms (and a
 * catch-up's target). Returns why it is refused, or the header and the frame after it, which
 * {@link relayedBatch} reads once the header says the batch is for a screen here.
 */
export function parseRelayed(message: Buffer): { header: BatchHeader; frame: Buffer } | string {
  if (message.length < 3 || message[0] !== VERSION) return 'another format version';
  const end = 3 + message.readUInt16BE(1);
  if (end > message.length) return 'cut short';
  let header: unknown;
  try {
    header = JSON.parse(message.toString('utf8', 3, end));
  } catch {
    return 'a header that is not JSON';
  }
  if (!isBatchHeader(header)) return 'a malformed header';
  return { header, frame: message.subarray(end) };
}

/**
 * The batch of a relayed message's frame: a websocket text frame of a `readings` event whose
 * batch is an array of at most RELAYED_BATCH_MAX. Returns why it is refused, or the batch's valid
 * readings (each {@link isDecodedReading}, stamped no later than `latestTs`) with how many others
 * were left out. Per reading: one key walk and a few comparisons, the id and metric-name pattern
 * tests (about what the ingest's decoder spends on it), after the batch's JSON parse.
 */
export function relayedBatch(
  frame: Buffer,
  latestTs: number,
): { batch: Reading[]; refused: number } | string {
  const batch = batchOf(frame);
  if (batch === null) return 'no readings event';
  if (batch.length > RELAYED_BATCH_MAX) return `more than ${RELAYED_BATCH_MAX} readings`;
  let valid = 0;
  for (let i = 0; i < batch.length; i++)
    if (isDecodedReading(batch[i], latestTs)) batch[valid++] = batch[i] as Reading;
  const refused = batch.length - valid;
  batch.length = valid;
  return { batch: batch as Reading[], refused };
}

function isBatchHeader(value: unknown): value is BatchHeader {
  if (typeof value !== 'object' || value === null) return false;
  const { g, r, x, t } = value as Partial<Record<keyof BatchHeader, unknown>>;
  return (
    isPeerId(g) &&
    isReadingsRoomName(r) &&
    Array.isArray(x) &&
    x.length <= 2 &&
    x.every(isReadingsRoomName) &&
    (t === undefined || isPeerId(t))
  );
}

function isPeerId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= PEER_ID_MAX_LENGTH;
}

/**
 * The batch of a websocket text frame holding `42/live,["readings",[...]]` (as encodeEvent
 * makes it), or null: another frame, another event, not JSON. Its elements are not checked here.
 */
function batchOf(frame: Buffer): unknown[] | null {
  if (frame.length < 2 || (frame[0] & 0x0f) !== 0x1) return null;
  const packet = eventOfFrame(frame).packets[0];
  const prefix = `2${LIVE_NAMESPACE},`; // Engine.IO's `4` is left out by eventOfFrame
  if (!packet.startsWith(prefix)) return null;
  let event: unknown;
  try {
    event = JSON.parse(packet.slice(prefix.length));
  } catch {
    return null;
  }
  if (!Array.isArray(event) || event.length !== 2 || event[0] !== 'readings') return null;
  return Array.isArray(event[1]) ? (event[1] as unknown[]) : null;
}
