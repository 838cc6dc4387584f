import type { GatewayStatus } from '@pulse/protocol/core';
import type { ConnectionState } from '../core/live/live.service';

export type ConnectionLevel = 'ok' | 'degraded' | 'down' | 'pending';

export interface ConnectionSummary {
  level: ConnectionLevel;
  /** Short label for the header indicator. */
  label: string;
  /** Shouted label for the wall banner, or null when all is well. */
  banner: string | null;
  /** Which of the distinct failure modes this is (test hook, CSS). */
  kind: 'live' | 'throttled' | 'connecting' | 'reconnecting' | 'offline' | 'broker-down';
}

/**
 * One place that turns connection facts into words, so the header indicator
 * and the wall banner never disagree. Browser ↔ gateway trouble and gateway ↔
 * broker trouble are different messages: the first means "this screen is
 * blind", the second "the stack is up but no device can reach it".
 */
export function summarizeConnection(
  state: ConnectionState,
  gateway: GatewayStatus | null,
  now: number,
  /** The gateway's throttle of this connection (ms between merged readings; 0: every reading). */
  throttleMs = 0,
): ConnectionSummary {
  const retryIn =
    state.nextRetryAt !== null ? Math.max(0, Math.ceil((state.nextRetryAt - now) / 1000)) : null;
  const countdown = retryIn === null ? '' : retryIn > 0 ? ` in ${retryIn} s` : ' now';
  switch (state.phase) {
    case 'connected': {
      const via = state.transport === 'polling' ? 'long-polling' : 'WebSocket';
      if (gateway?.broker === 'disconnected') {
        return {
          level: 'degraded',
          label: `Gateway up · broker down (${via})`,
          banner: 'BROKER DOWN — gateway reachable, no device data is arriving',
          kind: 'broker-down',
        };
      }
      if (throttleMs > 0) {
        const every = throttleMs < 1000 ? `${throttleMs} ms` : `${throttleMs / 1000} s`;
        return {
          level: 'degraded',
          label: `Live · ${via} · throttled: newest value every ${every}`,
          banner: `SLOW LINK — showing the newest value every ${every} (ranges kept)`,
          kind: 'throttled',
        };
      }
      return { level: 'ok', label: `Live · ${via}`, banner: null, kind: 'live' };
    }
    case 'reconnecting':
      return {
        level: 'down',
        label: `Disconnected · retry${countdown}`,
        banner: `CONNECTION LOST — reconnecting${countdown}`,
        kind: 'reconnecting',
      };
    case 'offline':
      return {
        level: 'down',
        label: `Offline · retry${countdown}`,
        banner: `NETWORK OFFLINE — retrying${countdown}`,
        kind: 'offline',
      };
    case 'connecting':
      return {
        level: 'pending',
        label: state.attempt > 0 ? `Reconnecting… (try ${state.attempt + 1})` : 'Connecting…',
        banner: state.attempt > 0 ? 'CONNECTION LOST — reconnecting now' : null,
        kind: 'connecting',
      };
    default:
      return { level: 'pending', label: 'Not connected', banner: null, kind: 'connecting' };
  }
}
