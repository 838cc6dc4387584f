import { Injectable, inject } from '@angular/core';
import type { FleetSummaryPage } from '@pulse/protocol/core';
import { DevicesApi, FleetPageQuery } from '../core/http/devices-api';
import { FIRST_PAGE } from './fleet-window';

/*
 * The overview's first page of the fleet, asked while the app boots (issue 11, the first live
 * tile): the page is created only once `/api/auth/me` has answered and its guard let it in, and
 * its first request would start then; asked at start-up it runs beside all that. Owns that one
 * request; the overview takes it (once) if it is the page it wants and still fresh, and asks
 * anew otherwise. Must not hold more than that request nor retry it.
 */

/** What the overview asks first: the default list from its top (FleetWindow's first request). */
export const FIRST_FLEET_PAGE: FleetPageQuery = {
  sort: 'name',
  q: '',
  group: '',
  grouped: false,
  offset: 0,
  limit: 2 * FIRST_PAGE,
};

/** An answer older than this is not shown as the first page: the overview asks anew. */
export const EARLY_PAGE_FRESH_MS = 2000;

const keyOf = (q: FleetPageQuery) =>
  JSON.stringify([q.sort, q.q.trim(), q.group, q.grouped, q.offset, q.limit]);

@Injectable({ providedIn: 'root' })
export class EarlyFleetPage {
  private readonly api = inject(DevicesApi);
  private pending: { key: string; page: Promise<FleetSummaryPage | null>; at: number } | null =
    null;

  /** Ask for the overview's first page now (the app starts on `/`). */
  start(): void {
    this.pending = {
      key: keyOf(FIRST_FLEET_PAGE),
      page: this.api.fleetPage(FIRST_FLEET_PAGE),
      at: Date.now(),
    };
  }

  /** The page asked at start if it is `query` and was asked within EARLY_PAGE_FRESH_MS; once. */
  take(query: FleetPageQuery): Promise<FleetSummaryPage | null> | null {
    const pending = this.pending;
    this.pending = null;
    if (!pending || pending.key !== keyOf(query)) return null;
    return Date.now() - pending.at <= EARLY_PAGE_FRESH_MS ? pending.page : null;
  }
}
