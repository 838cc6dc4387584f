import type { MqttClientAuth } from '../config/secret-files';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  BrokerSessionStats,
  DecodedMessage,
  DeviceMeta,
  GatewayStatus,
  IngestStats,
  Reading,
  LIMITS,
  RejectReason,
  ReceiveClock,
  Rejection,
  decodeDeviceMessage,
  emptyRejectCounts,
  quote,
} from '@pulse/protocol';
import type { InProcessBroker } from '../broker/embedded-broker.repository';
import { LIVE_PUBLISHER, LivePublisher } from '../common/live-publisher';
import { RateLimitedLog } from '../common/rate-limited-log';
import { CONFIG, Config } from '../config/config';
import { DeviceOriginsService } from '../devices/device-origins.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { AlertRouting } from '../ownership/alert-routing.service';
import { MqttRepository } from './mqtt.repository';
import { SessionDrain } from './session-drain.service';
import { Routed, SOURCE_ROUTER, SourceRouter } from './sources/source-router';

/**
 * `own` with what a source says filled in where it says nothing: the name, the group, the unit of
 * a metric (up to the meta's 64 units). What the device's meta says already is kept: a retained
 * `devices/{id}/meta` names and units a device as its owner wants (an empty one clears it, and
 * the source's come back with its next message). A unit the source itself said before
 * (`saidBefore`) is the source's to change: a Tasmota switched from °C to °F (SetOption8) sends
 * °F values, and its metric must not stay labelled °C. Null when nothing is new: the usual case,
 * which allocates nothing.
 */
export function filledIn(
  own: Readonly<DeviceMeta> | null | undefined,
  said: DeviceMeta,
  saidBefore?: Readonly<Record<string, string>>,
): DeviceMeta | null {
  const name = own?.name === undefined ? said.name : undefined;
  const group = own?.group === undefined ? said.group : undefined;
  let units: Record<string, string> | undefined;
  if (said.units) {
    let count = own?.units ? Object.keys(own.units).length : 0;
    for (const metric in said.units) {
      const current = own?.units?.[metric];
      if (current !== undefined) {
        // Kept unless the source said it before and says another now.
        if (current !== saidBefore?.[metric] || current === said.units[metric]) continue;
      } else if (count++ >= LIMITS.maxMetricsPerReading) break;
      (units ??= { ...own?.units })[metric] = said.units[metric];
    }
  }
  if (name === undefined && group === undefined && !units) return null;
  return {
    ...own,
    ...(name !== undefined ? { name } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(units ? { units } : {}),
  };
}

/** Distinct topics no source matched, kept for /api/stats (the first ones seen). */
const UNMATCHED_TOPICS_KEPT = 10;

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
  /** Messages per ingest source (presets, sources file), those set aside, fields skipped by reason. */
  private readonly perSource = new Map<string, number>();
  private readonly ignoredPerSource = new Map<string, number>();
  private readonly skippedFields = new Map<string, number>();
  private readonly unmatchedTopics = new Set<string>();
  /** Receive time of readings without `ts`, per device monotonic (none collide in history). */
  private readonly receiveClock = new ReceiveClock();
  /** The embedded broker's persistent sessions, for /api/stats (none with MQTT_URL). */
  private brokerSessions: (() => BrokerSessionStats | undefined) | undefined;
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
    /** The alert engine's inputs: straight to it, or to each device's owning gateway (REDIS_URL). */
    private readonly alerts: AlertRouting,
    @Inject(SOURCE_ROUTER) private readonly sources: SourceRouter,
    private readonly origins: DeviceOriginsService = new DeviceOriginsService(),
    /** Several gateways on a shared broker: lost gateways' MQTT sessions (absent in unit specs). */
    @Optional() private readonly drain?: SessionDrain,
  ) {
    // Off-contract topics the embedded broker refused never reach us: counted all the same.
    sources.onUnmatched((topic) => this.countUnmatched(topic));
    // Topics Home Assistant discovery announced (or no longer names): subscribed as they come.
    sources.onFilters((added, removed) => mqtt.updateFilters(added, removed));
    // What else is kept per device goes with an evicted or removed one (the registry decides which).
    registry.onGone((deviceId, why) => {
      history.forget(deviceId);
      origins.forget(deviceId);
      alerts.forgetDevice(deviceId, why);
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
    this.brokerSessions = inProcess?.sessions ? () => inProcess.sessions?.() : undefined;
    const handlers = {
      message: (topic: string, payload: Buffer, qos: number) =>
        this.handleMessage(topic, payload, Date.now(), qos),
      connection: () => this.hub.publishGateway(this.gatewayStatus()),
      // The history store cannot keep up: acknowledge later rather than drop (issue 13).
      backpressure: () => this.history.backpressure(),
      replayed: (deviceId: string, readings: Reading[]) => this.replayed(deviceId, readings),
    };
    const filters = this.sources.filters();
    if (inProcess) await this.mqtt.attachInProcess(inProcess, handlers, filters);
    else {
      await this.mqtt.connect(url, this.config.MQTT_CLIENT_ID, handlers, auth, filters);
      this.drain?.start(url, auth, handlers);
    }
  }

  /** The URL devices use (known once the embedded broker listens), for /api/stats. */
  setBrokerUrl(url: string): void {
    this.broker = { ...this.broker, url };
  }

  async stop(): Promise<void> {
    try {
      await this.mqtt.close();
      // Left cleanly (the share unsubscribed): nothing for a survivor to drain.
      await this.drain?.stop();
    } finally {
      this.rejectLog.close();
    }
  }

  /**
   * The hot path. Public for tests; `now` is the server receive time. A QoS 1 message's readings
   * are journaled before this returns, which is before the broker acknowledges it.
   */
  handleMessage(topic: string, payload: Uint8Array, now: number, qos = 0): void {
    this.messages.received++;
    // QoS 1 or 2: the broker promised delivery, so its readings are journaled (decision 0021).
    const durable = qos > 0;
    if (!topic.startsWith('devices/')) {
      const routed = this.sources.route(topic, payload, now, this.receiveClock);
      if (routed) return this.applyRouted(routed, now, durable);
      return this.countUnmatched(topic);
    }
    this.apply(
      decodeDeviceMessage(topic, payload, now, undefined, this.receiveClock),
      now,
      durable,
    );
  }

  /**
   * Readings a dead gateway had acknowledged and not stored, just written from its journal by
   * this survivor (SessionDrain): late, to the screens watching the device and to the window.
   * Already evaluated by their owner, and counted where they were accepted.
   */
  private replayed(deviceId: string, readings: Reading[]): void {
    if (this.registry.has(deviceId)) this.history.remember(deviceId, readings);
    this.hub.publishReadings(deviceId, this.registry.groupOf(deviceId), readings);
  }

  /** A message on a topic neither the contract nor any source names: rejected as `topic`. */
  private countUnmatched(topic: string): void {
    if (this.unmatchedTopics.size < UNMATCHED_TOPICS_KEPT) this.unmatchedTopics.add(topic);
    this.countRejections(null, [
      {
        reason: 'topic',
        // The filters are in /api/stats (sources.filters): listing them here cost a copy of every
        // discovered topic per message, on a path any connected client can drive.
        detail: `topic ${quote(topic)} is not devices/{id}/… nor an ingest source's (their filters: /api/stats sources.filters)`,
      },
    ]);
  }

  /** A source's messages: each applied like the contract's, its skipped fields counted. */
  private applyRouted(routed: Routed, now: number, durable: boolean): void {
    this.perSource.set(routed.source, (this.perSource.get(routed.source) ?? 0) + 1);
    if (routed.ignored)
      this.ignoredPerSource.set(routed.source, (this.ignoredPerSource.get(routed.source) ?? 0) + 1);
    for (const { reason } of routed.skipped)
      this.skippedFields.set(reason, (this.skippedFields.get(reason) ?? 0) + 1);
    for (const decoded of routed.messages) {
      this.apply(decoded, now, durable);
      if (decoded.kind !== 'telemetry') continue;
      this.origins.record(decoded.deviceId, routed.source, routed.skipped, now);
      // What the source says of the device (fixed group, the firmware's units), where its meta
      // says nothing yet.
      const said = routed.meta.get(decoded.deviceId);
      const meta =
        said &&
        filledIn(
          this.registry.metaOf(decoded.deviceId),
          said,
          this.origins.unitsSaid(decoded.deviceId, said.units),
        );
      if (meta) {
        const changed = this.registry.applyMeta(decoded.deviceId, meta, now);
        if (changed) this.hub.publishDevice(changed);
      }
    }
  }

  /** `durable`: the message came with QoS 1 or 2 (its readings are journaled). */
  private apply(decoded: DecodedMessage, now: number, durable: boolean): void {
    switch (decoded.kind) {
      case 'telemetry': {
        this.messages.telemetry++;
        if (decoded.rejections.length > 0)
          this.countRejections(decoded.deviceId, decoded.rejections);
        const { deviceId, readings } = decoded;
        const changed = this.registry.applyReadings(deviceId, readings, now);
        if (changed === undefined) return; // registry full: refused (counted there)
        this.readings.accepted += readings.length;
        this.history.record(deviceId, readings, durable);
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
        // The owner's units from here on: the source's earlier ones are no longer its to change.
        this.origins.forgetUnits(decoded.deviceId);
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

  stats(): Pick<IngestStats, 'broker' | 'messages' | 'readings' | 'rejected' | 'sources'> {
    const discovery = this.sources.discoveryStats();
    return {
      broker: {
        ...this.broker,
        connected: this.mqtt.connected,
        reconnects: this.mqtt.reconnects,
        ...(this.drain?.active ? { drained: this.drain.stats() } : {}),
        ...(this.brokerSessions ? { sessions: this.brokerSessions() } : {}),
      },
      messages: { ...this.messages },
      readings: { ...this.readings },
      rejected: { ...this.rejected },
      sources: {
        filters: this.sources.filters(),
        messages: Object.fromEntries(this.perSource),
        ignored: Object.fromEntries(this.ignoredPerSource),
        skippedFields: Object.fromEntries(this.skippedFields),
        unmatchedTopics: [...this.unmatchedTopics],
        ...(discovery ? { discovery } : {}),
      },
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
