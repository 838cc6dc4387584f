/**
 * Hard limits of the contract. Every outside input is bounded by one of these;
 * the decoder rejects (and counts) anything beyond them. Owns the numbers only and stays
 * zod-free: enforcing them is the schemas' and the decoder's job, and the backend reads them
 * from here (socket buffer, history, alert clock skew) rather than restating them.
 */
export const LIMITS = {
  /** Largest MQTT payload accepted on any device topic, in bytes. */
  maxPayloadBytes: 64 * 1024,
  /** Most readings in one telemetry batch (a JSON array). */
  maxBatchReadings: 500,
  /** Most metrics in one reading. */
  maxMetricsPerReading: 64,
  /** How far ahead of the server clock a reading may be stamped, in ms. */
  maxFutureSkewMs: 5 * 60 * 1000,
  /** Oldest timestamp accepted (2000-01-01T00:00:00Z): older means a bad clock or seconds instead of ms. */
  minTimestampMs: 946_684_800_000,
  /** Most devices or groups in one `subscribe` request. */
  maxSubscribeItems: 1000,
  /** Largest Socket.IO message the gateway accepts, in bytes. */
  maxSocketMessageBytes: 64 * 1024,
  /** Meta: display name and unit lengths. */
  maxNameLength: 128,
  maxUnitLength: 16,
  /** Metric names in the fleet summary's table, fleet-wide; further names are left out of it. */
  maxSummaryMetrics: 256,
  /** Most devices in one page of `GET /api/fleet/summary` (also its default `limit`). */
  maxSummaryPage: 1000,
  /**
   * Most groups listed in one page of `GET /api/fleet/summary` (`groups`, by name); beyond them
   * the page says `groupsTruncated` and a dashboard does not group by group.
   */
  maxSummaryGroups: 1000,
  /** Longest search of the fleet summary (`GET /api/fleet/summary?q`; the overview's search box). */
  maxSearchChars: 128,
  /**
   * Most devices in one `GET /api/history` (the windows of a board or a screen of tiles): with
   * ids of at most 64 characters the query stays under the 8 KiB request line proxies allow.
   */
  maxHistoryDevices: 100,
  /**
   * The longest live window `GET /api/history` reads (a device page's hour, a wall's longest
   * window), plus 5 minutes for a browser clock behind; an earlier `from` reads from here.
   */
  maxWindowMs: 65 * 60_000,
  /** Points per metric a `GET /api/history` answer holds at most (a chart's series capacity). */
  maxWindowPoints: 3600,
} as const;

export type DecodeLimits = {
  maxPayloadBytes: number;
  maxBatchReadings: number;
  maxMetricsPerReading: number;
  maxFutureSkewMs: number;
};

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxPayloadBytes: LIMITS.maxPayloadBytes,
  maxBatchReadings: LIMITS.maxBatchReadings,
  maxMetricsPerReading: LIMITS.maxMetricsPerReading,
  maxFutureSkewMs: LIMITS.maxFutureSkewMs,
};
