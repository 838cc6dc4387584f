import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { AlertBadgeComponent, badgeLabel } from '../alerts/alert-badge.component';
import { SparklineDirective } from '../charts/sparkline.directive';
import { ClockService } from '../core/util/clock.service';
import { deviceHealth } from '../core/stores/device-health';
import { DeviceState, DeviceStore } from '../core/stores/device.store';
import { formatAge, formatValue } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { AlertStore } from '../core/stores/alert.store';
import { middleEllipsis, nameCharsBeside, nameParts } from '../core/util/middle-ellipsis';

/** Metrics shown on a tile; the device view shows all. */
const TILE_METRICS = 4;

/** One device on the fleet overview: a fixed-height tile (the virtual rows rely on it). */
@Component({
  selector: 'app-device-tile',
  imports: [RouterLink, SparklineDirective, AlertBadgeComponent],
  template: `
    @let v = view();
    <a
      class="tile"
      [class]="'tile health-' + v.health"
      [routerLink]="['/devices', device().deviceId]"
      [attr.data-device-id]="device().deviceId"
      [attr.data-health]="v.health"
    >
      <header class="tile-head">
        <span class="tile-name cut-name" [title]="device().name + ' (' + device().deviceId + ')'"
          ><span class="cut-head">{{ v.name.head }}</span
          ><span class="cut-tail">{{ v.name.tail }}</span></span
        >
        <app-alert-badge [deviceId]="device().deviceId" />
        <span class="badge badge-{{ v.health }}">{{ v.health }}</span>
      </header>
      <div class="tile-sub">
        <span class="tile-where"
          ><span class="tile-id" data-testid="tile-id">{{ v.id }}</span> ·
          {{ device().group ?? 'no group' }}</span
        >
        <span class="tile-age" [attr.data-age-ms]="v.ageMs">{{ v.age }}</span>
      </div>
      <ul class="tile-metrics">
        <!-- By position: a recycled tile (see the overview) keeps its sparklines for other metrics. -->
        @for (m of v.metrics; track $index) {
          <li>
            <span class="metric-name">{{ m.name }}</span>
            <span class="metric-value"
              >{{ m.value }}<small>{{ m.unit }}</small></span
            >
            @if (charts()) {
              <svg
                appSparkline
                [deviceId]="device().deviceId"
                [metric]="m.name"
                [windowMs]="windowMs()"
              ></svg>
            } @else {
              <span class="sparkline" aria-hidden="true"></span>
            }
          </li>
        } @empty {
          <li class="muted">no readings yet</li>
        }
      </ul>
      @if (v.more > 0) {
        <div class="muted small">+{{ v.more }} more</div>
      }
    </a>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DeviceTileComponent {
  readonly device = input.required<DeviceState>();
  readonly staleMs = input(10_000);
  readonly windowMs = input(5 * 60_000);
  /** Characters of the name that fit the tile; longer names keep their end (middleEllipsis). */
  readonly nameChars = input(24);
  /**
   * The page is scrolling: a tile that has not drawn its sparklines yet waits until it holds
   * still (a tile passing by creates no sparklines); once drawn they stay.
   */
  readonly deferCharts = input(false);
  private chartsShown = false;
  protected readonly charts = computed(() => {
    if (!this.deferCharts()) this.chartsShown = true;
    return this.chartsShown;
  });

  private readonly store = inject(DeviceStore);
  private readonly clock = inject(ClockService);
  private readonly live = inject(LiveService);
  private readonly alerts = inject(AlertStore);
  /** Characters of the name beside this device's alert badge, if it shows one. */
  private readonly nameRoom = computed(() =>
    nameCharsBeside(
      this.nameChars(),
      badgeLabel(this.alerts.byDevice().get(this.device().deviceId) ?? null),
    ),
  );

  protected readonly view = computed(() => {
    const d = this.device();
    // The record is mutated in place: its paced version is bumped on the frame after a change at
    // a rate a person reads (and no other tile re-renders for it); faster devices at most 4
    // times a second, all in the same frames (DeviceStore.pacedVersion).
    this.store.pacedVersion(d.deviceId)();
    this.clock.now();
    const now = this.live.serverNow();
    const ageMs = d.lastHeard === null ? null : Math.max(0, now - d.lastHeard);
    const health = deviceHealth(d, now, this.staleMs());
    // While this browser is disconnected, silence proves nothing about the device.
    const blind = this.live.connection().phase !== 'connected' && health !== 'offline';
    const chars = this.nameChars();
    return {
      name: nameParts(middleEllipsis(d.name, this.nameRoom())),
      // The id is how a device is found and addressed: never cut below a readable length.
      id: middleEllipsis(d.deviceId, Math.max(16, chars - 8)),
      health: blind ? 'unknown' : health,
      ageMs,
      age: formatAge(ageMs),
      metrics: d.metrics.slice(0, TILE_METRICS).map((name) => ({
        name,
        value: formatValue(d.latest[name]),
        unit: d.units[name] ?? '',
      })),
      more: Math.max(0, d.metrics.length - TILE_METRICS),
    };
  });
}
