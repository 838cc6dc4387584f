import type { AckResponse } from '@pulse/protocol/core';
import type { AlertStore } from '../stores/alert.store';
import type { AlertInput } from './alert-input';
import type { LiveSocket } from './live-socket';

/*
 * Acknowledging an alert over the live socket: the gateway's answer, or why there is none, in
 * words a person can read. The live service decides whether there is a connection to ask on; this
 * owns the question, its timeout and the outcome. It must not keep state.
 */

/**
 * Longer than the gateway's own wait for an alert between gateways in a hand-over (backend
 * live/peer-acks.ts: up to 6.5 s, and one peer's 3 s answer timeout): a slow answer then is still
 * the answer, not "did not answer".
 */
export const ACK_TIMEOUT_MS = 12_000;

/**
 * Outcome of {@link acknowledgeAlert}: the gateway's answer, or why it
 * was never asked (`disconnected`) or did not answer in time (`timeout`).
 */
export type AckOutcome =
  | AckResponse
  | { ok: false; error: 'disconnected' | 'timeout'; message: string };

const MALFORMED: AckOutcome = {
  ok: false,
  error: 'invalid',
  message: 'malformed answer from the gateway',
};

/** Readable reasons for the refusals the gateway may send without a message. */
const REFUSALS: Record<string, string> = {
  unauthorized: 'sign in to acknowledge',
  forbidden: 'your role may not acknowledge alerts',
};

/**
 * Ask the gateway to acknowledge alert `id` on `socket` (null: not connected). Never throws. The
 * alert an accepted acknowledgement returns is checked by `input` and applied to `alerts` at once;
 * a malformed one is a malformed answer, as an answer that is no object (the `alert` broadcast
 * of the acknowledgement still reaches this screen).
 */
export async function acknowledgeAlert(
  socket: LiveSocket | null,
  alerts: AlertStore,
  input: AlertInput,
  id: string,
  note?: string,
): Promise<AckOutcome> {
  if (!socket) {
    return {
      ok: false,
      error: 'disconnected',
      message: 'not connected to the gateway; try again when the connection is back',
    };
  }
  let response: AckResponse;
  try {
    response = await socket.ack({ id, ...(note ? { note } : {}) }, ACK_TIMEOUT_MS);
  } catch {
    return {
      ok: false,
      error: 'timeout',
      message: `the gateway did not answer within ${ACK_TIMEOUT_MS / 1000} s`,
    };
  }
  if (!response || typeof response !== 'object') return MALFORMED;
  if (response.ok) {
    const alert = input.one(response.alert, 'an acknowledgement');
    if (!alert) return MALFORMED;
    alerts.applyIfNewer(alert);
    return { ok: true, alert };
  }
  // A role refusal may come with an empty message: say it in words.
  const fallback = REFUSALS[response.error] ?? response.error;
  return response.message ? response : { ...response, message: fallback };
}
