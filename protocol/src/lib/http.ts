import { REJECT_REASONS, RejectReason } from './rejections';
import type { DeviceInfo, MetricSeries } from './model';
import type { AlertStats } from './alerts';
import type { WireSeries } from './series-wire';

/*
 * HTTP response shapes and the stats counters. Part of the zod-free core entry: it must not
 * import zod or any `*.schema.ts` value (the history query schema lives in `http.schema.ts`).
 */

export interface DeviceListResponse {
  devices: DeviceInfo[];
}

export interface HistoryResponse {
  deviceId: string;
  series: MetricSeries[];
}

/**
 * `GET /api/history?devices=…`: every metric of each device asked that the caller may see (a
 * device unknown or outside a scoped caller's groups has no series), plain or with time deltas.
 */
export interface WindowsResponse {
  series: WireSeries[];
}

/**
 * `GET /api/devices/:id/origin`: where a device's messages come from — the ingest source's name
 * (`tasmota`, a sources-file name; null: Pulse's own contract) — and the fields its format left
 * out lately (newest first, at most 16), so an owner sees why a field is missing.
 */
export interface DeviceOrigin {
  deviceId: string;
  source: string | null;
  skipped: { field: string; reason: string; at: number }[];
}

/** `GET /api/stats` → `history.store`: the durable history store's write queue and counters. */
export interface HistoryStoreStats {
  kind: 'sqlite' | 'postgres';
  /** Values waiting to be written, and the most that may wait (HISTORY_QUEUE_MAX). */
  queued: number;
  queueLimit: number;
  /** Values written new, and values the store already held (a retry's duplicate, kept once). */
  written: number;
  duplicates: number;
  /**
   * Values never written, by reason: the queue was at twice HISTORY_QUEUE_MAX (acknowledgements
   * are withheld from the limit on, so only QoS 0 floods or many connections reach it), or the
   * store failed every retry.
   */
  dropped: { queueFull: number; writeFailed: number };
  /** Transactions written, failed write attempts (retried), last and slowest flush in ms. */
  flushes: number;
  failures: number;
  lastFlushMs: number;
  maxFlushMs: number;
  /** Rows (PostgreSQL: rows or day partitions) deleted by retention. */
  pruned: number;
  /** Messages whose broker acknowledgement waited for room in the queue (QoS 1 backpressure). */
  acksWithheld?: number;
  /**
   * Range reads sent to the store, asks answered by an identical read of the same second
   * (a reconnect storm: every screen asking the same window is one read per series), and asks
   * the store failed (answered 503 over HTTP, the cause logged at most once per 10 s).
   */
  reads?: { made: number; shared: number; failed: number };
  /**
   * PostgreSQL: background passes that roll ended minutes up from the raw rows and failed (the
   * next pass retries; reads stay exact meanwhile, aggregating the raw rows not rolled up).
   */
  rollupFailures?: number;
  /**
   * The write-ahead journal of QoS 1 readings: segment files now, messages appended, messages of
   * the previous run written at start, torn lines skipped.
   */
  journal?: {
    segments: number;
    appended: number;
    recovered: number;
    unreadable: number;
    /** Values written from dead peers' journals (several gateways on one DATA_DIR), lines unreadable there. */
    peerReplayed?: number;
    peerUnreadable?: number;
  };
}

/** `GET /api/stats`: ingest and fan-out counters since start. */
export interface IngestStats {
  /** The Pulse version the gateway runs (the root package.json's, read when it was built). */
  version: string;
  startedAt: number;
  broker: {
    mode: 'embedded' | 'external';
    url: string;
    connected: boolean;
    reconnects: number;
    /**
     * Several gateways on a shared broker: MQTT sessions of lost gateways this one drained,
     * messages taken from them, values written from their journals (shared DATA_DIR), failures.
     */
    drained?: { sessions: number; messages: number; journalValues: number; failures: number };
    /** The embedded broker's persistent MQTT sessions and their bounds (docs/limits.md). */
    sessions?: BrokerSessionStats;
  };
  messages: { received: number; telemetry: number; status: number; meta: number };
  readings: { accepted: number; rejected: number };
  rejected: Record<RejectReason, number>;
  /**
   * Ingest sources (issue 14): the topic filters subscribed besides the contract's, messages per
   * source, those of them set aside as normal firmware messages without readings (a Shelly
   * NotifyEvent), fields a format skipped by reason (`string`, `null`, `array`, …), and the first
   * distinct topics no source matched (counted under `rejected.topic`).
   */
  sources?: {
    filters: string[];
    messages: Record<string, number>;
    ignored: Record<string, number>;
    skippedFields: Record<string, number>;
    unmatchedTopics: string[];
    /**
     * Home Assistant discovery (`INGEST_PRESETS=homeassistant`): entities discovered (at most
     * `limit`), announcements read and removals, announcements skipped by reason (`component`:
     * not a sensor or binary_sensor; `template`: a value_template Pulse does not read;
     * `invalid`; `limit`; `claimed_topic`: a state or availability topic another source names a
     * device by, read that way; `reserved`: a device id with its own
     * credentials), and the first unsupported templates seen.
     */
    discovery?: {
      entities: number;
      limit: number;
      announcements: number;
      removed: number;
      skipped: Partial<
        Record<
          'component' | 'template' | 'invalid' | 'limit' | 'claimed_topic' | 'reserved',
          number
        >
      >;
      unsupportedTemplates: string[];
    };
  };
  devices: {
    known: number;
    online: number;
    limit: number;
    refusedNew: number;
    /** Devices evicted (idle longest) to make room for new ones or for history points. */
    evicted?: number;
    /** Devices an admin removed (`DELETE /api/devices/:id`). */
    removed?: number;
  };
  history: {
    series: number;
    points: number;
    /** HISTORY_MAX_TOTAL_POINTS: `points` never goes beyond it. */
    limit?: number;
    /** Points not kept, or that pushed out their series' oldest, while at the limit. */
    overBudget?: number;
    /** The durable store behind the recent window (docs/decisions/0021). */
    store?: HistoryStoreStats;
  };
  live: {
    clients: number;
    emits: number;
    readingsSent: number;
    flushMs: number;
    /** Times a lagging socket was paused (told `lagged`; readings withheld until it re-subscribed or drained). */
    lagPauses: number;
    /** Sockets disconnected after lagging too long. */
    lagDisconnects: number;
    /** Subscribes answered `busy` because the socket had too much unread data queued. */
    ackRefusals?: number;
    /** Sockets disconnected for subscribing again and again without reading. */
    ackDisconnects?: number;
    /**
     * Subscribe answers whose history was encoded, and those that reused one encoded for an
     * identical subscribe since the last flush (a reconnect storm: one encoding, many screens).
     */
    ackSnapshots?: { made: number; reused: number };
    /** Readings dropped from a full room buffer (oldest first) between two flushes. */
    droppedOverflow: number;
    /** `alert` events pushed (one broadcast per lifecycle change). */
    alertsSent: number;
    /** Device changes sent in `devices` events (each device once per batch). */
    devicesSent?: number;
    /** Flush ticks of the live hub (each emits one `readings` batch per room with readings). */
    flushes?: number;
    /** CPU cost of the last flush in ms; the adaptive tick waits a multiple of it. */
    lastFlushCostMs?: number;
    /** Live connections closed, by Socket.IO reason (`ping timeout`, `transport close`, …). */
    disconnects?: Record<string, number>;
    /**
     * The fleet summary: devices it holds, `summary` pushes sent, metric names left out of its
     * table because it was full (LIMITS.maxSummaryMetrics), open alerts of devices not known yet
     * left out because 10,000 such devices were waiting. Several gateways (`shared`): share
     * messages published to and received from the other gateways, devices applied from them,
     * malformed messages or devices ignored, and devices an admin removed: published to the
     * others, not sent (Redis unreachable with REMOVALS_HELD_MAX waiting), received from them,
     * waiting for Redis now (`removalsHeld`), and received for a device heard after its removal
     * (`removalsStale`: not applied).
     */
    summary?: {
      devices: number;
      pushes: number;
      droppedMetrics: number;
      droppedAlerts?: number;
      shared?: {
        published: number;
        received: number;
        devices: number;
        rejected: number;
        removalsPublished?: number;
        removalsUnsent?: number;
        removalsReceived?: number;
        removalsHeld?: number;
        removalsStale?: number;
      };
    };
    /** Readings frames written straight to a websocket's TCP socket (the shared pre-encoded frame). */
    directWrites?: number;
    /** Readings frames written through engine.io (long-polling, or packets already queued). */
    engineWrites?: number;
    /**
     * Subscribe answers with a shared encoded part (history, fleet summary) written as a frame of
     * their own straight to a websocket's TCP socket; the others went through socket.io.
     */
    directAcks?: number;
    /**
     * Several gateways: the other gateways' open alerts held for new clients' snapshots, and
     * those left out at the limit (PEER_ALERTS_MAX); their events that said what was held already
     * and went to no client (`repeats`: a peer's resend after an outage); events older than the
     * state this gateway holds of the alert to send (`stale`: the old holder's late resend after
     * a hand-over), dropped likewise; events that were no
     * whole alert event and were ignored (`malformed`); this gateway's alerts whose newest event
     * waits for Redis to be reachable again (`held`), and events not held at that limit
     * (`unsent`).
     */
    peerAlerts?: {
      open: number;
      refused: number;
      repeats?: number;
      stale?: number;
      malformed?: number;
      held?: number;
      unsent?: number;
    };
    /**
     * Several gateways: acknowledgements that found no gateway holding their alert (a hand-over),
     * and the other gateways' malformed ack requests and answers.
     */
    peerAcks?: PeerAckStats;
    /**
     * Conflation of slow clients: connections throttled now, times one was throttled (entered),
     * slowed further (demoted), back to every reading (recovered), merged frames written.
     */
    conflation?: {
      throttled: number;
      entered: number;
      demoted: number;
      recovered: number;
      frames: number;
      /** While the gateway is overloaded: the slowest rate every client is held to (0: none). */
      floorMs?: number;
    };
    /**
     * The gateway's own load: event loop utilisation over the last second (0..1) and the share
     * of its busy time spent flushing readings (`fanOut`, 0..1), times every client was throttled
     * one tier slower for it (raised) and let faster again (lowered), and seconds it spent
     * overloaded; `probes`: times the floor was tried one tier lower.
     */
    gatewayLoad?: {
      elu: number;
      fanOut?: number;
      raised: number;
      lowered: number;
      probes?: number;
      overloadedSeconds: number;
      /** Saturated seconds with too few clients to throttle (decision 0019). */
      fewClientsSeconds?: number;
    };
    /**
     * With REDIS_URL: room batches this gateway published for the others and received from them,
     * gateways whose screens watch a room here, and publishes Redis refused (docs/decisions/0027).
     */
    crossGateway?: CrossGatewayStats;
  };
  alerts: AlertStats;
  /** Requests, connections and packets refused at an entry point, by reason (docs/limits.md). */
  security?: { refused: Record<string, number> };
  /** With REDIS_URL: which gateway evaluates which device's alerts (docs/decisions/0029). */
  ownership?: OwnershipStats;
  /** Backups asked of this gateway since it started (docs/decisions/0071). */
  backups?: BackupStats;
}

/**
 * Backups asked of this gateway since it started (`POST /api/backups`, decision 0071): made
 * whole; refused before anything was written (`busy`: one was being made, 409; `no_space`: the
 * disk had not room for the copy and BACKUP_RESERVE_MB, 507); failed after it began, its partial
 * copy removed (`timeout`: the copy passed its time limit and was stopped; `no_space`: the disk
 * filled meanwhile; `corrupt`: a store's copy failed SQLite's quick_check; `error`: anything
 * else, in the log).
 */
export interface BackupStats {
  made: number;
  /**
   * When the newest backup made whole was begun (ms since epoch; its folder's name): by this
   * gateway, or found in the backups folder (made before its start, or by another gateway sharing
   * DATA_DIR; the folder is read when the stats are, at most every 5 s). Absent while there is
   * none.
   */
  lastMadeAt?: number;
  refused: Record<BackupRefusal, number>;
  failed: Record<BackupFailure, number>;
}
export type BackupRefusal = 'busy' | 'no_space';
export type BackupFailure = 'timeout' | 'no_space' | 'error' | 'corrupt';

/**
 * Persistent MQTT sessions on the embedded broker: MQTT 3.1.1 sessions (Clean Session 0) kept
 * now after their connection closed (`pending`) and in all (`kept`); sessions ended when their
 * expiry passed (`expired`) or at once because the most were kept (`endedAtLimit`), MQTT 5's
 * included; messages not queued for an away client past its queue bound (`queueDropped`), sent
 * to a connected one past its bound without a queue entry (`unstored`); connections closed for
 * leaving too many messages unacknowledged that Aedes never hands them (`closedUnacked`) or too
 * many QoS 2 messages unreleased (`closedUnreleased`).
 */
export interface BrokerSessionStats {
  pending: number;
  kept: number;
  expired: number;
  endedAtLimit: number;
  queueDropped: number;
  /** Messages sent to a connected client past its bound without a queue entry (at most once). */
  unstored: number;
  closedUnacked: number;
  closedUnreleased: number;
}

/**
 * Acknowledgements that found no gateway holding their alert while it was between holders (a
 * hand-over, docs/decisions/0029): `waited` for the new holder, still `unheld` when the wait ended
 * (answered 404), or answered at once because ACK_WAITERS_MAX were waiting (`overLimit`). And
 * what the other gateways sent that was malformed: their ack requests (answered `invalid`,
 * acknowledging nothing) and their answers to this gateway's (ignored).
 */
export interface PeerAckStats {
  waited: number;
  unheld: number;
  overLimit: number;
  malformedRequests: number;
  malformedAnswers: number;
}

/**
 * Live readings between gateways (REDIS_URL): room batches published and received, peers known,
 * Redis failures; catch-ups sent to a peer whose screens just started watching a room (messages,
 * readings, those cut at their cap, those skipped over the per-second budget) and peers' readings
 * kept in this gateway's window.
 */
export interface CrossGatewayStats {
  published: number;
  received: number;
  peers: number;
  failures: number;
  catchUps: number;
  catchUpReadings: number;
  catchUpsCapped: number;
  catchUpsSkipped: number;
  remembered: number;
  /**
   * Peers seen departing; their stored readings of the last seconds this gateway's screens lacked,
   * read back and handed to them; refills cut at a limit (docs/limits.md); refills that failed.
   */
  lostPeers?: number;
  lostPeerReadings?: number;
  lostPeerCapped?: number;
  lostPeerFailures?: number;
  /**
   * What the other gateways sent on the readings channel that was refused (docs/decisions/0027):
   * messages refused whole (another format version, a malformed header, no `readings` event, a
   * batch over RELAYED_BATCH_MAX), and readings left out of the batches kept (no reading as the
   * decoder makes it: a bad device id, ts or value).
   */
  malformed?: number;
  malformedReadings?: number;
  /**
   * Room interest messages of the other gateways refused whole (not JSON, no gateway id, an
   * unknown kind, over INTEREST_ROOMS_MAX rooms) or room names in them outside the contract
   * (`interestMalformed`), and gateways or rooms not kept beyond INTEREST_PEERS_MAX and
   * INTEREST_ROOMS_MAX (`interestOverLimit`; docs/limits.md).
   */
  interestMalformed?: number;
  interestOverLimit?: number;
  /**
   * Messages on Socket.IO's Redis adapter's own channels that no Pulse gateway sends (a broadcast,
   * a request other than a server-side event, a message that is not the adapter's JSON), dropped
   * before the adapter acts on them (docs/decisions/0027, session 46).
   */
  adapterRefused?: number;
}

/**
 * Device ownership across gateways: the live members and whether this gateway is one (holds its
 * lease), devices of the registry it owns, membership changes seen, heartbeats Redis refused;
 * readings forwarded to their owners, received from the others, passed on once more (the sender's
 * view was stale), dropped when received passed on already by a gateway that does not own them
 * either (`passedDropped`), forwarded messages refused (another format version, or malformed),
 * published to an owner nobody listened for (it died; lost to alerting, not to
 * history), failed (Redis away), dropped at the forward queue's or the evaluation buffer's bound
 * (`heldDropped`: of devices in hand-over, a pool of their own);
 * readings waiting for evaluation, open alerts taken over from the store, a hand-over under way.
 */
export interface OwnershipStats {
  members: number;
  member: boolean;
  ownedDevices: number;
  changes: number;
  heartbeatFailures: number;
  /**
   * Times this gateway's lease lapsed while it was a member (frozen, or unable to renew, for
   * longer than the lease): it let its devices go and took them back from the store.
   */
  lapses?: number;
  /**
   * Member ids and MQTT session records read from Redis that no gateway could have written (not
   * GATEWAY_ID's or MQTT_CLIENT_ID's characters and length): left out, counted at each read.
   */
  malformedIds?: number;
  forwarded: number;
  received: number;
  passedOn: number;
  passedDropped: number;
  refused: number;
  /**
   * Readings left out of the forwarded messages kept: no reading as the decoder makes it (a bad
   * device id, ts or value; docs/decisions/0027). Whole messages refused count in `refused`.
   */
  malformedReadings?: number;
  undelivered: number;
  failed: number;
  forwardDropped: number;
  evaluationDropped: number;
  heldDropped: number;
  waiting: number;
  adopted: number;
  handingOver: boolean;
}

export function emptyRejectCounts(): Record<RejectReason, number> {
  const counts = {} as Record<RejectReason, number>;
  for (const reason of REJECT_REASONS) counts[reason] = 0;
  return counts;
}

/** One file of a backup, its path inside the backup's folder and its size. */
export interface BackupFile {
  name: string;
  bytes: number;
}

/**
 * A backup (`POST /api/backups`, `GET /api/backups`): a folder under `${DATA_DIR}/backups/`
 * holding a consistent copy of the gateway's SQLite stores, its token signing key and its
 * history journal, to copy off the machine; restored by putting its files in an empty DATA_DIR
 * (README → Operations). `notes`: what it does not hold (PostgreSQL with DATABASE_URL).
 */
export interface BackupInfo {
  /** The folder's name, its UTC time (`2026-12-07T09-50-00-000Z`). */
  name: string;
  /** The folder on the gateway's machine. */
  path: string;
  createdAt: number;
  files: BackupFile[];
  bytes: number;
  tookMs?: number;
  notes?: string[];
}

export interface BackupListResponse {
  backups: BackupInfo[];
}
