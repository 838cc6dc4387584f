/*
 * Why a device message is refused: the reason names and the rejection record. Part of the
 * zod-free core entry (the decoder that produces them, which validates meta with zod, lives
 * in `decode.ts`). Owns the vocabulary only: deciding that a message fails is the decoder's
 * job, counting the reasons the backend ingest's (exposed in `/api/stats`).
 */

/**
 * Why a device message (or one reading inside a batch) was rejected.
 * These names are counted and exposed over HTTP: keep them stable.
 */
export const REJECT_REASONS = [
  'topic',
  'oversize',
  'encoding',
  'json',
  'shape',
  'empty',
  'batch_too_large',
  'too_many_metrics',
  'metric_name',
  'value',
  'timestamp',
  'future_timestamp',
  'status',
  'meta',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  /** Human-readable, quotes the bad value. */
  detail: string;
}
