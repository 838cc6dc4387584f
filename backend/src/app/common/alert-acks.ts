import {
  ALERT_LIMITS,
  AUTH_LIMITS,
  IdSchema,
  LiveAckRequestSchema,
  type AckResponse,
} from '@pulse/protocol';
import { z } from 'zod';

/**
 * An operator's acknowledgement as an entry point hands it on (`POST /api/alerts/:id/ack`, the
 * `/live` `ack`), and as it crosses to the other gateways (`pulse:ack`, live-io.server.ts).
 */
export interface AlertAckRequest {
  id: string;
  /** The signed-in user's name (never a request body's). */
  by: string;
  note?: string;
  /** The caller's group scope: an alert of a device outside it is `not_found`. */
  scope: readonly string[] | null;
}

/**
 * An {@link AlertAckRequest} from another gateway (`pulse:ack`): the `/live` `ack` schema a
 * local client's request passes (one definition of the id and the note), with the name and the
 * scope the asking gateway's entry point set: a user's name, a token's groups. Fields it does not
 * name are left out rather than refused, so a newer gateway that adds one is still answered
 * during a rolling upgrade (as a peer's alert event, `parseAlertEvent`).
 */
export const PeerAckRequestSchema = LiveAckRequestSchema.extend({
  by: z.string().min(1).max(Math.min(ALERT_LIMITS.maxAckByLength, AUTH_LIMITS.maxUsernameLength)),
  scope: z.array(IdSchema).max(AUTH_LIMITS.maxTokenGroups).nullable(),
}).strip();

/**
 * The port through which every entry point acknowledges an alert, wherever it is held: with
 * several gateways (REDIS_URL) each engine holds only the alerts of the devices its gateway owns
 * (decision 0029), so an ack for one held elsewhere must be asked of the others. Implemented by
 * the live layer's `PeerAcks` (it owns the gateways' Socket.IO link); the alerts controller
 * depends on this port only, as `alerts/` must not import `live/`.
 *
 * In `common/`: owns the contract only, must not import any feature folder.
 */
export interface AlertAcks {
  /**
   * The holder's answer: this gateway's when it holds the alert (or has no peers), else the
   * peer's that does; `not_found` when none does or a peer did not answer in time.
   */
  acknowledge(request: AlertAckRequest): AckResponse | Promise<AckResponse>;
}

/** DI token of the {@link AlertAcks}. */
export const ALERT_ACKS = Symbol('ALERT_ACKS');
