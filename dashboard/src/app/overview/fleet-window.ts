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

/**
 * How long a device that left the page is taken out of the store again at each answer: the
 * device set's unsubscribe goes out within 150 ms, a subscribe's answer may take up to its 10 s
 * timeout.
 */
export const DEPARTED_MS = 15_000;
/** Devices remembered as departed at most (a fast scroll through a large fleet): the oldest go. */
export const MAX_DEPARTED = 5_000;

/** What the list shows: the gateway's query fields but for the range. */
export type FleetWindowQuery = Omit<FleetPageQuery, 'offset' | 'limit'>;

export interface FleetWindowState {
  /** The query this page answers (see keyOf). */
  key: string;
  /** Ordered by group first (the rows have headings). */
  grouped: boolean;
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
   * Devices that left the page, by when (oldest first): a reading or a subscribe's answer
   * already on its way when the screen let them go brings a record back, which each answer
   * takes out again for DEPARTED_MS.
   */
  private readonly departed = new Map<string, number>();

  /**
   * @param watched whether another view (or this page's tiles, until their unsubscribe) still
   *   subscribes a device: such a device is not taken out of the store, only later if it stops.
   */
  constructor(
    private readonly load: (query: FleetPageQuery) => Promise<FleetSummaryPage | null>,
    private readonly store: DeviceStore,
    private query: FleetWindowQuery,
    private readonly watched: (deviceId: string) => boolean = () => false,
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
    if (!this.coversWithSpare()) void this.fetch();
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

  /** The page is gone: its devices are let go too (another page asks for what it shows). */
  dispose(): void {
    this.disposed = true;
    this.store.remove([...this.held, ...this.departed.keys()].filter((id) => !this.watched(id)));
    this.held.clear();
    this.departed.clear();
  }

  /** Devices asked for beyond each edge of the rendered range. */
  private margin(): number {
    return Math.max(MIN_MARGIN, this.wantTo - this.wantFrom);
  }

  /**
   * The range to ask for: the rendered one, moved back within the list when it lies beyond its
   * end (a search narrowed the list while the screen was far down: the scroller has not caught
   * up yet).
   */
  private range(): { from: number; to: number } {
    const total = this.state()?.total;
    const span = this.wantTo - this.wantFrom;
    if (total === undefined || this.wantFrom < total || total === 0)
      return { from: this.wantFrom, to: this.wantTo };
    return { from: Math.max(0, total - span), to: total };
  }

  /** The page held answers the current query and covers `[from, to)` (or the list's end). */
  private covers(from: number, to: number): boolean {
    const state = this.state();
    if (!state || state.key !== keyOf(this.query)) return false;
    const end = state.offset + state.ids.length;
    return state.offset <= from && (to <= end || end >= state.total);
  }

  private coversWithSpare(): boolean {
    const { from, to } = this.range();
    const spare = Math.floor(this.margin() / 2);
    return this.covers(Math.max(0, from - spare), to + spare);
  }

  /** One request at a time; what was asked meanwhile is asked once it is answered. */
  private async fetch(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    // An answer that does not cover what is rendered now is followed by one more request, once.
    let followed = false;
    try {
      do {
        this.again = false;
        const query = this.query;
        const { from, to } = this.range();
        // Centred on the range, within the gateway's page size.
        const margin = Math.max(
          0,
          Math.min(this.margin(), Math.floor((LIMITS.maxSummaryPage - (to - from)) / 2)),
        );
        const offset = Math.max(0, from - margin);
        const limit = Math.max(1, Math.min(LIMITS.maxSummaryPage, to + margin - offset));
        const page = await this.load({ ...query, offset, limit });
        if (this.disposed) return;
        if (!page) {
          this.failures++;
          // What was asked meanwhile is asked now; else the next refresh tries again.
          continue;
        }
        // Answered for a query that has changed since: the loop asks for the new one.
        if (keyOf(query) !== keyOf(this.query)) continue;
        this.apply(page, offset, query);
        if (!this.again && !followed && !this.coversWithSpare()) {
          followed = true;
          this.again = true;
        }
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  private apply(page: FleetSummaryPage, offset: number, query: FleetWindowQuery): void {
    const ids = page.devices.map((d) => d[DS.id]);
    const next = new Set(ids);
    this.store.applySummary(page.devices, page.metrics, page.at);
    // Devices that left: out of the store once no view subscribes them (the tiles' unsubscribe
    // follows this answer), and again at each answer for DEPARTED_MS while a reading or an
    // acknowledgement already on its way may bring a record back.
    const now = Date.now();
    for (const id of this.held) if (!next.has(id)) this.departed.set(id, now);
    for (const [id, at] of this.departed)
      if (next.has(id) || now - at > DEPARTED_MS) this.departed.delete(id);
    while (this.departed.size > MAX_DEPARTED)
      this.departed.delete(this.departed.keys().next().value as string);
    this.store.remove([...this.departed.keys()].filter((id) => !this.watched(id)));
    this.held = next;
    this.state.set({
      key: keyOf(query),
      grouped: query.grouped,
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
