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
} from '@angular/core';
import { ScrollingModule, VIRTUAL_SCROLL_STRATEGY, ViewportRuler } from '@angular/cdk/scrolling';
import './cdk-viewport-styles';
import { AlertStore, severityRank } from '../core/stores/alert.store';
import { DeviceState, DeviceStore } from '../core/stores/device.store';
import { LiveService } from '../core/live/live.service';
import { DeviceTileComponent } from './device-tile.component';
import {
  FLEET_SORTS,
  FleetSort,
  HEADING_ROW_PX,
  OverviewRow,
  TILE_ROW_PX,
  TILE_GAP_PX,
  chunkRows,
  queryFleet,
  rowHeights,
  tilesPerRow,
} from './fleet-view';
import { nameCharsFor } from './middle-ellipsis';
import { RowHeightsScrollStrategy } from './row-scroll-strategy';

/*
 * The fleet overview page: search, group filter, sort and group-by over the whole device store,
 * drawn as rows of tiles in a CDK virtual scroller (only the rows on screen are in the DOM).
 * Owns the page's query state and the row layout; tiles draw themselves, the stores are
 * LiveService's. It must not subscribe per tile or render devices that are off screen.
 */

/** Sparkline window and history asked for on the overview. */
const OVERVIEW_WINDOW_MS = 5 * 60_000;

@Component({
  selector: 'app-overview-page',
  imports: [DeviceTileComponent, ScrollingModule],
  providers: [
    { provide: VIRTUAL_SCROLL_STRATEGY, useFactory: () => new RowHeightsScrollStrategy() },
  ],
  template: `
    <section class="toolbar" aria-label="Filters">
      <input
        type="search"
        class="input"
        placeholder="Search name, id or group"
        aria-label="Filter devices"
        data-testid="fleet-search"
        [value]="query()"
        (input)="query.set($any($event.target).value)"
      />
      <select
        class="input"
        aria-label="Group"
        [value]="group()"
        (change)="group.set($any($event.target).value)"
      >
        <option value="">All groups</option>
        @for (g of groups(); track g) {
          <option [value]="g">{{ g }}</option>
        }
      </select>
      <select
        class="input"
        aria-label="Sort by"
        data-testid="fleet-sort"
        [value]="sort()"
        (change)="sort.set($any($event.target).value)"
      >
        @for (s of sorts; track s.value) {
          <option [value]="s.value">Sort: {{ s.label }}</option>
        }
      </select>
      <label class="check"
        ><input
          type="checkbox"
          [checked]="groupBy()"
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
          @for (d of row.devices; track d.deviceId) {
            <app-device-tile [device]="d" [windowMs]="windowMs" [nameChars]="nameChars()" />
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
  private readonly alerts = inject(AlertStore);
  private readonly strategy = inject(VIRTUAL_SCROLL_STRATEGY) as RowHeightsScrollStrategy;
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  protected readonly windowMs = OVERVIEW_WINDOW_MS;
  protected readonly sorts = FLEET_SORTS;
  protected readonly headingPx = HEADING_ROW_PX;
  protected readonly tileRowPx = TILE_ROW_PX;
  protected readonly query = signal('');
  protected readonly group = signal('');
  protected readonly sort = signal<FleetSort>('name');
  protected readonly groupBy = signal(false);
  /** Width of the tile area (px); 0 until measured, which lays out one tile per row. */
  private readonly width = signal(0);

  private readonly all = computed(() => {
    this.store.revision();
    return this.store.all();
  });
  protected readonly total = computed(() => this.all().length);
  protected readonly groups = computed(() =>
    [
      ...new Set(
        this.all()
          .map((d) => d.group)
          .filter((g): g is string => g !== null),
      ),
    ].sort(),
  );
  private readonly filtered = computed(() => {
    const sort = this.sort();
    // Only the severity order reads the alerts: a new alert must not re-sort a name-sorted fleet.
    const byDevice = sort === 'severity' ? this.alerts.byDevice() : null;
    return queryFleet(this.all(), { text: this.query(), group: this.group(), sort }, (id) => {
      const summary = byDevice?.get(id);
      return summary ? severityRank(summary.severity) : null;
    });
  });
  protected readonly shown = computed(() => this.filtered().length);
  private readonly perRow = computed(() => tilesPerRow(this.width()));
  protected readonly columns = computed(() => `repeat(${this.perRow()}, minmax(0, 1fr))`);
  protected readonly nameChars = computed(() =>
    nameCharsFor((this.width() - TILE_GAP_PX * (this.perRow() - 1)) / this.perRow()),
  );
  protected readonly rows = computed<OverviewRow<DeviceState>[]>(() =>
    chunkRows(this.filtered(), this.perRow(), this.groupBy()),
  );
  protected readonly trackRow = (_: number, row: OverviewRow<DeviceState>) => row.key;

  constructor() {
    const handle = inject(LiveService).watch({
      fleet: true,
      historyMs: OVERVIEW_WINDOW_MS,
      maxPoints: 300,
    });
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => handle.release());
    effect(() => this.strategy.setHeights(rowHeights(this.rows())));
    // Tiles per row follow the page width: re-measure (and re-chunk) on every resize.
    const measure = () => this.width.set(this.host.nativeElement.clientWidth);
    afterNextRender(measure);
    const resizes = inject(ViewportRuler)
      .change(100)
      .subscribe(() => measure());
    destroyRef.onDestroy(() => resizes.unsubscribe());
  }
}
