import { signal } from '@angular/core';
import { DS, LIMITS } from '@pulse/protocol/core';
import type { FleetGroupCount, FleetSummaryPage } from '@pulse/protocol/core';
import type { FleetPageQuery } from '../core/http/devices-api';
import type { DeviceStore } from '../core/stores/device.store';

/*
 * The overview's window on the fleet: the gateway sorts, filters and searches the whole fleet
 * (`GET /api/fleet/summary`), and this holds only the page around what the screen renders, so
 * the browser's memory and work stay those of a screenful whatever the fleet's size. Owns the
 * query, the range wanted, the page held (ids by position, the list's size and groups) and
 * which devices it put into the DeviceStore; asks again once a second (the page's timer calls
 * refresh) and whenever the range leaves the page. It must not render, subscribe readings
 * (the page's visible set does) or hold devices beyond its page.
 */

/** Devices asked for before the screen's rows are known (a first screen at 4K fits). */
export const FIRST_PAGE = 120;
/** Devices asked for beyond each edge of the rendered range: at least this, else the range's size. */
export const MIN_MARGIN = 60;

/** What the list shows: the gateway's query fields but for the range. */
export type FleetWindowQuery = Omit<FleetPageQuery, 'offset' | 'limit'>;

export interface FleetWindowState {
  /** Position in the list of `ids[0]`. */
  offset: number;
  ids: readonly string[];
  /** Devices matching the query. */
  total: number;
  /** Devices in the fleet (this user's scope), matching or not. */
  fleet: number;
  /** Every group with how many of its devices match, by name, ungrouped (null) last. */
  groups: readonly FleetGroupCount[];
  /** More groups than the gateway lists: the list cannot be laid out by group. */
  groupsTruncated: boolean;
  /** The gateway's metric names (the sort menu). */
  metrics: readonly string[];
}

const keyOf = (q: FleetWindowQuery) => JSON.stringify([q.sort, q.q.trim(), q.group, q.grouped]);

export class FleetWindow {
  /** The page held; null until the first answer. */
  readonly state = signal<FleetWindowState | null>(null);
  /** Pages that could not be read (the next refresh asks again). */
  failures = 0;
  private wantFrom = 0;
  private wantTo = FIRST_PAGE;
  private busy = false;
  private again = false;
  private disposed = false;
  /** Devices of the page held, put into the store by this window. */
  private held = new Set<string>();
  /**
   * Devices taken out of the store at the last answer: readings already on their way when the
   * screen let them go bring a record back, which the next answer takes out again.
   */
  private departed: string[] = [];

  constructor(
    private readonly load: (query: FleetPageQuery) => Promise<FleetSummaryPage | null>,
    private readonly store: DeviceStore,
    private query: FleetWindowQuery,
  ) {}

  /** A new sort, filter or search: asked at once (the page shown until the answer comes). */
  setQuery(query: FleetWindowQuery): void {
    if (keyOf(query) === keyOf(this.query)) return;
    this.query = query;
    void this.fetch();
  }

  /**
   * The screen renders positions `[from, to)`: asked at once when the page held does not cover
   * them with half a margin to spare, so that a steady scroll has the next devices before their
   * rows are drawn (a row drawn empty, then filled, makes its tiles twice).
   */
  want(from: number, to: number): void {
    this.wantFrom = Math.max(0, from);
    this.wantTo = Math.max(this.wantFrom, to);
    const spare = Math.floor(this.margin() / 2);
    if (!this.covers(Math.max(0, this.wantFrom - spare), this.wantTo + spare)) void this.fetch();
  }

  /** Ask again for the same range (the page's timer, once a second). */
  refresh(): void {
    void this.fetch();
  }

  /** The device id at position `index` of the list, if the page held has it. */
  at(index: number): string | undefined {
    const state = this.state();
    return state ? state.ids[index - state.offset] : undefined;
  }

  dispose(): void {
    this.disposed = true;
  }

  /** Devices asked for beyond each edge of the rendered range. */
  private margin(): number {
    return Math.max(MIN_MARGIN, this.wantTo - this.wantFrom);
  }

  private covers(from: number, to: number): boolean {
    const state = this.state();
    if (!state) return false;
    const end = state.offset + state.ids.length;
    return state.offset <= from && (to <= end || end >= state.total);
  }

  /** One request at a time; what was asked meanwhile is asked once it is answered. */
  private async fetch(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const query = this.query;
        const margin = this.margin();
        const offset = Math.max(0, this.wantFrom - margin);
        const limit = Math.min(LIMITS.maxSummaryPage, this.wantTo + margin - offset);
        const page = await this.load({ ...query, offset, limit });
        if (this.disposed) return;
        if (!page) {
          this.failures++;
          return;
        }
        // Answered for a query that has changed since: the loop asks for the new one.
        if (keyOf(query) === keyOf(this.query)) this.apply(page, offset);
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  private apply(page: FleetSummaryPage, offset: number): void {
    const ids = page.devices.map((d) => d[DS.id]);
    const next = new Set(ids);
    this.store.applySummary(page.devices, page.metrics, page.at);
    const leaving = [...this.held].filter((id) => !next.has(id));
    this.store.remove([...leaving, ...this.departed.filter((id) => !next.has(id))]);
    this.departed = leaving;
    this.held = next;
    this.state.set({
      offset,
      ids,
      total: page.total,
      fleet: page.fleet,
      groups: page.groups,
      groupsTruncated: page.groupsTruncated === true,
      metrics: page.metrics,
    });
  }
}
