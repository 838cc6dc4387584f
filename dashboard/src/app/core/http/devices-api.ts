import { Injectable, inject } from '@angular/core';
import { ALERT_SEVERITIES, DEVICE_STATUSES, DS, LIMITS } from '@pulse/protocol/core';
import type {
  DeltaSeries,
  DeviceOrigin,
  DeviceSummary,
  FleetSummaryPage,
  HistoryResponse,
  MetricSeries,
  WindowsResponse,
  WireSeries,
} from '@pulse/protocol/core';
import { FETCH } from './alerts-api';

/*
 * The device reads the dashboard makes over HTTP besides the live socket: a device's origin (its
 * ingest source and the fields its format left out), a long range of one metric's history
 * (a chart's 6h / 24h / 7d window), the live windows of a device page, a wall board or a screen
 * of tiles, and a page of the fleet summary sorted and searched by the gateway (the overview's
 * rows), and an admin's removal of a device. Owns the URLs and the checks of what comes back;
 * holds no state.
 */

/** What {@link DevicesApi.windows} read: the series of the devices it could read, and the others. */
export interface WindowsRead {
  series: WireSeries[];
  /** Devices whose windows could not be read (in the order asked): they come another way. */
  unread: string[];
}

/** What the overview asks `GET /api/fleet/summary` for (FleetSummaryQuerySchema's fields). */
export interface FleetPageQuery {
  sort: string;
  q: string;
  group: string;
  grouped: boolean;
  offset: number;
  limit: number;
}
@Injectable({ providedIn: 'root' })
export class DevicesApi {
  private readonly fetch = inject(FETCH);

  /**
   * `DELETE /api/devices/:id` (admin): null once the device is gone (a 404 too: removed already,
   * from another screen); otherwise what went wrong, in words for the person who asked.
   */
  async remove(deviceId: string): Promise<string | null> {
    let res: Response;
    try {
      res = await this.fetch(`/api/devices/${encodeURIComponent(deviceId)}`, {
        method: 'DELETE',
        headers: { accept: 'application/json' },
      });
    } catch {
      return 'The gateway cannot be reached.';
    }
    if (res.ok || res.status === 404) return null;
    const body = (await res.json().catch(() => null)) as { message?: unknown } | null;
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${res.status}`;
    return res.status === 401 || res.status === 403 ? `Not allowed: ${message}.` : message;
  }

  /** `GET /api/devices/:id/origin`; null when it cannot be read (unknown device, offline gateway). */
  async origin(deviceId: string): Promise<DeviceOrigin | 'unknown' | null> {
    try {
      const res = await this.fetch(`/api/devices/${encodeURIComponent(deviceId)}/origin`, {
        headers: { accept: 'application/json' },
      });
      // The gateway knows no such device (or not for this caller's groups).
      if (res.status === 404) return 'unknown';
      if (!res.ok) return null;
      const body = (await res.json()) as DeviceOrigin;
      return body && Array.isArray(body.skipped) ? body : null;
    } catch {
      return null;
    }
  }

  /**
   * `GET /api/devices/:id/history` of one metric over `[from, to)`, downsampled by the gateway
   * to `maxPoints` (each bucket's lowest and highest reading); null when it cannot be read.
   */
  async history(
    deviceId: string,
    metric: string,
    range: { from: number; to: number; maxPoints: number },
  ): Promise<MetricSeries | null> {
    const body = await this.readHistory(deviceId, {
      from: String(Math.floor(range.from)),
      to: String(Math.ceil(range.to)),
      maxPoints: String(range.maxPoints),
      metrics: metric,
      // Spread over the range (the default, `latest`, keeps the newest readings only).
      pick: 'spread',
    });
    const series = body?.series?.find((s) => s.metric === metric);
    if (!series) return body && Array.isArray(body.series) ? emptySeries(deviceId, metric) : null;
    return Array.isArray(series.t) && Array.isArray(series.v) ? series : null;
  }

  /**
   * `GET /api/history?devices=…` of every metric since `from`: the live windows of a device page,
   * a wall board or a screen of tiles, at most `maxPoints` per metric spread over the range (as a
   * subscribe's history), timestamps as differences. Over HTTP they come compressed and beside
   * the socket, not ahead of its readings (decisions 0050, 0051). Ids beyond one request's
   * `LIMITS.maxHistoryDevices` go in further requests at once, each kept or given up on its own:
   * a request that cannot be read (refused, as by the read budget's 429 of decision 0053;
   * aborted through `signal`; offline) or holds a series that is not well-formed leaves its
   * devices `unread`, and the other requests' series are kept.
   */
  async windows(
    deviceIds: readonly string[],
    range: { from: number; maxPoints: number },
    signal?: AbortSignal,
  ): Promise<WindowsRead> {
    const chunks: (readonly string[])[] = [];
    for (let i = 0; i < deviceIds.length; i += LIMITS.maxHistoryDevices)
      chunks.push(deviceIds.slice(i, i + LIMITS.maxHistoryDevices));
    const answers = await Promise.all(chunks.map((ids) => this.readWindows(ids, range, signal)));
    const read: WindowsRead = { series: [], unread: [] };
    answers.forEach((series, i) => {
      if (series) read.series.push(...series);
      else read.unread.push(...chunks[i]);
    });
    return read;
  }

  private async readWindows(
    deviceIds: readonly string[],
    range: { from: number; maxPoints: number },
    signal?: AbortSignal,
  ): Promise<WireSeries[] | null> {
    const query = new URLSearchParams({
      devices: deviceIds.join(','),
      from: String(Math.max(0, Math.floor(range.from))),
      maxPoints: String(range.maxPoints),
      timeDeltas: 'true',
    });
    const body = await this.read<WindowsResponse>(`/api/history?${query}`, signal);
    if (!body || !Array.isArray(body.series)) return null;
    const asked = new Set(deviceIds);
    return body.series.every((s) => isWireSeries(s) && asked.has(s.deviceId)) ? body.series : null;
  }

  /** `GET /api/devices/:id/history?<query>`'s body, unchecked; null when it cannot be read. */
  private readHistory(
    deviceId: string,
    query: Record<string, string>,
  ): Promise<HistoryResponse | null> {
    return this.read<HistoryResponse>(
      `/api/devices/${encodeURIComponent(deviceId)}/history?${new URLSearchParams(query)}`,
    );
  }

  /** A JSON read's body, unchecked; null when it cannot be read. */
  private async read<T>(url: string, signal?: AbortSignal): Promise<T | null> {
    try {
      const res = await this.fetch(url, { headers: { accept: 'application/json' }, signal });
      if (!res.ok) return null;
      return (await res.json()) as T;
    } catch {
      return null;
    }
  }

  /**
   * One page of the fleet as the gateway sorts and searches it; null when it cannot be read or
   * any of it is not well-formed (a device left out would shift every position after it).
   */
  async fleetPage(query: FleetPageQuery): Promise<FleetSummaryPage | null> {
    const params = new URLSearchParams({
      sort: query.sort,
      offset: String(query.offset),
      limit: String(query.limit),
    });
    if (query.q.trim()) params.set('q', query.q.trim());
    if (query.group) params.set('group', query.group);
    if (query.grouped) params.set('grouped', 'true');
    try {
      const res = await this.fetch(`/api/fleet/summary?${params}`, {
        headers: { accept: 'application/json' },
      });
      if (!res.ok) return null;
      return checkedPage(await res.json());
    } catch {
      return null;
    }
  }
}

function checkedPage(body: unknown): FleetSummaryPage | null {
  const page = body as Partial<FleetSummaryPage> | null;
  if (
    !page ||
    typeof page.at !== 'number' ||
    typeof page.total !== 'number' ||
    typeof page.fleet !== 'number' ||
    !Array.isArray(page.metrics) ||
    !page.metrics.every((m) => typeof m === 'string') ||
    !Array.isArray(page.devices) ||
    !Array.isArray(page.groups) ||
    !page.groups.every(
      (g) => g && (g.name === null || typeof g.name === 'string') && typeof g.count === 'number',
    )
  )
    return null;
  return page.devices.every(isSummaryEntry) ? (page as FleetSummaryPage) : null;
}

function isSummaryEntry(entry: unknown): entry is DeviceSummary {
  if (!Array.isArray(entry)) return false;
  const nullable = (v: unknown, type: string) => v === null || typeof v === type;
  const alert = entry[DS.alert] as unknown;
  return (
    typeof entry[DS.id] === 'string' &&
    nullable(entry[DS.name], 'string') &&
    nullable(entry[DS.group], 'string') &&
    DEVICE_STATUSES.includes(entry[DS.status]) &&
    nullable(entry[DS.age], 'number') &&
    Array.isArray(entry[DS.values]) &&
    (entry[DS.values] as unknown[]).every((v) => nullable(v, 'number')) &&
    (alert === undefined ||
      (Array.isArray(alert) && ALERT_SEVERITIES.includes(alert[0]) && typeof alert[1] === 'number'))
  );
}

/** A series as the wire has it (plain or with time deltas): its points' arrays of one length. */
function isWireSeries(s: unknown): s is WireSeries {
  if (!s || typeof s !== 'object') return false;
  const series = s as Partial<MetricSeries & DeltaSeries>;
  const times = 'dt' in series ? series.dt : series.t;
  return (
    typeof series.deviceId === 'string' &&
    typeof series.metric === 'string' &&
    Array.isArray(times) &&
    Array.isArray(series.v) &&
    times.length === series.v.length
  );
}

function emptySeries(deviceId: string, metric: string): MetricSeries {
  return { deviceId, metric, t: [], v: [] };
}

/** A skipped field's reason in words, for the device view. */
export const SKIP_REASON_WORDS: Record<string, string> = {
  string: 'text',
  null: 'null',
  array: 'list',
  type: 'not a number',
  not_finite: 'not finite',
  timestamp: 'unreadable time',
  future_timestamp: 'time ahead of the server: received time used',
};
