import type { AlertSeverity } from '@pulse/protocol/core';
import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { LiveChartComponent } from '../charts/live-chart.component';
import { ThresholdLine, thresholdLinesFor } from '../charts/threshold-lines';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { ClockService } from '../core/util/clock.service';
import { deviceHealth, silentSeconds } from '../core/stores/device-health';
import { DeviceStore } from '../core/stores/device.store';
import { formatAge, formatDuration, formatValue } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { middleEllipsis, nameParts } from '../core/util/middle-ellipsis';

/**
 * One device on the wall: big name, big values, a chart per metric, and an unmissable state.
 * Owns the tile's view (health, values, the threshold lines per metric); it must not watch
 * series or pick the alert colour (the wall page does both) nor draw (LiveChartComponent).
 */
@Component({
  selector: 'app-wall-tile',
  imports: [LiveChartComponent],
  template: `
    @let v = view();
    <article
      [class]="'wall-tile health-' + v.health + (alert() ? ' alert-' + alert() : '')"
      [class.blind]="blind()"
      [attr.data-alert]="alert()"
      [attr.data-device-id]="deviceId()"
      [attr.data-health]="v.health"
    >
      <header>
        <span class="wall-name cut-name"
          ><span class="cut-head">{{ v.name.head }}</span
          ><span class="cut-tail">{{ v.name.tail }}</span></span
        >
        <span class="wall-group">{{ v.group }}</span>
      </header>
      @switch (v.health) {
        @case ('stale') {
          <!-- While this screen is disconnected the banner says so; every device would look stale. -->
          @if (!blind()) {
            <div class="wall-state state-stale" data-testid="stale-label">STALE {{ v.silent }}</div>
          }
        }
        @case ('offline') {
          <div class="wall-state state-offline" data-testid="offline-label">
            OFFLINE <small>went offline {{ v.age }} (last will)</small>
          </div>
        }
        @case ('waiting') {
          <div class="wall-state state-waiting">NO DATA YET</div>
        }
      }
      <div class="wall-metrics">
        @for (m of v.metrics; track m.name) {
          <div class="wall-metric">
            <div class="wall-metric-head">
              <span class="wall-metric-name">{{ m.name }}</span>
              <span class="wall-value"
                >{{ m.value }}<small>{{ m.unit }}</small></span
              >
            </div>
            <app-live-chart
              class="wall-chart"
              variant="wall"
              [deviceId]="deviceId()"
              [metric]="m.name"
              [unit]="m.unit"
              [windowMs]="windowMs()"
              [thresholds]="m.thresholds"
            />
          </div>
        }
      </div>
    </article>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class WallTileComponent {
  readonly deviceId = input.required<string>();
  /** Metrics to show; empty = all the device has. */
  readonly metrics = input<string[]>([]);
  readonly windowMs = input(5 * 60_000);
  readonly staleMs = input(10_000);
  /** The browser is not connected: we cannot tell silent devices from our own outage. */
  readonly blind = input(false);
  /** Highest severity of the device's alerts whose condition is on (coloured border), or null. */
  readonly alert = input<AlertSeverity | null>(null);
  /**
   * Characters of the name that fit beside a group label of so many characters (the wall page's
   * wallNameChars for its grid); a longer name keeps its distinguishing end (middleEllipsis).
   */
  readonly nameChars = input<(groupChars: number) => number>(() => 40);

  private readonly store = inject(DeviceStore);
  private readonly clock = inject(ClockService);
  private readonly live = inject(LiveService);
  private readonly rules = inject(AlertRulesService);
  /** Per metric, the last lines handed to the chart (same array while unchanged: no chart churn). */
  private readonly lines = new Map<string, readonly ThresholdLine[]>();
  /** Rules and group the held lines were computed from (the view recomputes on every reading shown; rules rarely change). */
  private linesFrom: { rules: unknown; group: string | null; deviceId: string } | null = null;
  /** Metrics whose held lines were computed from `linesFrom`. */
  private readonly fresh = new Set<string>();

  constructor() {
    this.rules.ensureLoaded();
  }

  protected readonly view = computed(() => {
    const id = this.deviceId();
    // This device's own paced change signal: at a rate a person reads the number shows on the
    // frame after its reading; a device at 10 Hz shows its newest at most 4 times a second, in
    // the same frames as every other tile (a wall re-renders 4 frames a second, not 60), and a
    // reading of another device does not re-render this tile.
    this.store.pacedVersion(id)();
    this.clock.now();
    const d = this.store.get(id);
    const now = this.live.serverNow();
    const wanted = this.metrics();
    const names = wanted.length ? wanted : (d?.metrics ?? []);
    const silent = d ? silentSeconds(d, now) : null;
    return {
      name: nameParts(middleEllipsis(d?.name ?? id, this.nameChars()(d?.group?.length ?? 0))),
      group: d?.group ?? '',
      health: d ? deviceHealth(d, now, this.staleMs()) : 'waiting',
      silent: silent === null ? '' : formatDuration(silent * 1000),
      age: formatAge(d?.lastHeard != null ? now - d.lastHeard : null),
      metrics: names.map((name) => ({
        name,
        unit: d?.units[name] ?? '',
        value: formatValue(d?.latest[name]),
        thresholds: this.linesFor(id, d?.group ?? null, name),
      })),
    };
  });

  private linesFor(
    deviceId: string,
    group: string | null,
    metric: string,
  ): readonly ThresholdLine[] {
    const rules = this.rules.rules();
    const from = this.linesFrom;
    if (from?.rules !== rules || from.group !== group || from.deviceId !== deviceId) {
      this.linesFrom = { rules, group, deviceId };
      this.fresh.clear();
    }
    const held = this.lines.get(metric);
    if (held && this.fresh.has(metric)) return held;
    this.fresh.add(metric);
    const next = thresholdLinesFor(rules, deviceId, group, metric);
    if (held && JSON.stringify(held) === JSON.stringify(next)) return held;
    this.lines.set(metric, next);
    return next;
  }
}
