import {
  ALERT_SEVERITIES,
  AlertEvent,
  AlertSeverity,
  DeviceInfo,
  DS,
  DeviceSummary,
  encodeFleetSummary,
  FleetSummary,
  FleetSummaryWire,
  isConditionOn,
  LIMITS,
  Reading,
  SummaryEvent,
} from '@pulse/protocol';
import { inScope } from '../auth/principal';

/** What the summary reads about a device at push time (the registry). */
export interface DeviceSource {
  get(deviceId: string): DeviceInfo | null;
  list(): DeviceInfo[];
}

interface Entry {
  deviceId: string;
  /** Latest value per index of the metric table (holes: none yet). */
  values: number[];
  /** The `ts` of the reading each of `values` came from: the newest reading wins, whatever the order it arrived in. */
  times: number[];
  /** Metrics this device has a value for (bounded by LIMITS.maxMetricsPerReading). */
  count: number;
  /** Readings not merged into `values` yet, in arrival order. */
  pending: Reading[];
  /** Active alerts of the device by id, with their severity. */
  alerts: Map<string, AlertSeverity> | null;
  /** Queued for a push. */
  dirty: boolean;
  /**
   * Status, meta, alerts or a new metric changed, or never pushed (clients in the room do not
   * know it yet): goes out with the next push whatever SUMMARY_VALUES_PER_PUSH says (only a
   * change of values may wait).
   */
  urgent: boolean;
  /** The push count when it was queued: held SUMMARY_HOLD_PUSHES - 1 pushes, it goes in the next. */
  queuedAt: number;
  /** Queued for the next share with the other gateways (it had readings of our own since). */
  queuedToShare: boolean;
  /** Group as last pushed: a scoped client is told "removed" when a device leaves its groups. */
  pushedGroup: string | undefined;
}

/** A push computed once, filtered per scoped client. */
export interface SummaryDelta {
  at: number;
  changed: DeviceSummary[];
  /** Group of each changed device before this push (for scoped removals). */
  previousGroups: (string | undefined)[];
  removed: { id: string; group: string | undefined }[];
  /** The whole metric table, when it grew since the previous push. */
  metrics?: string[];
  /** The whole metric table at this push, grown or not (what a scoped client is shown part of). */
  table: readonly string[];
}

/**
 * What one gateway tells the others about the devices it ingested readings of since its last
 * share (several gateways, decision 0027 addendum): per device its last seen, newest reading time,
 * and every latest value with the reading time it came from, against the sender's metric table.
 * Each receiver keeps, per metric, the value of the newest reading, so the shares of several
 * gateways (and their own readings) converge whatever order they arrive in.
 */
export interface SummaryShare {
  metrics: string[];
  devices: SharedDevice[];
}

/**
 * [id, last seen (server ms), newest reading ts, [metric index, value, ts offset back from the
 * newest reading ts, …]].
 */
export type SharedDevice = [id: string, lastSeen: number, lastTs: number, values: number[]];

/** Pending readings per device beyond which they are merged at once (a batch, a flood). */
const MERGE_AT = 64;

/**
 * At most this many devices whose only change is new values (and last seen) go out in one push
 * (once a second), or the queue's length / SUMMARY_HOLD_PUSHES when that is more, and always
 * those held SUMMARY_HOLD_PUSHES - 1 pushes already; the rest wait for later pushes, oldest change
 * first, and go out with their newest values. Status, name, group, alert and new-metric changes,
 * new devices and removals are never held. Up to 2,000 devices every change is in the next push;
 * beyond, a device's values and last seen in the summary are at most SUMMARY_HOLD_PUSHES pushes
 * old, and a steady fleet's pushes are even (10,000 devices at 1/s: 2,000 a push, 20,000: 4,000). The overview's tiles on
 * screen have their own readings at full rate; the heat map and sorting read the summary. Without
 * it a fleet of 10,000 at 1 reading/s each sent its whole summary every second (640 kB) to every
 * overview, whose decoding cost the page 30-50 ms a second, growing with the fleet
 * (docs/decisions/0039-summary-value-budget.md).
 */
export const SUMMARY_VALUES_PER_PUSH = 2_000;

/** A device goes out within this many pushes of its change, whatever the budget. */
export const SUMMARY_HOLD_PUSHES = 5;

/** Devices not known yet whose open alerts the summary keeps until they are (see applyAlert). */
export const WAITING_ALERTS_MAX = 10_000;

const SEVERITY_RANK = new Map<AlertSeverity, number>(ALERT_SEVERITIES.map((s, i) => [s, i]));

/**
 * The fleet summary model: per device its latest value per metric and its active alerts, a
 * fleet-wide metric table, and what changed since the last push (dirty devices, removals). Status,
 * name, group and last seen are read from the {@link DeviceSource} when a summary is built, never
 * copied on the hot path, and readings are merged then too: a reading costs one map lookup and an
 * array push (see applyReadings). Plain code with no Nest or socket: owns this state only; must
 * not send anything (the live layer's SummaryPush does) nor decide who may see what beyond
 * `inScope`.
 */
export class FleetSummaryModel {
  private readonly entries = new Map<string, Entry>();
  private readonly metricIndex = new Map<string, number>();
  private readonly metrics: string[] = [];
  private dirty: Entry[] = [];
  /** takeDelta calls so far (see Entry.queuedAt). */
  private pushes = 0;
  /** Entries with readings of our own since the last share (only while sharing). */
  private toShare: Entry[] = [];
  private sharing = false;
  private removed: { id: string; group: string | undefined }[] = [];
  private metricsGrew = false;
  /** The unscoped snapshot since the last push (see snapshot). */
  private shared: FleetSummary | null = null;
  /** The same, encoded for the socket (see wireSnapshot). */
  private sharedWire: FleetSummaryWire | null = null;
  /** Open alerts of devices the registry does not know yet, by device (see applyAlert). */
  private readonly waitingAlerts = new Map<string, Map<string, AlertSeverity>>();
  /** Metric names left out because the table was full. */
  droppedMetrics = 0;
  /** Alerts of unknown devices left out because WAITING_ALERTS_MAX devices were waiting. */
  droppedAlerts = 0;

  constructor(private readonly devices: DeviceSource) {}

  /**
   * The hot path, called with every accepted telemetry message: it only notes the readings'
   * value objects (a map lookup and an array push); they are merged into the latest values when
   * a summary is built (once a second), off the ingest path. Bounded: a device's pending list is
   * merged at once when it reaches MERGE_AT.
   */
  applyReadings(deviceId: string, readings: readonly Reading[]): void {
    const entry = this.entries.get(deviceId) ?? this.create(deviceId);
    if (!entry) return;
    const pending = entry.pending;
    for (let i = 0; i < readings.length; i++) pending.push(readings[i]);
    if (pending.length >= MERGE_AT) this.merge(entry);
    if (!entry.dirty) this.markDirty(entry);
    if (this.sharing && !entry.queuedToShare) {
      entry.queuedToShare = true;
      this.toShare.push(entry);
    }
  }

  /**
   * Other gateways ingest part of the fleet's readings (several gateways): from now on the devices
   * this one ingested readings of are collected for {@link takeShare}, which must then be called
   * every push interval.
   */
  startSharing(): void {
    this.sharing = true;
  }

  /**
   * What to tell the other gateways (see {@link SummaryShare}): the devices with readings of our
   * own since the previous call, at most `max` of them (the rest wait for the next call), or null.
   */
  takeShare(max: number): SummaryShare | null {
    if (this.toShare.length === 0) return null;
    const take = this.toShare.length <= max ? this.toShare : this.toShare.slice(0, max);
    this.toShare = take === this.toShare ? [] : this.toShare.slice(max);
    const devices: SharedDevice[] = [];
    for (const entry of take) {
      entry.queuedToShare = false;
      if (this.entries.get(entry.deviceId) !== entry) continue; // removed since
      const info = this.devices.get(entry.deviceId);
      if (!info) continue;
      if (entry.pending.length > 0) this.merge(entry);
      const lastTs = info.lastTs ?? 0;
      const values: number[] = [];
      const { times } = entry;
      entry.values.forEach((value, index) => values.push(index, value, lastTs - times[index]));
      devices.push([entry.deviceId, info.lastSeen ?? 0, lastTs, values]);
    }
    return devices.length > 0 ? { metrics: this.metrics.slice(), devices } : null;
  }

  /**
   * A device another gateway shared (already checked by the receiver, and known to the
   * registry): each value is kept where it comes from a newer reading than the one we hold (or
   * fills a hole), and the device goes out with the next push (its last seen moved).
   */
  applyShared(metrics: readonly string[], device: SharedDevice): void {
    const [deviceId, , lastTs, shared] = device;
    const entry = this.entries.get(deviceId) ?? this.create(deviceId);
    if (!entry) return;
    if (entry.pending.length > 0) this.merge(entry);
    for (let i = 0; i + 2 < shared.length; i += 3) {
      const name = metrics[shared[i]];
      if (name !== undefined)
        this.keepNewest(entry, name, shared[i + 1], lastTs - shared[i + 2], false);
    }
    if (!entry.dirty) this.markDirty(entry);
  }

  /**
   * A value the history store held for a known device (the summary starting from the store at
   * boot, FleetSummaryService.seed): kept unless the device has a value from a reading at least as
   * new (a reading still pending replaces it at the merge when it is at least as new, as any
   * older value). Not queued for a push: seeding ends before the gateway listens, so every
   * snapshot a client starts from already has it, and a device's next change sends it along.
   */
  applyStored(deviceId: string, metric: string, value: number, ts: number): void {
    const entry = this.entries.get(deviceId) ?? this.create(deviceId);
    if (!entry) return;
    this.keepNewest(entry, metric, value, ts, false);
    this.shared = null;
    this.sharedWire = null;
  }

  /** Status, meta or a new metric changed: the device goes out with the next push. */
  applyDevice(deviceId: string): void {
    const entry = this.entries.get(deviceId) ?? this.create(deviceId);
    if (entry) this.markDirty(entry, true);
  }

  /**
   * An alert lifecycle event: the device's alerts follow whether its condition is on ({@link
   * isOn}). An alert of a device the registry does not know yet (another gateway's engine raised
   * it before this one heard of the device: its share is at most a push interval behind) waits
   * for it.
   */
  applyAlert(alert: AlertEvent): void {
    const entry = this.entries.get(alert.deviceId) ?? this.create(alert.deviceId);
    if (!entry) return this.waitForDevice(alert);
    const before = entry.alerts?.get(alert.id);
    if (isOn(alert)) {
      if (before === alert.severity) return;
      (entry.alerts ??= new Map()).set(alert.id, alert.severity);
    } else {
      if (before === undefined) return;
      entry.alerts?.delete(alert.id);
      if (entry.alerts?.size === 0) entry.alerts = null;
    }
    this.markDirty(entry, true);
  }

  /**
   * The device left the registry: a removal in the next push. `atOnce` (an admin's removal):
   * gone from snapshots and pages from now on too.
   */
  remove(deviceId: string, atOnce = false): void {
    const entry = this.entries.get(deviceId);
    if (!entry) return;
    this.entries.delete(deviceId);
    this.removed.push({ id: deviceId, group: entry.pushedGroup });
    entry.dirty = true; // never queued again; a queued one is skipped at the push
    if (!atOnce) return;
    // An admin's removal: the next page or snapshot already leaves it out (the dashboard goes to
    // the overview right after). Not for evictions: a flood of made-up ids would rebuild the
    // shared snapshot for every page asked.
    this.shared = null;
    this.sharedWire = null;
  }

  /**
   * The whole summary, for the devices within `scope` (null: all). The unscoped one is built once
   * per push interval and shared (a reconnect storm of dashboards must not rebuild 10,000
   * entries each): until the next push, whatever changed after it was built is still queued and
   * reaches the subscriber in that push or, for values alone beyond the budget, a later one, as
   * it joined the room before asking.
   */
  snapshot(scope: readonly string[] | null, at = Date.now()): FleetSummary {
    if (scope === null) return (this.shared ??= this.build(null, at));
    return this.build(scope, at);
  }

  /**
   * {@link snapshot} as the subscribe acknowledgement carries it (@pulse/protocol's compact
   * wire form); the unscoped one is encoded once per push interval and shared like the snapshot.
   */
  wireSnapshot(scope: readonly string[] | null, at = Date.now()): FleetSummaryWire {
    if (scope === null) return (this.sharedWire ??= encodeFleetSummary(this.snapshot(null, at)));
    return encodeFleetSummary(this.build(scope, at));
  }

  private build(scope: readonly string[] | null, at: number): FleetSummary {
    this.mergeQueued();
    const devices: DeviceSummary[] = [];
    for (const info of this.devices.list()) {
      if (!inScope(scope, info.meta?.group)) continue;
      devices.push(this.summarize(info, this.entries.get(info.deviceId), at));
    }
    if (scope === null) return { at, metrics: this.metrics.slice(), devices };
    const shown: boolean[] = [];
    showMetrics(devices, shown);
    return { at, metrics: shownTable(this.metrics, shown), devices };
  }

  /**
   * What changed since the previous call (null: nothing), and start over; devices whose values
   * alone changed beyond the budget (SUMMARY_VALUES_PER_PUSH) stay queued for the next calls.
   */
  takeDelta(at = Date.now()): SummaryDelta | null {
    this.mergeQueued();
    if (this.dirty.length === 0 && this.removed.length === 0 && !this.metricsGrew) return null;
    const changed: DeviceSummary[] = [];
    const previousGroups: (string | undefined)[] = [];
    const removed = this.removed;
    const later: Entry[] = [];
    let budget = Math.max(
      SUMMARY_VALUES_PER_PUSH,
      Math.ceil(this.dirty.length / SUMMARY_HOLD_PUSHES),
    );
    const dueFrom = this.pushes - (SUMMARY_HOLD_PUSHES - 1);
    for (const entry of this.dirty) {
      if (this.entries.get(entry.deviceId) !== entry) continue; // removed since
      if (!entry.urgent) {
        // Values alone: within the budget, or held long enough (which spends it too).
        if (budget <= 0 && entry.queuedAt > dueFrom) {
          later.push(entry);
          continue;
        }
        budget--;
      }
      entry.dirty = false;
      entry.urgent = false;
      const info = this.devices.get(entry.deviceId);
      if (!info) {
        // Gone from the registry without an eviction call (should not happen): drop it too.
        this.entries.delete(entry.deviceId);
        removed.push({ id: entry.deviceId, group: entry.pushedGroup });
        continue;
      }
      previousGroups.push(entry.pushedGroup);
      entry.pushedGroup = info.meta?.group;
      changed.push(this.summarize(info, entry, at));
    }
    this.shared = null;
    this.sharedWire = null;
    const table = this.metrics.slice();
    const delta: SummaryDelta = { at, changed, previousGroups, removed, table };
    if (this.metricsGrew) delta.metrics = table;
    this.dirty = later;
    this.pushes++;
    this.removed = [];
    this.metricsGrew = false;
    return delta;
  }

  /** Devices tracked (values or alerts), for stats and tests. */
  size(): number {
    return this.entries.size;
  }

  private summarize(info: DeviceInfo, entry: Entry | undefined, at: number): DeviceSummary {
    const out: DeviceSummary = [
      info.deviceId,
      info.meta?.name || null,
      info.meta?.group || null,
      info.status,
      info.lastSeen === null ? null : Math.max(0, at - info.lastSeen),
      entry ? denseValues(entry.values) : [],
    ];
    if (entry?.alerts) out.push(highest(entry.alerts));
    return out;
  }

  /** Alerts of a device not known yet (see applyAlert), bounded by WAITING_ALERTS_MAX devices. */
  private waitForDevice(alert: AlertEvent): void {
    let alerts = this.waitingAlerts.get(alert.deviceId);
    if (!isOn(alert)) {
      alerts?.delete(alert.id);
      if (alerts?.size === 0) this.waitingAlerts.delete(alert.deviceId);
      return;
    }
    if (!alerts) {
      if (this.waitingAlerts.size >= WAITING_ALERTS_MAX) {
        this.droppedAlerts++;
        return;
      }
      this.waitingAlerts.set(alert.deviceId, (alerts = new Map()));
    }
    alerts.set(alert.id, alert.severity);
  }

  /** Only devices the registry knows get an entry, so entries stay bounded by MAX_DEVICES. */
  private create(deviceId: string): Entry | undefined {
    const info = this.devices.get(deviceId);
    if (!info) return undefined;
    const waiting = this.waitingAlerts.get(deviceId) ?? null;
    if (waiting) this.waitingAlerts.delete(deviceId);
    const entry: Entry = {
      deviceId,
      values: [],
      times: [],
      count: 0,
      pending: [],
      alerts: waiting,
      dirty: false,
      urgent: true,
      queuedAt: 0,
      queuedToShare: false,
      pushedGroup: info.meta?.group,
    };
    this.entries.set(deviceId, entry);
    return entry;
  }

  /**
   * Fold a device's pending readings into its latest values in arrival order: a value is
   * replaced by one from a reading at least as new (a late, older reading does not hide a newer
   * value; of two with the same `ts` the later arrival wins).
   */
  private merge(entry: Entry): void {
    const { pending } = entry;
    for (let p = 0; p < pending.length; p++) {
      const { ts, values: reading } = pending[p];
      for (const metric in reading) this.keepNewest(entry, metric, reading[metric], ts, true);
    }
    pending.length = 0;
  }

  /**
   * `value` of `metric` from a reading at `ts`, kept unless the entry holds one from a newer
   * reading (`ties`: one from a reading with the same `ts` is replaced too) or is full.
   */
  private keepNewest(entry: Entry, metric: string, value: number, ts: number, ties: boolean): void {
    const index = this.metricIndex.get(metric) ?? this.addMetric(metric);
    if (index < 0) return;
    const { values, times } = entry;
    if (values[index] === undefined) {
      if (entry.count >= LIMITS.maxMetricsPerReading) return;
      entry.count++;
    } else if (ts < times[index] || (!ties && ts === times[index])) return;
    values[index] = value;
    times[index] = ts;
  }

  /** Only queued devices have pending readings. */
  private mergeQueued(): void {
    for (const entry of this.dirty) if (entry.pending.length > 0) this.merge(entry);
  }

  private markDirty(entry: Entry, urgent = false): void {
    if (urgent) entry.urgent = true;
    if (entry.dirty) return;
    entry.dirty = true;
    entry.queuedAt = this.pushes;
    this.dirty.push(entry);
  }

  private addMetric(metric: string): number {
    if (this.metrics.length >= LIMITS.maxSummaryMetrics) {
      this.droppedMetrics++;
      return -1;
    }
    const index = this.metrics.length;
    this.metrics.push(metric);
    this.metricIndex.set(metric, index);
    this.metricsGrew = true;
    return index;
  }
}

/**
 * Holes become null (JSON has no holes); the array already ends at the last value. Values are
 * rounded to SUMMARY_DIGITS significant digits: the summary is for showing and sorting a fleet
 * (readings and history keep every digit), and a sensor's 15-digit doubles were a third of a
 * 10,000-device summary.
 */
function denseValues(values: number[]): (number | null)[] {
  const out = new Array<number | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out[i] = value === undefined ? null : significant(value);
  }
  return out;
}

/** Significant digits of the values in a fleet summary. */
export const SUMMARY_DIGITS = 6;

/** `value` to SUMMARY_DIGITS significant digits, printed by JSON as that short decimal. */
export function significant(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const exponent = Math.floor(Math.log10(Math.abs(value))) - (SUMMARY_DIGITS - 1);
  // An integer divided (or multiplied) by an exact power of ten: the closest double to the
  // rounded decimal, which JSON prints without float noise.
  return exponent < 0
    ? Math.round(value * 10 ** -exponent) / 10 ** -exponent
    : Math.round(value / 10 ** exponent) * 10 ** exponent;
}

function highest(alerts: Map<string, AlertSeverity>): [AlertSeverity, number] {
  let top: AlertSeverity = 'info';
  for (const severity of alerts.values())
    if ((SEVERITY_RANK.get(severity) ?? 99) < (SEVERITY_RANK.get(top) ?? 99)) top = severity;
  return [top, alerts.size];
}

/** An alert the summary counts: active, its condition on ({@link isConditionOn}). */
function isOn(alert: AlertEvent): boolean {
  return alert.active && isConditionOn(alert);
}

/**
 * The part of a delta a client with `scope` may see (the delta itself when unscoped). A scoped
 * client is told metric names only as its own devices come to have values for them: `shown` holds
 * the indices of the names it was told so far (from its snapshot on, see {@link shownTable}), grown
 * in place; the event carries the table again, masked, when it grew.
 */
export function scopedEvent(
  delta: SummaryDelta,
  scope: readonly string[] | null,
  shown: boolean[] = [],
): SummaryEvent {
  const event: SummaryEvent = { at: delta.at, changed: [], removed: [] };
  if (scope === null) {
    if (delta.metrics) event.metrics = delta.metrics;
    event.changed = delta.changed;
    event.removed = delta.removed.map((r) => r.id);
    return event;
  }
  for (let i = 0; i < delta.changed.length; i++) {
    const device = delta.changed[i];
    if (inScope(scope, device[DS.group] ?? undefined)) event.changed.push(device);
    else if (inScope(scope, delta.previousGroups[i])) event.removed.push(device[DS.id]);
  }
  for (const r of delta.removed) if (inScope(scope, r.group)) event.removed.push(r.id);
  if (showMetrics(event.changed, shown)) event.metrics = shownTable(delta.table, shown);
  return event;
}

/** Marks in `shown` the metric indices `devices` have values for; true if any was not yet. */
function showMetrics(devices: readonly DeviceSummary[], shown: boolean[]): boolean {
  let grew = false;
  for (const device of devices) {
    const values = device[DS.values];
    for (let i = 0; i < values.length; i++)
      if (values[i] !== null && shown[i] !== true) {
        shown[i] = true;
        grew = true;
      }
  }
  return grew;
}

/**
 * The metric table as a group-scoped client sees it: the names at the indices in `shown`, '' at
 * every other (no metric is named '', and the indices stay the fleet's, so the values of its
 * devices read the same). A wall of one group is not told what the other groups measure.
 */
export function shownTable(table: readonly string[], shown: readonly boolean[]): string[] {
  return table.map((name, i) => (shown[i] === true ? name : ''));
}

/** Which names of a table a client was shown ({@link shownTable}'s `shown`), from the table it got. */
export function shownIn(table: readonly string[]): boolean[] {
  return table.map((name) => name !== '');
}
