import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { AlertBadgeComponent } from '../alerts/alert-badge.component';
import { WINDOWS, windowFromParam } from '../charts/chart-windows';
import { LiveChartComponent } from '../charts/live-chart.component';
import { ThresholdLine, thresholdLinesFor } from '../charts/threshold-lines';
import { AuthService } from '../core/auth/auth.service';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { DevicesApi, SKIP_REASON_WORDS } from '../core/http/devices-api';
import { isValidId } from '@pulse/protocol/core';
import type { DeviceOrigin } from '@pulse/protocol/core';
import { EMPTY_STATS, WindowStats } from '../charts/window-stats';
import { ClockService } from '../core/util/clock.service';
import { deviceHealth, staleAfterMs } from '../core/stores/device-health';
import { DeviceStore } from '../core/stores/device.store';
import { formatAge, formatClock, formatDuration, formatValue } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { MAX_SERIES_CAPACITY } from '../core/stores/series.store';
import { ConfirmActionComponent } from '../shared/confirm-action.component';

const HISTORY_MS = 60 * 60_000;
const DEVICE_STALE_MS = 10_000;
/** How often the device's origin (source, skipped fields) is read again while the view is open. */
const ORIGIN_REFRESH_MS = 30_000;

/**
 * One device: a live chart per metric, window stats, window selector (1m … 7d, kept in the URL
 * as `?window=` so a bookmark or a wall screen keeps it), pause, meta and status; for an admin,
 * "Remove device" behind a confirmation, then back to the overview.
 */
@Component({
  selector: 'app-device-page',
  imports: [RouterLink, LiveChartComponent, AlertBadgeComponent, ConfirmActionComponent],
  template: `
    @let d = view();
    <nav class="crumbs">
      <a routerLink="/">Fleet</a> / <span>{{ id() }}</span>
    </nav>
    @if (gone(); as g) {
      <section class="empty" data-testid="device-removed" role="status">
        <h1>{{ g.name }} was removed</h1>
        <p>
          The gateway no longer knows {{ id() }}: an admin removed it, the gateway made room for
          newer devices, or it left the groups you may see. Its readings show here again if it
          publishes.
        </p>
        <a routerLink="/">Back to the fleet overview</a>
      </section>
    } @else {
      <section class="device-head">
        <div>
          <h1>{{ d.name }}</h1>
          <div class="muted">{{ id() }} · {{ d.group ?? 'no group' }}</div>
        </div>
        <span class="badge badge-{{ d.health }} big" data-testid="device-health">{{
          d.health
        }}</span>
        <a class="device-alerts" [routerLink]="['/alerts']" [queryParams]="{ device: id() }"
          ><app-alert-badge [deviceId]="id()" [big]="true"
        /></a>
        <div class="controls">
          <div class="seg" role="group" aria-label="Window">
            @for (w of windows; track w.label) {
              <button
                type="button"
                [class.on]="windowMs() === w.ms"
                (click)="chooseWindow(w.label)"
                [attr.aria-pressed]="windowMs() === w.ms"
                [attr.data-window]="w.label"
              >
                {{ w.label }}
              </button>
            }
          </div>
          <button
            type="button"
            class="btn"
            (click)="paused.set(!paused())"
            [attr.aria-pressed]="paused()"
            data-testid="pause"
          >
            {{ paused() ? 'Resume' : 'Pause' }}
          </button>
        </div>
      </section>
      <dl class="meta">
        <div>
          <dt>Status</dt>
          <dd>{{ d.status }}</dd>
        </div>
        <div>
          <dt>Last heard</dt>
          <dd>{{ d.age }}</dd>
        </div>
        <div>
          <dt>Last reading</dt>
          <dd>{{ d.lastTs }}</dd>
        </div>
        <div>
          <dt>Cadence</dt>
          <dd>{{ d.cadence }}</dd>
        </div>
        <div>
          <dt>Stale after</dt>
          <dd>{{ d.staleAfter }}</dd>
        </div>
        <div>
          <dt>Metrics</dt>
          <dd>{{ d.metrics.length }}</dd>
        </div>
        @let o = origin();
        <div>
          <dt>Source</dt>
          <dd data-testid="device-source">{{ o ? (o.source ?? 'Pulse contract') : '–' }}</dd>
        </div>
      </dl>
      @if (canRemove()) {
        <section class="device-remove" data-testid="device-remove">
          <app-confirm-action
            action="Remove device"
            progress="Removing…"
            [question]="
              'Remove ' + (d.name === id() ? id() : d.name + ' (' + id() + ')') + ' from Pulse?'
            "
            [consequence]="removeConsequence"
            testId="remove-device"
            [busy]="removing()"
            [open]="confirming()"
            (openChange)="askRemove($event)"
            (confirmed)="remove()"
          />
          @if (removeError(); as problem) {
            <p class="auth-error" role="alert" data-testid="remove-error">{{ problem }}</p>
          }
        </section>
      }
      @if (o && o.skipped.length) {
        <p class="skipped muted" data-testid="skipped-fields">
          Left out by its format:
          @for (s of o.skipped; track s.field; let last = $last) {
            <span class="skipped-field"
              ><code>{{ s.field }}</code> ({{ reasonWords[s.reason] ?? s.reason }}){{
                last ? '' : ', '
              }}</span
            >
          }
        </p>
      }
      @for (m of d.metrics; track m.name) {
        <section class="chart-card" [attr.data-metric]="m.name">
          <header>
            <h2>
              {{ m.name }} <small class="muted">{{ m.unit }}</small>
            </h2>
            <span class="latest"
              >{{ m.latest }}<small>{{ m.unit }}</small></span
            >
            @let s = stats()[m.name] ?? empty;
            <span class="stats">
              min <b>{{ fmt(s.min) }}</b> · max <b>{{ fmt(s.max) }}</b>
              @if (s.bucketMs) {
                <span class="muted">
                  ({{ s.count }} × {{ duration(s.bucketMs) }} buckets{{ gapsText(s) }})</span
                >
              } @else {
                · avg <b>{{ fmt(s.avg) }}</b>
                <span class="muted"> ({{ s.count }} pts{{ gapsText(s) }})</span>
              }
            </span>
          </header>
          <app-live-chart
            class="chart-body"
            [deviceId]="id()"
            [metric]="m.name"
            [unit]="m.unit"
            [windowMs]="windowMs()"
            [paused]="paused()"
            [thresholds]="thresholds()[m.name] ?? noLines"
            (stats)="onStats(m.name, $event)"
          />
        </section>
      } @empty {
        @if (validId() && unknown()) {
          <p class="empty" data-testid="unknown-device">
            The gateway knows no device “{{ id() }}” (or it is outside the groups you may see). This
            page fills in as soon as it publishes.
          </p>
        } @else if (validId()) {
          <p class="empty">Waiting for readings from {{ id() }}…</p>
        } @else {
          <p class="empty" data-testid="invalid-id">
            “{{ id() }}” is not a device id: ids are 1 to 64 letters, digits, “_”, “-” or “.”.
          </p>
        }
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DevicePage {
  /** Route parameter `:id` (component input binding). */
  readonly id = input.required<string>();
  /** A URL that cannot name a device (the gateway would refuse it): said so, nothing asked. */
  protected readonly validId = computed(() => isValidId(this.id()));
  /** Query parameter `?window=` (1m, 5m, 15m, 1h, 6h, 24h, 7d; anything else: 5m). */
  readonly window = input<string | undefined>();

  private readonly store = inject(DeviceStore);
  private readonly live = inject(LiveService);
  private readonly clock = inject(ClockService);
  protected readonly windows = WINDOWS;
  protected readonly empty = EMPTY_STATS;
  protected readonly windowMs = computed(() => windowFromParam(this.window()).ms);
  protected readonly duration = formatDuration;
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly paused = signal(false);
  protected readonly stats = signal<Partial<Record<string, WindowStats>>>({});
  protected readonly fmt = formatValue;
  protected readonly noLines: readonly ThresholdLine[] = [];
  private readonly rules = inject(AlertRulesService);
  private readonly devicesApi = inject(DevicesApi);
  /** Its ingest source and skipped fields (issue 14), read on open and every ORIGIN_REFRESH_MS. */
  protected readonly origin = signal<DeviceOrigin | null>(null);
  /**
   * The gateway answered that it knows no such device (read again with the origin, so a device
   * that starts publishing later fills the page in).
   */
  protected readonly unknown = signal(false);
  /**
   * The device this page showed, as it was named, when the gateway said it no longer knows it
   * (removed on another screen, evicted, or out of this user's groups now); null while it does.
   */
  private readonly removed = signal<{ name: string } | null>(null);
  /**
   * {@link removed} until the device publishes again (its readings still reach this page: they
   * make a new record, shown as any device's): the page says it is gone instead of its last
   * values as if live.
   */
  protected readonly gone = computed(() => {
    const removed = this.removed();
    if (!removed) return null;
    this.store.version(this.id())();
    return this.store.get(this.id()) ? null : removed;
  });
  /** A reason a newer gateway sends and this page has no words for is shown as it came. */
  protected readonly reasonWords: Partial<Record<string, string>> = SKIP_REASON_WORDS;
  private readonly auth = inject(AuthService);
  /** An admin, on a device the gateway knows: may remove it (the gateway checks again). */
  protected readonly canRemove = computed(
    () => this.auth.isAdmin() && this.validId() && !this.unknown(),
  );
  /** "Remove device…" was clicked: the question and its two answers are shown. */
  protected readonly confirming = signal(false);
  protected readonly removing = signal(false);
  protected readonly removeError = signal<string | null>(null);
  protected readonly removeConsequence =
    'It leaves the fleet and its open alerts end. Its stored readings stay until retention ' +
    'removes them; if it reports again, it comes back as a new device.';

  /** Threshold rule levels per metric of this device (its group decides group-scoped rules). */
  protected readonly thresholds = computed(
    () => {
      const rules = this.rules.rules();
      const id = this.id();
      const device = this.view();
      const out: Partial<Record<string, readonly ThresholdLine[]>> = {};
      for (const m of device.metrics) {
        const lines = thresholdLinesFor(rules, id, device.group, m.name);
        if (lines.length) out[m.name] = lines;
      }
      return out;
    },
    { equal: sameLines },
  );

  protected readonly view = computed(() => {
    const id = this.id();
    // Bumped on every change to this device: a reading's value shows on the next frame.
    this.store.version(id)();
    this.clock.now();
    const d = this.store.get(id);
    const now = this.live.serverNow();
    if (!d) {
      return {
        name: id,
        group: null,
        health: 'waiting',
        status: 'unknown',
        age: 'never',
        lastTs: '–',
        cadence: '–',
        staleAfter: '–',
        metrics: [] as { name: string; unit: string; latest: string }[],
      };
    }
    return {
      name: d.name,
      group: d.group,
      health:
        this.live.connection().phase !== 'connected' && d.status !== 'offline'
          ? 'unknown'
          : deviceHealth(d, now, DEVICE_STALE_MS),
      status: d.status,
      age: formatAge(d.lastHeard === null ? null : now - d.lastHeard),
      lastTs: d.lastTs === null ? '–' : formatClock(d.lastTs),
      cadence:
        d.cadenceMs !== null
          ? `${Math.round(d.cadenceMs)} ms (observed)`
          : d.intervalMs !== null
            ? `${d.intervalMs} ms (meta)`
            : '–',
      staleAfter: formatDuration(staleAfterMs(d, DEVICE_STALE_MS)),
      metrics: d.metrics.map((name) => ({
        name,
        unit: d.units[name] ?? '',
        latest: formatValue(d.latest[name]),
      })),
    };
  });

  constructor() {
    this.rules.ensureLoaded();
    effect((onCleanup) => {
      const id = this.id();
      if (!this.validId()) return;
      let current = true;
      const load = () => {
        // The live room does not say a device left the fleet (only the fleet summary does, which
        // this page does not follow: docs/decisions/0060): the gateway's 404 here does.
        const shown = this.store.get(id);
        const known = shown !== undefined || this.origin() !== null;
        const heard = shown?.lastHeard;
        const name = shown?.name ?? id;
        void this.devicesApi.origin(id).then((o) => {
          if (!current) return;
          // A reading since the question was asked is newer than its answer: keep the device.
          const later = this.store.get(id);
          if (o === 'unknown' && known && later?.lastHeard === heard) {
            this.removed.set({ name });
            // Its last values go, as the summary's removal takes them from every other screen.
            this.store.remove([id]);
          } else if (o !== null && o !== 'unknown') this.removed.set(null);
          this.unknown.set(o === 'unknown');
          this.origin.set(o === 'unknown' ? null : o);
        });
      };
      untracked(() => {
        this.origin.set(null);
        this.unknown.set(false);
        this.removed.set(null);
        load();
      });
      const timer = setInterval(load, ORIGIN_REFRESH_MS);
      onCleanup(() => {
        current = false;
        clearInterval(timer);
      });
    });
    effect((onCleanup) => {
      const id = this.id();
      if (!this.validId()) return;
      // untracked: watching reads the connection signal, which must not re-run this effect.
      const handle = untracked(() => {
        this.stats.set({});
        return this.live.watch({
          devices: [id],
          historyMs: HISTORY_MS,
          maxPoints: MAX_SERIES_CAPACITY,
          capacity: MAX_SERIES_CAPACITY,
          // The hour over HTTP, compressed, beside the socket's readings (decision 0050).
          windowOverHttp: true,
        });
      });
      onCleanup(() => handle.release());
    });
  }

  /** Asked (a click by mistake must cost nothing: the shared question's Keep has the focus) or kept. */
  protected askRemove(open: boolean): void {
    if (open) this.removeError.set(null);
    this.confirming.set(open);
  }

  /** `DELETE /api/devices/:id`, then the overview; a refusal is said here and nothing moves. */
  protected async remove(): Promise<void> {
    const id = this.id();
    this.removing.set(true);
    const problem = await this.devicesApi.remove(id);
    this.removing.set(false);
    if (problem !== null) {
      this.removeError.set(problem);
      this.confirming.set(false);
      return;
    }
    // Dropped here at once; every other screen drops it with the gateway's next summary push.
    this.store.remove([id]);
    void this.router.navigate(['/']);
  }

  /** Choose a window: into the URL (`?window=`, replacing the entry), which the view follows. */
  protected chooseWindow(label: string): void {
    void this.router.navigate([], {
      relativeTo: this.route,
      queryParams: { window: label },
      queryParamsHandling: 'merge',
      replaceUrl: true,
    });
  }

  protected gapsText(s: WindowStats): string {
    return s.gaps ? `, ${s.gaps} ${s.gaps === 1 ? 'gap' : 'gaps'}` : '';
  }

  protected onStats(metric: string, stats: WindowStats): void {
    this.stats.update((all) => ({ ...all, [metric]: stats }));
  }
}

/** Re-render charts only when the lines really change (the view recomputes every second). */
function sameLines(
  a: Partial<Record<string, readonly ThresholdLine[]>>,
  b: Partial<Record<string, readonly ThresholdLine[]>>,
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
