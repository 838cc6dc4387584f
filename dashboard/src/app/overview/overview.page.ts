import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  signal,
} from '@angular/core';
import { DeviceState, DeviceStore } from '../core/stores/device.store';
import { LiveService } from '../core/live/live.service';
import { DeviceTileComponent } from './device-tile.component';

/** Sparkline window and history asked for on the overview. */
const OVERVIEW_WINDOW_MS = 5 * 60_000;

interface Section {
  name: string;
  devices: DeviceState[];
}

/** Fleet overview: every device as a tile, filter by text and group, optional group-by. */
@Component({
  selector: 'app-overview-page',
  imports: [DeviceTileComponent],
  template: `
    <section class="toolbar" aria-label="Filters">
      <input
        type="search"
        class="input"
        placeholder="Filter by name, id or group"
        aria-label="Filter devices"
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
    @for (section of sections(); track section.name) {
      @if (groupBy()) {
        <h2 class="section-title">
          {{ section.name }} <span class="muted">{{ section.devices.length }}</span>
        </h2>
      }
      <div class="tile-grid">
        @for (d of section.devices; track d.deviceId) {
          <app-device-tile [device]="d" [windowMs]="windowMs" />
        }
      </div>
    } @empty {
      <p class="empty">{{ total() ? 'No device matches the filter.' : 'Waiting for devices…' }}</p>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OverviewPage {
  private readonly store = inject(DeviceStore);
  protected readonly windowMs = OVERVIEW_WINDOW_MS;
  protected readonly query = signal('');
  protected readonly group = signal('');
  protected readonly groupBy = signal(false);

  private readonly all = computed(() => {
    this.store.revision();
    return this.store
      .all()
      .sort((a, b) => a.name.localeCompare(b.name) || a.deviceId.localeCompare(b.deviceId));
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
    const q = this.query().trim().toLowerCase();
    const g = this.group();
    return this.all().filter(
      (d) =>
        (!g || d.group === g) &&
        (!q ||
          d.name.toLowerCase().includes(q) ||
          d.deviceId.toLowerCase().includes(q) ||
          (d.group ?? '').toLowerCase().includes(q)),
    );
  });
  protected readonly shown = computed(() => this.filtered().length);
  protected readonly sections = computed<Section[]>(() => {
    const devices = this.filtered();
    if (devices.length === 0) return [];
    if (!this.groupBy()) return [{ name: 'all', devices }];
    const byGroup = new Map<string, DeviceState[]>();
    for (const d of devices) {
      const name = d.group ?? 'ungrouped';
      let list = byGroup.get(name);
      if (!list) byGroup.set(name, (list = []));
      list.push(d);
    }
    return [...byGroup.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, list]) => ({ name, devices: list }));
  });

  constructor() {
    const handle = inject(LiveService).watch({
      fleet: true,
      historyMs: OVERVIEW_WINDOW_MS,
      maxPoints: 300,
    });
    inject(DestroyRef).onDestroy(() => handle.release());
  }
}
