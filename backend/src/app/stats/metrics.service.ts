import { Inject, Injectable } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CONFIG, Config } from '../config/config';
import { gatewayId } from '../config/gateway-id';
import { PULSE_VERSION } from '../config/version';
import { StatsService } from './stats.service';

/**
 * `/api/metrics` in Prometheus' text format (prom-client, docs/decisions/0025-metrics.md): the
 * gateway's own counters — ingest and rejections by reason, devices, history, fan-out frames and
 * readings, lag pauses and disconnects by reason, conflation, the event loop's load, alerts,
 * refusals by reason — read from StatsService at scrape time (no second set of counters on the
 * hot path), plus Node.js runtime metrics. Every series carries `gateway` (GATEWAY_ID, config/gateway-id.ts),
 * so several gateways tell apart. Owns the metric names and their mapping; must not count.
 */

type Snapshot = IngestStats;
type Read = (s: Snapshot) => number | undefined;
type ReadByLabel = (s: Snapshot) => Record<string, number> | undefined;

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private snapshot: Snapshot | null = null;

  constructor(
    private readonly stats: StatsService,
    @Inject(CONFIG) config: Pick<Config, 'PORT' | 'GATEWAY_ID'>,
  ) {
    this.registry.setDefaultLabels({ gateway: gatewayId(config) });
    collectDefaultMetrics({ register: this.registry, prefix: 'pulse_' });
    const counter = (name: string, help: string, read: Read) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect: function () {
          this.reset();
          this.inc(read(thisSnapshot()) ?? 0);
        },
      });
    const counterBy = (name: string, help: string, label: string, read: ReadByLabel) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        collect: function () {
          this.reset();
          for (const [key, value] of Object.entries(read(thisSnapshot()) ?? {}))
            if (value > 0) this.inc({ [label]: key }, value);
        },
      });
    const gauge = (name: string, help: string, read: Read) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect: function () {
          this.set(read(thisSnapshot()) ?? 0);
        },
      });
    // One snapshot per scrape, taken before its collectors run (scrape()).
    const thisSnapshot = () => {
      if (!this.snapshot)
        throw new Error('metrics are read through scrape(), which takes the stats');
      return this.snapshot;
    };

    // Prometheus' info convention: the build as a label of a series always 1, so a query can
    // join it to any other by `gateway` (which gateway runs which version mid-upgrade).
    new Gauge({
      name: 'pulse_build_info',
      help: 'The Pulse version this gateway runs (label version), always 1',
      labelNames: ['version'],
      registers: [this.registry],
    }).set({ version: PULSE_VERSION }, 1);
    counter(
      'pulse_mqtt_messages_total',
      'MQTT messages received by the ingest',
      (s) => s.messages.received,
    );
    counter('pulse_readings_accepted_total', 'Readings accepted', (s) => s.readings.accepted);
    counterBy(
      'pulse_readings_rejected_total',
      'Readings or messages rejected, by reason',
      'reason',
      (s) => s.rejected,
    );
    counterBy(
      'pulse_source_messages_total',
      'Messages per ingest source',
      'source',
      (s) => s.sources?.messages,
    );
    counterBy(
      'pulse_source_skipped_fields_total',
      'Fields a format left out, by reason',
      'reason',
      (s) => s.sources?.skippedFields,
    );
    gauge('pulse_broker_connected', '1 when the ingest is connected to its broker', (s) =>
      s.broker.connected ? 1 : 0,
    );
    counter(
      'pulse_broker_reconnects_total',
      'Reconnections to an external broker',
      (s) => s.broker.reconnects,
    );
    // Everything else /api/stats says, one sample per number (booleans 0/1) under its dotted path,
    // so nothing it counts is missing here; arrays (lists of topics, samples) are left out.
    new Gauge({
      name: 'pulse_stats',
      help: 'Every number of /api/stats, by its dotted path (the named metrics above are the curated view)',
      labelNames: ['key'],
      registers: [this.registry],
      collect: function () {
        this.reset();
        for (const [key, value] of statLeaves(thisSnapshot())) this.set({ key }, value);
      },
    });
    gauge('pulse_devices', 'Devices known to the registry', (s) => s.devices.known);
    gauge('pulse_devices_online', 'Devices online', (s) => s.devices.online);
    counter(
      'pulse_devices_refused_total',
      'New devices refused by a full registry',
      (s) => s.devices.refusedNew,
    );
    gauge('pulse_history_points', 'History points held in memory', (s) => s.history.points);
    counterBy(
      'pulse_history_store_reads_total',
      'History range reads: made in the store, or answered by an identical read of the same second',
      'kind',
      (s) => s.history.store?.reads,
    );
    gauge('pulse_live_clients', 'Live (Socket.IO) connections', (s) => s.live.clients);
    counter(
      'pulse_live_frames_total',
      'Readings frames emitted per room (encode once)',
      (s) => s.live.emits,
    );
    counter('pulse_live_readings_sent_total', 'Readings sent to rooms', (s) => s.live.readingsSent);
    counter(
      'pulse_live_direct_writes_total',
      'Readings frames written straight to a websocket',
      (s) => s.live.directWrites,
    );
    counter(
      'pulse_live_engine_writes_total',
      'Readings frames written through engine.io',
      (s) => s.live.engineWrites,
    );
    gauge(
      'pulse_live_flush_cost_seconds',
      'Time the last live flush took',
      (s) => (s.live.lastFlushCostMs ?? 0) / 1000,
    );
    counter(
      'pulse_live_lag_pauses_total',
      'Connections paused for lagging',
      (s) => s.live.lagPauses,
    );
    counter(
      'pulse_live_lag_disconnects_total',
      'Connections disconnected for making no progress',
      (s) => s.live.lagDisconnects,
    );
    counterBy(
      'pulse_live_disconnects_total',
      'Live disconnections, by reason',
      'reason',
      (s) => s.live.disconnects,
    );
    counter(
      'pulse_live_dropped_overflow_total',
      'Readings dropped from a full room buffer',
      (s) => s.live.droppedOverflow,
    );
    gauge(
      'pulse_live_throttled',
      'Connections receiving merged readings (conflation)',
      (s) => s.live.conflation?.throttled,
    );
    gauge(
      'pulse_live_throttle_floor_seconds',
      'Slowest rate every client is held to while the gateway is overloaded',
      (s) => (s.live.conflation?.floorMs ?? 0) / 1000,
    );
    gauge(
      'pulse_event_loop_utilization',
      "The event loop's busy share over the last second",
      (s) => s.live.gatewayLoad?.elu,
    );
    gauge(
      'pulse_live_flush_share',
      "The share of the event loop's busy time spent flushing readings over the last second",
      (s) => s.live.gatewayLoad?.fanOut,
    );
    gauge('pulse_alerts_active', 'Alerts on the active list', (s) => s.alerts.active);
    gauge('pulse_alert_rules', 'Alert rules loaded', (s) => s.alerts.rules);
    // A gauge, not a counter: it falls when a save replaces a refused rule. Alert on `> 0`.
    gauge(
      'pulse_alert_stored_rules_refused',
      'Stored alert rules the schema refused at boot: kept as saved, not run',
      (s) => s.alerts.storedRulesRefused,
    );
    counter(
      'pulse_alert_rule_conflicts_total',
      'Alert rule writes refused 412: the rule changed, was removed or exists (If-Match / If-None-Match)',
      (s) => s.alerts.ruleConflicts,
    );
    counterBy(
      'pulse_security_refused_total',
      'Requests, connections and packets refused, by reason',
      'reason',
      (s) => s.security?.refused,
    );
    counter(
      'pulse_backups_made_total',
      'Backups made whole (POST /api/backups)',
      (s) => s.backups?.made,
    );
    // A time, not an age (Prometheus' convention): alert on
    // `time() - max(pulse_backups_last_made_timestamp_seconds) > …`, max over the gateways.
    gauge(
      'pulse_backups_last_made_timestamp_seconds',
      'When the newest backup made whole was begun, seconds since epoch (0: none kept since the start)',
      (s) => (s.backups?.lastMadeAt ?? 0) / 1000,
    );
    counterBy(
      'pulse_backups_refused_total',
      'Backups refused before anything was written, by reason (busy, no_space)',
      'reason',
      (s) => s.backups?.refused,
    );
    counterBy(
      'pulse_backups_failed_total',
      'Backups that failed after they began, their partial copy removed, by reason (timeout, no_space, corrupt, error)',
      'reason',
      (s) => s.backups?.failed,
    );
  }

  /**
   * The exposition text; one stats snapshot serves every metric of the scrape. Taken first, not
   * by the first collector that asks: it is read asynchronously (StatsService.collect reads the
   * backups folder), and taken once here every collector stays a plain read. Kept until the next
   * scrape replaces it; a scrape that overlaps another may read the newer one for its later
   * metrics, as before.
   */
  async scrape(): Promise<string> {
    this.snapshot = await this.stats.collect();
    return this.registry.metrics();
  }
}

/** Bound on `pulse_stats` series: the stats' maps are keyed by reasons and sources, not devices. */
export const MAX_STAT_LEAVES = 2000;

/** Every number (and boolean, as 0/1) of the stats object by dotted path, arrays skipped. */
export function statLeaves(stats: object): [string, number][] {
  const leaves: [string, number][] = [];
  const walk = (value: unknown, path: string): void => {
    if (leaves.length >= MAX_STAT_LEAVES) return;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) leaves.push([path, value]);
    } else if (typeof value === 'boolean') leaves.push([path, value ? 1 : 0]);
    else if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
  };
  walk(stats, '');
  return leaves;
}
