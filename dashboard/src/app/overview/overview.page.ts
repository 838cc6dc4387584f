import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  afterNextRender,
  computed,
  effect,
  inject,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { DOCUMENT } from '@angular/common';
import type { ListRange } from '@angular/cdk/collections';
import {
  CdkVirtualScrollViewport,
  ScrollingModule,
  VIRTUAL_SCROLL_STRATEGY,
  ViewportRuler,
} from '@angular/cdk/scrolling';
import './cdk-viewport-styles';
import { DeviceState, DeviceStore } from '../core/stores/device.store';
import { LiveService } from '../core/live/live.service';
import { DevicesApi } from '../core/http/devices-api';
import { DeviceTileComponent } from './device-tile.component';
import { SPARKLINE_POINTS } from '../charts/sparkline.directive';
import {
  FleetSort,
  HEADING_ROW_PX,
  OverviewRow,
  TILE_ROW_PX,
  TILE_GAP_PX,
  fleetSorts,
  layoutRows,
  positionsOf,
  rowHeights,
  serverSort,
  tilesPerRow,
} from './fleet-view';
import { FleetWindow } from './fleet-window';
import { nameCharsFor } from '../core/util/middle-ellipsis';
import { BUFFER_PX, RowHeightsScrollStrategy } from './row-scroll-strategy';
import {
  OVERVIEW_DEFAULTS,
  OverviewParams,
  SEARCH_MAX_CHARS,
  overviewQueryParams,
  parseOverviewParams,
} from './overview-params';
import { keepInQueryParams } from '../core/util/query-state';

/*
 * The fleet overview page: search, group filter, sort and group-by over the whole fleet (kept in
 * the URL, overview-params.ts), done by the gateway (FleetWindow holds the page of it around the
 * screen, asked again once a second), drawn as rows of tiles in a CDK virtual scroller (only the
 * rows on screen are in the DOM), and the devices of those rows watched at full rate as one device
 * set. Owns the page's query state, the row layout and which devices are on screen; tiles draw
 * themselves, the stores are LiveService's. It must not subscribe per tile, subscribe the whole
 * fleet's readings or its summary, or hold or render devices that are off screen.
 */

/** The page of the fleet is asked again this often (the gateway's summary changes once a second). */
export const FLEET_REFRESH_MS = 1000;

/**
 * A scroll holds still after this long without a scroll event: tiles that came on screen while
 * it moved draw their sparklines then. Creating a row's ~28 canvases as it flies past was half
 * the render cost of a scrolled frame (measured with and without them in one session).
 */
const SCROLL_SETTLE_MS = 150;

/** The first screen's sparklines wait at most this long for the tiles' subscribe to be answered. */
const FIRST_CHARTS_MAX_WAIT_MS = 3000;

/** Sparkline window and the history asked for a tile that comes on screen. */
const OVERVIEW_WINDOW_MS = 5 * 60_000;

@Component({
  selector: 'app-overview-page',
  imports: [DeviceTileComponent, ScrollingModule],
  providers: [
    // The first screen renders the rows in view only (buffer 0): see firstScreenSettled.
    { provide: VIRTUAL_SCROLL_STRATEGY, useFactory: () => new RowHeightsScrollStrategy(0) },
  ],
  template: `
    <section class="toolbar" aria-label="Filters">
      <input
        type="search"
        class="input"
        placeholder="Search devices"
        aria-label="Search devices by name, id or group"
        title="Search devices by name, id or group"
        data-testid="fleet-search"
        [attr.maxlength]="searchMaxChars"
        [value]="query()"
        (input)="query.set($any($event.target).value)"
      />
      <!-- Each option says whether it is chosen: a choice from the URL comes before the options
           the gateway's answer lists, and a select's value set before its option is lost. -->
      <select class="input" aria-label="Group" (change)="group.set($any($event.target).value)">
        <option value="" [selected]="group() === ''">All groups</option>
        @for (g of groups(); track g) {
          <option [value]="g" [selected]="g === group()">{{ g }}</option>
        }
      </select>
      <select
        class="input"
        aria-label="Sort by"
        data-testid="fleet-sort"
        (change)="sort.set($any($event.target).value)"
      >
        @for (s of sorts(); track s.value) {
          <option [value]="s.value" [selected]="s.value === sort()">Sort: {{ s.label }}</option>
        }
      </select>
      <label
        class="check"
        [title]="groupsTruncated() ? 'Too many groups to list under headings' : ''"
        ><input
          type="checkbox"
          [checked]="groupBy() && !groupsTruncated()"
          [disabled]="groupsTruncated()"
          (change)="groupBy.set($any($event.target).checked)"
        />
        Group by group</label
      >
      <span class="muted count" data-testid="device-count"
        >{{ shown() }} / {{ total() }} devices</span
      >
    </section>
    <cdk-virtual-scroll-viewport scrollWindow class="overview-rows">
      <div
        *cdkVirtualFor="let row of rows(); trackBy: trackRow"
        class="overview-row"
        [class.tile-row]="row.kind === 'tiles'"
        [style.height.px]="row.kind === 'heading' ? headingPx : tileRowPx"
        [style.grid-template-columns]="columns()"
      >
        @if (row.kind === 'heading') {
          <h2 class="section-title">
            {{ row.name }} <span class="muted">{{ row.count }}</span>
          </h2>
        } @else {
          <!-- By position: a row recycled by the scroller keeps its tiles and gives them other
               devices (text and attributes change; no component, link or sparkline is made). -->
          @for (slot of row.slots; track $index) {
            @let d = deviceAt(row.start + slot);
            @if (d) {
              <app-device-tile
                [device]="d"
                [windowMs]="windowMs"
                [nameChars]="nameChars()"
                [deferCharts]="deferCharts()"
              />
            } @else {
              <div class="tile tile-pending" aria-hidden="true"></div>
            }
          }
        }
      </div>
    </cdk-virtual-scroll-viewport>
    @if (!rows().length) {
      <p class="empty">{{ total() ? 'No device matches the filter.' : 'Waiting for devices…' }}</p>
    }
  `,
  host: { class: 'overview' },
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OverviewPage {
  private readonly store = inject(DeviceStore);
  private readonly live = inject(LiveService);
  private readonly viewport = viewChild.required(CdkVirtualScrollViewport);
  private readonly strategy = inject(VIRTUAL_SCROLL_STRATEGY) as RowHeightsScrollStrategy;
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  protected readonly windowMs = OVERVIEW_WINDOW_MS;
  protected readonly headingPx = HEADING_ROW_PX;
  protected readonly tileRowPx = TILE_ROW_PX;
  protected readonly searchMaxChars = SEARCH_MAX_CHARS;
  // What the list shows, kept in the URL (overview-params.ts): the URL's from the start.
  protected readonly query = signal(OVERVIEW_DEFAULTS.q);
  protected readonly group = signal(OVERVIEW_DEFAULTS.group);
  protected readonly sort = signal<FleetSort>(OVERVIEW_DEFAULTS.sort);
  protected readonly groupBy = signal(OVERVIEW_DEFAULTS.grouped);
  private readonly opened = keepInQueryParams<OverviewParams>({
    parse: parseOverviewParams,
    write: overviewQueryParams,
    read: () => ({
      q: this.query(),
      group: this.group(),
      sort: this.sort(),
      grouped: this.groupBy(),
    }),
    apply: (state) => {
      this.query.set(state.q);
      this.group.set(state.group);
      this.sort.set(state.sort);
      this.groupBy.set(state.grouped);
    },
  });
  /** Width of the tile area (px); 0 until measured, which lays out one tile per row. */
  private readonly width = signal(0);

  /** Rows rendered by the virtual scroller (the window ± its buffer). */
  private readonly range = signal<ListRange>({ start: 0, end: 0 });

  private readonly devicesApi = inject(DevicesApi);
  private readonly fleet = new FleetWindow(
    (query) => this.devicesApi.fleetPage(query),
    this.store,
    // The page's first query, the URL's (the effect below follows the signals from there).
    {
      sort: serverSort(this.opened.sort),
      q: this.opened.q,
      group: this.opened.group,
      grouped: this.opened.grouped,
    },
    (id) => this.live.isWatched(id),
  );
  private readonly page = this.fleet.state;

  /** The sort menu, with the URL's metric sort while the fleet has no such metric (yet). */
  protected readonly sorts = computed(() => {
    const sorts = fleetSorts(this.page()?.metrics ?? []);
    const sort = this.sort();
    if (sorts.some((s) => s.value === sort)) return sorts;
    return [...sorts, { value: sort, label: `${sort.slice('metric:'.length)}, highest first` }];
  });
  /** Devices in the fleet (matching or not), and matching the search and group. */
  protected readonly total = computed(() => this.page()?.fleet ?? 0);
  protected readonly shown = computed(() => this.page()?.total ?? 0);
  /** The groups to filter by, with the URL's group while the fleet has no such group (yet). */
  protected readonly groups = computed(
    () => {
      const groups = this.page()?.groups.flatMap((g) => (g.name === null ? [] : [g.name])) ?? [];
      const group = this.group();
      return group && !groups.includes(group) ? [...groups, group] : groups;
    },
    { equal: (a, b) => a.length === b.length && a.every((g, i) => g === b[i]) },
  );
  protected readonly groupsTruncated = computed(() => this.page()?.groupsTruncated ?? false);
  /** Asked for in group order: not when the gateway lists too few of the groups to head them. */
  private readonly grouped = computed(() => this.groupBy() && !this.groupsTruncated());
  private readonly perRow = computed(() => tilesPerRow(this.width()));
  protected readonly columns = computed(() => `repeat(${this.perRow()}, minmax(0, 1fr))`);
  protected readonly nameChars = computed(() =>
    nameCharsFor((this.width() - TILE_GAP_PX * (this.perRow() - 1)) / this.perRow()),
  );
  /**
   * Heading counts when the page held is in group order (the rows follow the answer, not the
   * checkbox: until the grouped page comes, the list is laid out as the page held is ordered),
   * the same array while they are the same (the rows are re-cut only then).
   */
  private readonly headings = computed(
    () => {
      const page = this.page();
      return page?.grouped ? page.groups : null;
    },
    {
      equal: (a, b) =>
        a === b ||
        (a !== null &&
          b !== null &&
          a.length === b.length &&
          a.every((g, i) => g.name === b[i].name && g.count === b[i].count)),
    },
  );
  protected readonly rows = computed<OverviewRow[]>(() =>
    layoutRows(this.shown(), this.perRow(), this.headings()),
  );
  protected readonly trackRow = (_: number, row: OverviewRow) => row.key;
  /** The device at a position of the list, once the page around it has come. */
  protected readonly deviceAt = (index: number): DeviceState | undefined => {
    const id = this.fleet.at(index);
    return id === undefined ? undefined : this.store.get(id);
  };
  /** The list positions of the rendered rows' tiles. */
  private readonly positions = computed(
    () => positionsOf(this.rows(), this.range().start, this.range().end),
    { equal: (a, b) => a.from === b.from && a.to === b.to },
  );
  /** The devices of the rendered rows, the same array while they are the same devices. */
  private readonly onScreen = computed(
    () => {
      const { from, to } = this.positions();
      const ids: string[] = [];
      for (let i = from; i < to; i++) {
        const id = this.fleet.at(i);
        if (id !== undefined) ids.push(id);
      }
      return ids;
    },
    { equal: (a, b) => a.length === b.length && a.every((id, i) => id === b[i]) },
  );

  private windowQuery() {
    return {
      sort: serverSort(this.sort()),
      q: this.query(),
      group: this.group(),
      grouped: this.grouped(),
    };
  }

  /**
   * The page is scrolling (a scroll event in the last SCROLL_SETTLE_MS): tiles that come on
   * screen meanwhile show their numbers at once and their sparklines once it holds still.
   */
  protected readonly scrolling = signal(false);
  /**
   * The tiles' own subscribe has been answered (or FIRST_CHARTS_MAX_WAIT_MS passed), then
   * SCROLL_SETTLE_MS. Until then tiles show their numbers only: the first paint and the first
   * live values do not wait for ~35 tiles' 140 sparklines, whose points come with that answer.
   * Nor for the rows beyond the screen: the scroller renders its buffer (BUFFER_PX each way,
   * two more rows of tiles at 1080 px) from then on.
   */
  private readonly firstScreenSettled = signal(false);
  protected readonly deferCharts = computed(() => this.scrolling() || !this.firstScreenSettled());

  constructor() {
    const destroyRef = inject(DestroyRef);
    const doc = inject(DOCUMENT);
    const win = doc.defaultView;
    if (win) {
      let settle: ReturnType<typeof setTimeout> | null = null;
      const onScroll = () => {
        if (!this.scrolling()) this.scrolling.set(true);
        if (settle !== null) clearTimeout(settle);
        settle = setTimeout(() => this.scrolling.set(false), SCROLL_SETTLE_MS);
      };
      win.addEventListener('scroll', onScroll, { passive: true });
      destroyRef.onDestroy(() => {
        win.removeEventListener('scroll', onScroll);
        if (settle !== null) clearTimeout(settle);
      });
    }
    // The page of the fleet around the screen from the gateway (asked again once a second),
    // full-rate readings and a sparkline's worth of history for the devices on screen only.
    const visible = this.live.watchDevices({
      historyMs: OVERVIEW_WINDOW_MS,
      maxPoints: SPARKLINE_POINTS,
    });
    // Not while the tab is hidden (nothing on screen to keep in order); at once when it shows.
    const refresh = setInterval(() => {
      if (!doc.hidden) this.fleet.refresh();
    }, FLEET_REFRESH_MS);
    const onVisible = () => {
      if (!doc.hidden) this.fleet.refresh();
    };
    doc.addEventListener('visibilitychange', onVisible);
    this.fleet.refresh();
    destroyRef.onDestroy(() => {
      clearInterval(refresh);
      doc.removeEventListener('visibilitychange', onVisible);
      visible.release(); // first: the window then lets the tiles' devices go too
      this.fleet.dispose();
    });
    effect(() => {
      const query = this.windowQuery();
      untracked(() => this.fleet.setQuery(query));
    });
    effect(() => {
      const { from, to } = this.positions();
      if (to > from) untracked(() => this.fleet.want(from, to));
    });
    // The first screen's sparklines wait for the tiles' own subscribe to be answered: its values
    // (newer than the summary's) go on screen before ~140 sparklines are made, which held the
    // answer up behind them on a busy main thread (issue 11, first live tile).
    let firstScreen: ReturnType<typeof setTimeout> | null = null;
    let firstScreenCap: ReturnType<typeof setTimeout> | null = null;
    let destroyed = false;
    destroyRef.onDestroy(() => {
      destroyed = true;
      for (const timer of [firstScreen, firstScreenCap]) if (timer !== null) clearTimeout(timer);
    });
    const settleFirstScreen = () => {
      if (destroyed || firstScreen !== null) return;
      firstScreen = setTimeout(() => this.firstScreenSettled.set(true), SCROLL_SETTLE_MS);
    };
    effect(() => {
      const ids = this.onScreen();
      visible.set(ids);
      if (ids.length === 0 || firstScreenCap !== null) return;
      firstScreenCap = setTimeout(settleFirstScreen, FIRST_CHARTS_MAX_WAIT_MS);
      // After the set's diff went out (queued at the end of this task, before this).
      queueMicrotask(() => void visible.answered().then(settleFirstScreen));
    });
    afterNextRender(() => {
      const ranges = this.viewport().renderedRangeStream.subscribe((r) => {
        this.range.set(r);
        // The scroller reports the rows it is about to draw: their devices are subscribed now,
        // before ~35 tiles are created and painted (the effect above would send them after).
        untracked(() => {
          visible.set(this.onScreen());
          visible.flush();
        });
      });
      destroyRef.onDestroy(() => ranges.unsubscribe());
    });
    effect(() => this.strategy.setHeights(rowHeights(this.rows())));
    effect(() => {
      if (this.firstScreenSettled()) this.strategy.setBuffer(BUFFER_PX);
    });
    // Tiles per row follow the page width: re-measure (and re-chunk) on every resize.
    const measure = () => this.width.set(this.host.nativeElement.clientWidth);
    afterNextRender(measure);
    const resizes = inject(ViewportRuler)
      .change(100)
      .subscribe(() => measure());
    destroyRef.onDestroy(() => resizes.unsubscribe());
  }
}
