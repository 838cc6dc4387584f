import { ChangeDetectionStrategy, Component, DestroyRef, type ElementRef } from '@angular/core';
import { afterNextRender, computed, effect, inject, input, viewChild } from '@angular/core';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { LiveService } from '../core/live/live.service';
import { FrameScheduler } from '../core/render/frame-scheduler.service';
import { AlertStore } from '../core/stores/alert.store';
import { DeviceStore } from '../core/stores/device.store';
import { ClockService } from '../core/util/clock.service';
import { formatValue } from '../core/util/format';
import {
  HEAT_COLORS,
  HeatDevice,
  HeatState,
  heatCounts,
  heatStatesOf,
  metricState,
  statusState,
  thresholdRulesFor,
} from './heat-map';
import { HeatCanvas, HeatCells } from './heat-canvas';

/*
 * The fleet heat map board: one cell per device on one canvas, coloured by status and alert or
 * by a metric against its threshold rules, with counts per state in a strip above it. Owns the
 * per-device states and the canvas's life (size, hover title, its drawable in the frame loop);
 * it must not subscribe (the wall page does) nor pick which devices or in what order (it is
 * given the ids), and draws only through HeatCanvas.
 */

const STATUS_STATES = heatStatesOf('status');
const METRIC_STATES = heatStatesOf('metric');
const LABELS: Partial<Record<HeatState, string>> = { novalue: 'no value', unknown: 'never heard' };

@Component({
  selector: 'app-wall-heat-map',
  template: `
    @let c = counts();
    <div class="heat-strip" data-testid="heat-counts" [attr.data-total]="c.total">
      <span class="heat-total">{{ c.total }} devices</span>
      @for (s of c.states; track s.state) {
        <span
          class="heat-count"
          [class.heat-zero]="s.count === 0"
          [attr.data-state]="s.state"
          [attr.data-count]="s.count"
          ><i class="heat-swatch" [style.background-color]="s.color"></i>{{ s.label }}
          <b>{{ s.count }}</b></span
        >
      }
      @if (metric(); as m) {
        <span class="heat-mode">by {{ m }} against its alert thresholds</span>
      }
    </div>
    <div class="heat-area" #area>
      <canvas
        #canvas
        class="heat-canvas"
        data-testid="heat-map"
        role="img"
        [class.blind]="blind()"
        [attr.aria-label]="ariaLabel()"
        [attr.data-cells]="c.total"
      ></canvas>
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'heat-host' },
})
export class WallHeatMapComponent {
  /** Devices in cell order (left to right, top to bottom). */
  readonly deviceIds = input.required<readonly string[]>();
  readonly staleMs = input(10_000);
  /** Colour by this metric against its thresholds; null = by status and alert. */
  readonly metric = input<string | null>(null);
  /** The browser is disconnected: states are as last known (the page's banner says so). */
  readonly blind = input(false);

  private readonly store = inject(DeviceStore);
  private readonly alerts = inject(AlertStore);
  private readonly rules = inject(AlertRulesService);
  private readonly clock = inject(ClockService);
  private readonly live = inject(LiveService);

  /** Every cell's state and text, recomputed when the store revises, each second, or on alerts. */
  private readonly cells = computed<HeatCells>(() => {
    this.store.revision();
    this.clock.now();
    const ids = this.deviceIds();
    const metric = this.metric();
    const staleMs = this.staleMs();
    const now = this.live.serverNow();
    const byDevice = metric ? null : this.alerts.byDevice();
    const rules = metric ? thresholdRulesFor(this.rules.rules(), metric) : [];
    const states: HeatState[] = new Array(ids.length);
    const values: string[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const device: HeatDevice = this.store.get(ids[i]) ?? unknownDevice(ids[i]);
      if (metric) {
        states[i] = metricState(device, metric, rules);
        const value = device.latest[metric];
        values[i] = value === undefined ? '' : formatValue(value);
      } else {
        states[i] = statusState(device, now, staleMs, byDevice?.get(ids[i])?.severity ?? null);
        values[i] = '';
      }
    }
    return { ids, states, values };
  });

  protected readonly counts = computed(() => {
    const { states } = this.cells();
    const counts = heatCounts(states);
    return {
      total: states.length,
      states: (this.metric() ? METRIC_STATES : STATUS_STATES).map((state) => ({
        state,
        count: counts[state],
        color: HEAT_COLORS[state],
        label: LABELS[state] ?? state,
      })),
    };
  });

  protected readonly ariaLabel = computed(() => {
    const c = this.counts();
    const parts = c.states.filter((s) => s.count > 0).map((s) => `${s.count} ${s.label}`);
    return `Heat map of ${c.total} devices: ${parts.join(', ')}`;
  });

  private readonly area = viewChild.required<ElementRef<HTMLElement>>('area');
  private readonly canvasEl = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');

  constructor() {
    this.rules.ensureLoaded();
    const scheduler = inject(FrameScheduler);
    const destroyRef = inject(DestroyRef);
    let canvas: HeatCanvas | null = null;
    effect(() => {
      const cells = this.cells();
      if (canvas?.setCells(cells)) scheduler.request();
    });
    afterNextRender(() => {
      const el = this.canvasEl().nativeElement;
      const area = this.area().nativeElement;
      canvas = new HeatCanvas(el, (id) => this.describe(id));
      canvas.setCells(this.cells());
      destroyRef.onDestroy(scheduler.register(canvas));
      if (typeof ResizeObserver !== 'undefined') {
        const observer = new ResizeObserver(() => {
          if (canvas?.resize(area.clientWidth, area.clientHeight)) scheduler.request();
        });
        observer.observe(area);
        destroyRef.onDestroy(() => observer.disconnect());
      }
      canvas.resize(area.clientWidth, area.clientHeight);
      scheduler.request();
      destroyRef.onDestroy(() => canvas?.detach());
    });
  }

  /** The hover title of a cell: what a person walking up to the screen asks about it. */
  private describe(id: string): string {
    const d = this.store.get(id);
    const i = this.cells().ids.indexOf(id);
    const state = i >= 0 ? this.cells().states[i] : 'unknown';
    const metric = this.metric();
    const parts = [d && d.name !== id ? `${d.name} (${id})` : id, state];
    if (d?.group) parts.push(d.group);
    if (metric) parts.push(`${metric} ${formatValue(d?.latest[metric])}${d?.units[metric] ?? ''}`);
    if (d?.lastHeard != null)
      parts.push(
        `heard ${Math.max(0, Math.round((this.live.serverNow() - d.lastHeard) / 1000))} s ago`,
      );
    return parts.join(' · ');
  }
}

function unknownDevice(deviceId: string): HeatDevice {
  return {
    deviceId,
    group: null,
    latest: {},
    status: 'unknown',
    lastHeard: null,
    cadenceMs: null,
    intervalMs: null,
  };
}
