import type {
  AlertSeverity,
  DeviceStatus,
  DeviceSummary,
  FleetSummary,
  SubscribeAck,
} from '@pulse/protocol/core';
import { encodeFleetSummary } from '@pulse/protocol/core';
import type { FakeLiveSocket } from './fake-live-socket';

/*
 * Fleet summaries as the gateway sends them, written the way a spec reads: a device by its
 * fields, made into the readable tuple against a metric table (an acknowledgement carries it in
 * the protocol's wire form, as the gateway's does). Test-only; it must not build
 * anything the gateway would not send (the tuple shape is the protocol's DeviceSummary).
 */

export interface SummaryDevice {
  id: string;
  name?: string | null;
  group?: string | null;
  status?: DeviceStatus;
  /** Last seen, ms before the summary's `at`; null: never. */
  age?: number | null;
  values?: Record<string, number>;
  alert?: [AlertSeverity, number];
}

/** One device's tuple, its values aligned with `metrics`. */
export function summaryEntry(device: SummaryDevice, metrics: readonly string[]): DeviceSummary {
  const values = metrics.map((m) => device.values?.[m] ?? null);
  while (values.length && values[values.length - 1] === null) values.pop();
  const entry: DeviceSummary = [
    device.id,
    device.name ?? null,
    device.group ?? null,
    device.status ?? 'online',
    device.age === undefined ? 0 : device.age,
    values,
  ];
  if (device.alert) entry.push(device.alert);
  return entry;
}

/** A whole summary taken at `at`. */
export function fleetSummary(
  devices: readonly SummaryDevice[],
  metrics: readonly string[],
  at = Date.now(),
): FleetSummary {
  return { at, metrics: [...metrics], devices: devices.map((d) => summaryEntry(d, metrics)) };
}

/** Answer the socket's pending `summary: true` subscribe with `summary`. */
export function replySummary(socket: FakeLiveSocket, summary: FleetSummary): void {
  const pending = [...socket.subscribes].reverse().find((s) => s.request.summary);
  if (!pending) throw new Error('no summary subscribe to answer');
  const ack: SubscribeAck = {
    ok: true,
    serverTime: summary.at,
    devices: [],
    history: [],
    rooms: ['summary'],
    summary: encodeFleetSummary(summary),
  };
  pending.reply(ack);
}
