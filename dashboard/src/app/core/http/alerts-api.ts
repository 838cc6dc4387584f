import { Injectable, InjectionToken, inject } from '@angular/core';
import { DisplayTokenStore } from '../auth/display-token';
import { AlertInput } from '../live/alert-input';
import type {
  ActiveAlertsResponse,
  AlertEvent,
  AlertHistoryResponse,
  AlertRule,
  AlertRulesResponse,
  AlertSeverity,
  RefusedStoredRule,
  AlertState,
} from '@pulse/protocol/core';

/*
 * The dashboard's HTTP reads (alert history, alert rules) behind an injectable fetch. It owns
 * URLs and error messages; it must not cache or hold state (AlertRulesService does, for rules).
 */

/**
 * `fetch`, injectable so unit tests answer HTTP calls themselves. On a paired wall screen every
 * request carries its display token in `Authorization`.
 */
export const FETCH = new InjectionToken<typeof fetch>('FETCH', {
  providedIn: 'root',
  factory: () => {
    const display = inject(DisplayTokenStore);
    return (input, init) => globalThis.fetch(input, display.authorize(init));
  },
});

/** The rules as read, with the entity tag of each one the gateway tagged. */
export interface RulesRead {
  rules: AlertRule[];
  etags: ReadonlyMap<string, string>;
  /**
   * Stored rules the gateway's schema refused at boot, not run (an admin's read of a gateway that
   * has any; empty otherwise, and from older gateways).
   */
  refused: RefusedStoredRule[];
}

/** A page of the alert history as read. */
export interface AlertHistoryPage {
  /** Its events, newest first (malformed ones left out). */
  events: AlertEvent[];
  /**
   * How many the gateway sent, malformed ones included: a page shorter than asked for is the end
   * of the history, one shortened by refusals is not.
   */
  sent: number;
  /**
   * Where the next (older) page starts, its `to`: the time of the oldest event the gateway sent,
   * malformed or not (a page the check emptied still goes on from there); null when none has a
   * time it could be asked by.
   */
  oldest: number | null;
}

export interface AlertHistoryFilter {
  /** A device's exact id, or part of an id or display name (the gateway matches it). */
  device?: string;
  severity?: AlertSeverity | '';
  state?: AlertState | '';
  /** Only events updated at or before this time (ms): the next page of a newest-first list. */
  to?: number;
  limit?: number;
}

/** The alert reads the dashboard makes over HTTP (the live socket carries the changes). */
@Injectable({ providedIn: 'root' })
export class AlertsApi {
  private readonly fetch = inject(FETCH);
  private readonly alerts = inject(AlertInput);

  /** `GET /api/alerts/history`: lifecycle events, newest first. */
  async history(filter: AlertHistoryFilter): Promise<AlertHistoryPage> {
    const query = new URLSearchParams();
    if (filter.device) query.set('device', filter.device);
    if (filter.severity) query.set('severity', filter.severity);
    if (filter.state) query.set('state', filter.state);
    if (filter.to !== undefined) query.set('to', String(filter.to));
    query.set('limit', String(filter.limit ?? 200));
    const body = await this.get<AlertHistoryResponse>(`/api/alerts/history?${query}`);
    const sent: unknown = body?.events;
    return {
      events: this.alerts.list(sent, 'GET /api/alerts/history'),
      sent: Array.isArray(sent) ? sent.length : 0,
      oldest: Array.isArray(sent) ? oldestTime(sent, filter.to) : null,
    };
  }

  /** `GET /api/alerts`: the active list with its version (decision 0054). */
  async active(signal?: AbortSignal): Promise<ActiveAlertsResponse> {
    return this.get<ActiveAlertsResponse>('/api/alerts', signal);
  }

  /**
   * `GET /api/alert-rules`: the rules and each one's entity tag by id (none from a gateway older
   * than decision 0072: the rules page then writes without `If-Match`, as before).
   */
  async rules(): Promise<RulesRead> {
    const body = await this.get<AlertRulesResponse>('/api/alert-rules');
    const rules = Array.isArray(body?.rules) ? body.rules : [];
    const etags = new Map<string, string>();
    const sent: unknown = body?.etags;
    if (sent && typeof sent === 'object')
      for (const rule of rules) {
        const tag: unknown = Object.hasOwn(sent, rule.id)
          ? (sent as Record<string, unknown>)[rule.id]
          : undefined;
        if (typeof tag === 'string') etags.set(rule.id, tag);
      }
    return { rules, etags, refused: refusedOf(body?.refused) };
  }

  private async get<T>(url: string, signal?: AbortSignal): Promise<T> {
    const res = await this.fetch(url, { headers: { accept: 'application/json' }, signal });
    if (!res.ok) {
      let detail = '';
      try {
        const body = (await res.json()) as { message?: string | string[] };
        detail = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? '');
      } catch {
        /* not JSON */
      }
      throw new Error(`${url.split('?')[0]}: HTTP ${res.status}${detail ? ` — ${detail}` : ''}`);
    }
    return (await res.json()) as T;
  }
}

/**
 * The `updatedAt` of the last event of a newest-first page that has a usable one: a whole number
 * of ms no later than the `to` asked for (a later one, or one that is no time, would page back to
 * newer events or nowhere; the event before it is taken then).
 */
function oldestTime(events: readonly unknown[], to: number | undefined): number | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const at: unknown = (events[i] as { updatedAt?: unknown } | null)?.updatedAt;
    if (
      typeof at === 'number' &&
      Number.isSafeInteger(at) &&
      at >= 0 &&
      (to === undefined || at <= to)
    )
      return at;
  }
  return null;
}

/** The list's `refused`, read defensively (unknown JSON): the entries that have its shape. */
function refusedOf(sent: unknown): RefusedStoredRule[] {
  if (!Array.isArray(sent)) return [];
  return sent.flatMap((entry: unknown) => {
    const { id, issues } = (entry ?? {}) as { id?: unknown; issues?: unknown };
    if (typeof id !== 'string' && id !== null) return [];
    const lines = Array.isArray(issues)
      ? issues.filter((i): i is string => typeof i === 'string')
      : [];
    return [{ id: id as string | null, issues: lines }];
  });
}
