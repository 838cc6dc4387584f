import type { MqttClientAuth } from '../config/secret-files';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  GatewayStatus,
  IngestStats,
  RejectReason,
  ReceiveClock,
  Rejection,
  decodeDeviceMessage,
  emptyRejectCounts,
} from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import type { InProcessBroker } from '../broker/embedded-broker.repository';
import { LIVE_PUBLISHER, LivePublisher } from '../common/live-publisher';
import { RateLimitedLog } from '../common/rate-limited-log';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { MqttRepository } from './mqtt.repository';

/**
 * The ingest pipeline: every MQTT message → decodeDeviceMessage → registry,
 * history, live hub, alert engine. Bad messages are counted by reason and logged at a
 * bounded rate; they never interrupt the valid readings around them.
 *
 * The top of the one-way flow: it feeds history, alerts and the live layer (through the
 * {@link LivePublisher} port, so it does not import `live/`) and nothing downstream calls it
 * back. Must not touch sockets or the broker connection itself (MqttRepository owns that).
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger('Ingest');
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly messages = { received: 0, telemetry: 0, status: 0, meta: 0 };
  private readonly readings = { accepted: 0, rejected: 0 };
  private readonly rejected: Record<RejectReason, number> = emptyRejectCounts();
  /** Receive time of readings without `ts`, per device monotonic (none collide in history). */
  private readonly receiveClock = new ReceiveClock();
  private broker: { mode: 'embedded' | 'external'; url: string } = {
    mode: 'embedded',
    url: '',
  };

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'MQTT_CLIENT_ID' | 'FLUSH_MS'>,
    private readonly mqtt: MqttRepository,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
    @Inject(LIVE_PUBLISHER) private readonly hub: LivePublisher,
    private readonly alerts: AlertsService,
  ) {
    // What else is kept per device goes with an evicted one (the registry decides which).
    registry.onEvict((deviceId) => {
      history.forget(deviceId);
      alerts.forgetDevice(deviceId);
    });
  }

  /**
   * `inProcess`: the embedded broker, subscribed to in-process (see MqttRepository);
   * otherwise an mqtt.js connection to `url`.
   */
  async start(
    mode: 'embedded' | 'external',
    url: string,
    inProcess?: InProcessBroker,
    auth: MqttClientAuth = {},
  ): Promise<void> {
    this.broker = { mode, url };
    const handlers = {
      message: (topic: string, payload: Buffer) => this.handleMessage(topic, payload, Date.now()),
      connection: () => this.hub.publishGateway(this.gatewayStatus()),
      // The history store cannot keep up: acknowledge later rather than drop (issue 13).
      backpressure: () => this.history.backpressure(),
    };
    if (inProcess) await this.mqtt.attachInProcess(inProcess, handlers);
    else await this.mqtt.connect(url, this.config.MQTT_CLIENT_ID, handlers, auth);
  }

  /** The URL devices use (known once the embedded broker listens), for /api/stats. */
  setBrokerUrl(url: string): void {
    this.broker = { ...this.broker, url };
  }

  stop(): Promise<void> {
    return this.mqtt.close();
  }

  /** The hot path. Public for tests; `now` is the server receive time. */
  handleMessage(topic: string, payload: Uint8Array, now: number): void {
    this.messages.received++;
    const decoded = decodeDeviceMessage(topic, payload, now, undefined, this.receiveClock);
    switch (decoded.kind) {
      case 'telemetry': {
        this.messages.telemetry++;
        if (decoded.rejections.length > 0)
          this.countRejections(decoded.deviceId, decoded.rejections);
        const { deviceId, readings } = decoded;
        const changed = this.registry.applyReadings(deviceId, readings, now);
        if (changed === undefined) return; // registry full: refused (counted there)
        this.readings.accepted += readings.length;
        this.history.record(deviceId, readings);
        // At the total points budget: idle devices make room (each evicted once, O(1) each).
        while (this.history.overBudget) if (!this.registry.evictIdle(now)) break;
        this.hub.publishReadings(deviceId, this.registry.groupOf(deviceId), readings);
        if (changed) this.hub.publishDevice(changed);
        // After the device event, so a client sees a new device before its first alert.
        this.alerts.onReadings(readings);
        return;
      }
      case 'status': {
        this.messages.status++;
        const changed = this.registry.applyStatus(decoded.deviceId, decoded.status, now);
        if (changed === undefined) return; // registry full: refused (counted there)
        if (changed) this.hub.publishDevice(changed);
        this.alerts.onStatus(decoded.deviceId, decoded.status, now);
        return;
      }
      case 'meta': {
        this.messages.meta++;
        const changed = this.registry.applyMeta(decoded.deviceId, decoded.meta, now);
        if (changed) this.hub.publishDevice(changed);
        return;
      }
      case 'rejected':
        this.countRejections(decoded.deviceId, decoded.rejections);
        return;
    }
  }

  gatewayStatus(): GatewayStatus {
    return {
      broker: this.mqtt.connected ? 'connected' : 'disconnected',
      serverTime: Date.now(),
      flushMs: this.config.FLUSH_MS,
    };
  }

  stats(): Pick<IngestStats, 'broker' | 'messages' | 'readings' | 'rejected'> {
    return {
      broker: {
        ...this.broker,
        connected: this.mqtt.connected,
        reconnects: this.mqtt.reconnects,
      },
      messages: { ...this.messages },
      readings: { ...this.readings },
      rejected: { ...this.rejected },
    };
  }

  private countRejections(deviceId: string | null, rejections: readonly Rejection[]): void {
    for (let i = 0; i < rejections.length; i++) {
      const { reason, detail } = rejections[i];
      this.rejected[reason]++;
      this.readings.rejected++;
      this.rejectLog.report(
        reason,
        `rejected (${reason}) from ${deviceId ?? 'unknown device'}: ${detail}`,
      );
    }
  }
}
