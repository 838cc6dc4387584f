import type { AlertSeverity, AlertState } from '@pulse/protocol/core';
import { ALERT_SEVERITIES, ALERT_STATES, LIMITS, isValidId } from '@pulse/protocol/core';
import { ALERT_SORTS, AckFilter, AlertSort } from './alert-view';

/**
 * The alerts page (`/alerts`) keeps what it shows in the URL's query parameters, so a reload, a
 * bookmark or a shared link opens the same view:
 *
 * | param      | example              | meaning                                                     | default    |
 * |------------|----------------------|-------------------------------------------------------------|------------|
 * | `tab`      | `tab=history`        | the History tab                                             | Active     |
 * | `device`   | `device=pump-7`      | part of a device id or name                                 | –          |
 * | `severity` | `severity=critical`  | one severity (`critical` … `info`)                          | all        |
 * | `state`    | `state=raised`       | one state (`raised`, `acknowledged`, `cleared`, `flapping`) | all        |
 * | `ack`      | `ack=unacknowledged` | `unacknowledged` or `acknowledged` (Active tab)             | both       |
 * | `sort`     | `sort=newest`        | `severity`, `newest` or `device` (Active tab)               | `severity` |
 * | `grouped`  | `grouped=true`       | a heading per rule (Active tab)                             | flat       |
 * | `open`     | `open=co2-high,r7`   | the rules whose alerts are shown under their heading        | none       |
 *
 * The History tab filters by the same device, severity and state: it has no filters of its own.
 * The gateway matches its device text; a known device's exact id reads that one (decision 0055).
 * Defaults are left out of the URL. A value that cannot be one of these reads as the default,
 * quietly: a link never breaks the page.
 *
 * Pure: parsing and writing only; the page reads and writes the URL (core/util/query-state.ts).
 */
export interface AlertsParams {
  tab: 'active' | 'history';
  device: string;
  severity: AlertSeverity | '';
  state: AlertState | '';
  ack: AckFilter;
  sort: AlertSort;
  grouped: boolean;
  /** Rule ids expanded under their heading (written while grouped, sorted, at most OPEN_MAX). */
  open: readonly string[];
}

export const ALERTS_DEFAULTS: AlertsParams = {
  tab: 'active',
  device: '',
  severity: '',
  state: '',
  ack: '',
  sort: 'severity',
  grouped: false,
  open: [],
};

/** Rule headings a URL keeps open: 100 ids of up to 64 characters stay within the 8 KiB a proxy takes. */
export const OPEN_MAX = 100;

/** Longest device filter: it matches part of an id or of a display name (the longer of the two). */
export const DEVICE_FILTER_MAX_CHARS = LIMITS.maxNameLength;

const ACKS: readonly AckFilter[] = ['unacknowledged', 'acknowledged'];

type ParamSource = Pick<URLSearchParams, 'get'>;

/** The alerts page's state in `params` (never throws; anything unreadable is its default). */
export function parseAlertsParams(params: ParamSource): AlertsParams {
  const device = params.get('device') ?? '';
  return {
    tab: params.get('tab') === 'history' ? 'history' : ALERTS_DEFAULTS.tab,
    device: device.length <= DEVICE_FILTER_MAX_CHARS ? device : ALERTS_DEFAULTS.device,
    severity: oneOf(params.get('severity'), ALERT_SEVERITIES) ?? ALERTS_DEFAULTS.severity,
    state: oneOf(params.get('state'), ALERT_STATES) ?? ALERTS_DEFAULTS.state,
    ack: oneOf(params.get('ack'), ACKS) ?? ALERTS_DEFAULTS.ack,
    sort:
      oneOf(
        params.get('sort'),
        ALERT_SORTS.map((s) => s.value),
      ) ?? ALERTS_DEFAULTS.sort,
    grouped: params.get('grouped') === 'true',
    open: [...new Set((params.get('open') ?? '').split(',').filter(isValidId))].slice(0, OPEN_MAX),
  };
}

/** The query parameters of `state`: null for a default (left out of the URL). */
export function alertsQueryParams(state: AlertsParams): Record<keyof AlertsParams, string | null> {
  const device = state.device.trim();
  return {
    tab: state.tab === ALERTS_DEFAULTS.tab ? null : state.tab,
    device: device || null,
    severity: state.severity || null,
    state: state.state || null,
    ack: state.ack || null,
    sort: state.sort === ALERTS_DEFAULTS.sort ? null : state.sort,
    grouped: state.grouped ? 'true' : null,
    // Only a grouped list has headings to open.
    open:
      state.grouped && state.open.length
        ? [...new Set(state.open)].sort().slice(0, OPEN_MAX).join(',')
        : null,
  };
}

function oneOf<T extends string>(value: string | null, values: readonly T[]): T | undefined {
  return values.find((v) => v === value);
}
