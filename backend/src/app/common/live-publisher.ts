import type { AlertEvent, DeviceInfo, GatewayStatus, Reading } from '@pulse/protocol';

/**
 * The port through which upstream stages (ingest, alerts) hand what they produce to the live
 * layer, so that they never import it: the live gateway reads alerts and the live layer is
 * downstream of both (ingest → alerts, ingest → live, alerts → live; nothing back).
 * Implemented by `LiveHubService` (bound in `AppModule`); fakes in the ingest and alerts specs.
 *
 * In `common/`: owns the contract only, must not import any feature folder.
 */
export interface LivePublisher {
  /** Readings of one device, for its device room, its group's room and the fleet room. */
  publishReadings(deviceId: string, group: string | undefined, readings: readonly Reading[]): void;
  /** A device's status, last seen or meta changed. */
  publishDevice(device: DeviceInfo): void;
  /** An alert lifecycle event (raised, acknowledged, cleared …). */
  publishAlert(alert: AlertEvent): void;
  /** The broker connection changed: sent to every client now and to each new one on connect. */
  publishGateway(status: GatewayStatus): void;
}

/** DI token of the {@link LivePublisher}. */
export const LIVE_PUBLISHER = Symbol('LIVE_PUBLISHER');
