import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { ListRange } from '@angular/cdk/collections';
import { CdkVirtualScrollViewport, ScrollingModule } from '@angular/cdk/scrolling';
import '../core/render/cdk-viewport-styles';
import type { AlertSeverity, AlertState } from '@pulse/protocol/core';
import { ALERT_SEVERITIES, ALERT_STATES } from '@pulse/protocol/core';
import { AlertStore } from '../core/stores/alert.store';
import { DeviceStore } from '../core/stores/device.store';
import { LiveService } from '../core/live/live.service';
import type { WatchHandle } from '../core/live/live-watches';
import { AckIdentityComponent } from './ack-identity.component';
import { AlertRowComponent } from './alert-row.component';
import { AlertStripComponent } from './alert-strip.component';
import { AlertHistoryComponent, HistoryFilter } from './alert-history.component';
import {
  ALERT_ROW_PHONE_PX,
  ALERT_ROW_PX,
  ALERT_SORTS,
  AckFilter,
  AlertListRow,
  AlertSort,
  countAlerts,
  filterAlerts,
  flatRows,
  ruleRows,
  sortAlerts,
} from './alert-view';
import { HistoryDevice, resolveHistoryDevice } from './history-device';
import { keepInQueryParams } from '../core/util/query-state';
import { injectMediaQuery, PHONE_MEDIA } from '../core/util/media-query';
import {
  ALERTS_DEFAULTS,
  AlertsParams,
  DEVICE_FILTER_MAX_CHARS,
  alertsQueryParams,
  parseAlertsParams,
} from './alerts-params';

/*
 * `/alerts`: the active alerts (live, from the AlertStore) and the history (HTTP). The active list
 * is a CDK virtual list of fixed-height rows, flat or one heading per rule, under a strip of counts
 * per severity and acknowledgement; filter and sort run over the whole list (alert-view.ts), the
 * DOM holds only the rows on screen. Owns the page's tab, filter, sort and grouping state, kept in
 * the URL (alerts-params.ts); rows and acknowledgements are AlertRowComponent's, the history
 * AlertHistoryComponent's.
 */

/**
 * Devices are watched (without history) so the rows show their names and the device filter
 * matches them: the devices of the rows on screen, then those of the rest of the active list the
 * browser has no record of yet (a filter hiding every row must still learn the names it matches:
 * a reload of `?device=Env`). At most this many in one watch (ids of up to 64 characters keep the
 * subscribe under the gateway's 64 KiB message); a list of more devices is named this many at a
 * time, as the records come in. The History tab's events' devices are named the same way, after
 * the active list's. Re-watched at most every {@link NAMES_EVERY_MS} (a scroll, or a
 * storm pushing new rows in at the top, must not send a subscribe per frame: the gateway allows
 * 20 events a second, and a subscribe plus an unsubscribe are two).
 */
export const NAMED_DEVICES = 500;
const NAMES_EVERY_MS = 500;
/** The pause after the last letter typed before the History tab reads the new text, ms. */
export const HISTORY_TYPING_MS = 300;

@Component({
  selector: 'app-alerts-page',
  imports: [
    ScrollingModule,
    AckIdentityComponent,
    AlertRowComponent,
    AlertStripComponent,
    AlertHistoryComponent,
  ],
  template: `
    <section class="toolbar alerts-toolbar">
      <h1 class="page-title">Alerts</h1>
      <div class="seg" role="tablist" aria-label="Alerts view">
        <button
          type="button"
          role="tab"
          data-testid="tab-active"
          [class.on]="activeTab() === 'active'"
          [attr.aria-selected]="activeTab() === 'active'"
          (click)="activeTab.set('active')"
        >
          Active <span class="muted" data-testid="active-total">{{ counts().total }}</span>
        </button>
        <button
          type="button"
          role="tab"
          data-testid="tab-history"
          [class.on]="activeTab() === 'history'"
          [attr.aria-selected]="activeTab() === 'history'"
          (click)="activeTab.set('history')"
        >
          History
        </button>
      </div>
      <app-ack-identity />
    </section>
    <app-alert-strip [counts]="counts()" [(severity)]="severity" [(ack)]="ack" />
    <section class="toolbar alerts-filters" aria-label="Filters">
      <input
        type="search"
        class="input"
        aria-label="Device"
        data-testid="filter-device"
        placeholder="Device name or id"
        [attr.maxlength]="deviceMaxChars"
        [value]="deviceFilter()"
        (input)="typed($any($event.target).value)"
      />
      <!-- Each option says whether it is chosen: with the URL's choice set before the options
           come, a select's [value] would be lost. -->
      <select
        class="input"
        aria-label="Severity"
        data-testid="filter-severity"
        (change)="severity.set($any($event.target).value)"
      >
        <option value="" [selected]="severity() === ''">All severities</option>
        @for (s of severities; track s) {
          <option [value]="s" [selected]="s === severity()">{{ s }}</option>
        }
      </select>
      <select
        class="input"
        aria-label="State"
        data-testid="filter-state"
        (change)="state.set($any($event.target).value)"
      >
        <option value="" [selected]="state() === ''">All states</option>
        @for (s of states; track s) {
          <option [value]="s" [selected]="s === state()">{{ s }}</option>
        }
      </select>
      @if (activeTab() === 'active') {
        <select
          class="input"
          aria-label="Sort by"
          data-testid="alert-sort"
          (change)="sort.set($any($event.target).value)"
        >
          @for (s of sorts; track s.value) {
            <option [value]="s.value" [selected]="s.value === sort()">Sort: {{ s.label }}</option>
          }
        </select>
        <label class="check"
          ><input
            type="checkbox"
            data-testid="group-by-rule"
            [checked]="groupByRule()"
            (change)="groupByRule.set($any($event.target).checked)"
          />
          Group by rule</label
        >
        <span class="muted count" data-testid="alert-shown"
          >{{ shown().length }} / {{ counts().total }} alerts</span
        >
      } @else {
        <button type="button" class="btn" data-testid="history-reload" (click)="reload()">
          Reload
        </button>
      }
    </section>
    @if (activeTab() === 'active') {
      <cdk-virtual-scroll-viewport
        scrollWindow
        class="alert-rows"
        role="list"
        aria-label="Active alerts"
        data-testid="active-list"
        [itemSize]="rowPx()"
      >
        <div
          *cdkVirtualFor="let row of rows(); trackBy: trackRow"
          class="alert-vrow"
          role="listitem"
        >
          @if (row.kind === 'rule') {
            <button
              type="button"
              class="alert-rule sev-{{ row.on ? row.severity : 'cleared' }}"
              data-testid="rule-heading"
              [attr.data-rule-id]="row.ruleId"
              [attr.data-count]="row.count"
              [attr.aria-expanded]="row.expanded"
              (click)="toggleRule(row.ruleId)"
            >
              <span class="alert-rule-caret" aria-hidden="true">{{
                row.expanded ? '▾' : '▸'
              }}</span>
              <span class="sev-pill sev-{{ row.on ? row.severity : 'cleared' }}">{{
                row.on ? row.severity : 'cleared'
              }}</span>
              <span class="alert-rule-name">{{ row.ruleName }}</span>
              <span class="alert-rule-count"
                >{{ row.count }} {{ row.count === 1 ? 'alert' : 'alerts' }}</span
              >
              <span class="muted">{{ row.unacknowledged }} not acknowledged</span>
            </button>
          } @else {
            <app-alert-row [alert]="row.alert" />
          }
        </div>
      </cdk-virtual-scroll-viewport>
      @if (!rows().length) {
        <p class="alert-empty muted">
          {{
            !store.snapshots()
              ? 'Waiting for the gateway…'
              : counts().total
                ? 'No active alert matches the filters.'
                : 'No active alerts.'
          }}
        </p>
      }
    } @else {
      @let target = historyDevice();
      @if (target.kind === 'one') {
        <p class="muted" data-testid="history-device">
          History of
          {{
            target.name && target.name !== target.deviceId
              ? target.name + ' (' + target.deviceId + ')'
              : 'device id ' + target.deviceId
          }}.
        </p>
      } @else if (target.kind === 'text') {
        <p class="muted" data-testid="history-device">
          History of the devices whose id or name contains “{{ target.text }}”.
        </p>
      }
      <app-alert-history [filter]="historyFilter()" [reloads]="reloads()" />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertsPage {
  protected readonly store = inject(AlertStore);
  private readonly devices = inject(DeviceStore);
  protected readonly severities = ALERT_SEVERITIES;
  protected readonly states = ALERT_STATES;
  protected readonly sorts = ALERT_SORTS;
  private readonly phone = injectMediaQuery(PHONE_MEDIA);
  /** The virtual list's one row height: the stylesheet's for this viewport. */
  protected readonly rowPx = computed(() => (this.phone() ? ALERT_ROW_PHONE_PX : ALERT_ROW_PX));
  protected readonly deviceMaxChars = DEVICE_FILTER_MAX_CHARS;

  // What the page shows, kept in the URL (alerts-params.ts): the URL's from the start, so the
  // history's first read is the URL's filters, not the unfiltered history first. `?device=` is
  // also the device page's alert badge link.
  protected readonly activeTab = signal<AlertsParams['tab']>(ALERTS_DEFAULTS.tab);
  protected readonly deviceFilter = signal(ALERTS_DEFAULTS.device);
  /**
   * The device filter as the History tab reads it: the URL's at once, typed text after a pause
   * (HISTORY_TYPING_MS), so each letter is not a read of the gateway's history and its budget.
   */
  protected readonly historyText = signal(ALERTS_DEFAULTS.device);
  private typing: ReturnType<typeof setTimeout> | null = null;
  protected readonly severity = signal<AlertSeverity | ''>(ALERTS_DEFAULTS.severity);
  protected readonly state = signal<AlertState | ''>(ALERTS_DEFAULTS.state);
  protected readonly ack = signal<AckFilter>(ALERTS_DEFAULTS.ack);
  protected readonly sort = signal<AlertSort>(ALERTS_DEFAULTS.sort);
  protected readonly groupByRule = signal(ALERTS_DEFAULTS.grouped);
  /** Rules whose alerts are shown under their heading (group by rule; `?open=`). */
  private readonly expanded = signal<ReadonlySet<string>>(new Set());
  protected readonly reloads = signal(0);

  protected readonly counts = computed(() => countAlerts(this.store.active()));

  /** The filtered, sorted active list (the whole of it, not just what is on screen). */
  protected readonly shown = computed(() => {
    this.devices.revision();
    const text = this.deviceFilter();
    const filtered = filterAlerts(
      this.store.active(),
      { severity: this.severity(), state: this.state(), ack: this.ack(), device: text },
      text ? (id) => this.devices.get(id)?.name : undefined,
    );
    return sortAlerts(filtered, this.sort());
  });

  protected readonly rows = computed<AlertListRow[]>(() =>
    this.groupByRule() ? ruleRows(this.shown(), this.expanded()) : flatRows(this.shown()),
  );
  protected readonly trackRow = (_: number, row: AlertListRow) => row.key;

  /**
   * What the History tab's line says it reads: the device the filter's text is the exact id of
   * (one the browser knows, named), else the devices the text matches (history-device.ts).
   */
  protected readonly historyDevice = computed<HistoryDevice>(() => {
    this.devices.members();
    return resolveHistoryDevice(this.historyText(), (id) => this.devices.get(id)?.name);
  });

  /**
   * The history's query: the filter's text as it is (`?device=`). The gateway, which knows every
   * device, reads a device's exact id as that device alone, any other text as part of an id or
   * a name (decision 0055): what the browser has loaded never changes the query.
   */
  protected readonly historyFilter = computed<HistoryFilter>(
    () => ({
      device: this.historyText().trim(),
      severity: this.severity(),
      state: this.state(),
    }),
    {
      equal: (a, b) => a.device === b.device && a.severity === b.severity && a.state === b.state,
    },
  );

  private readonly viewport = viewChild(CdkVirtualScrollViewport);
  private readonly history = viewChild(AlertHistoryComponent);
  /** The rows the viewport renders now (on screen plus CDK's buffer). */
  private readonly rendered = signal<ListRange>({ start: 0, end: 0 });
  /**
   * Ids of the devices to watch for names ({@link NAMED_DEVICES}): the rendered rows' (sorted),
   * then the active list's and the history's devices without a record; stable while the set is unchanged.
   */
  private readonly namedDevices = computed(
    () => {
      const { start, end } = this.rendered();
      const onScreen = new Set<string>();
      for (const row of this.rows().slice(start, end))
        if (row.kind === 'alert') onScreen.add(row.alert.deviceId);
      const ids = [...onScreen].sort().slice(0, NAMED_DEVICES);
      this.devices.members();
      const unnamed = new Set<string>();
      const deviceIds = [
        ...this.store.active().map((a) => a.deviceId),
        ...(this.history()?.deviceIds() ?? []),
      ];
      for (const id of deviceIds) {
        if (ids.length + unnamed.size >= NAMED_DEVICES) break;
        if (!onScreen.has(id) && !this.devices.get(id)) unnamed.add(id);
      }
      return [...ids, ...[...unnamed].sort()];
    },
    { equal: (a, b) => a.length === b.length && a.every((id, i) => id === b[i]) },
  );

  constructor() {
    keepInQueryParams<AlertsParams>({
      parse: parseAlertsParams,
      write: alertsQueryParams,
      read: () => ({
        tab: this.activeTab(),
        device: this.deviceFilter(),
        severity: this.severity(),
        state: this.state(),
        ack: this.ack(),
        sort: this.sort(),
        grouped: this.groupByRule(),
        open: [...this.expanded()],
      }),
      apply: (state) => {
        this.activeTab.set(state.tab);
        this.deviceFilter.set(state.device);
        this.historyText.set(state.device);
        this.severity.set(state.severity);
        this.state.set(state.state);
        this.ack.set(state.ack);
        this.sort.set(state.sort);
        this.groupByRule.set(state.grouped);
        this.expanded.set(new Set(state.open));
      },
    });
    // The subscribe acknowledgement carries each device's meta (its display name), and
    // status changes follow; no history is asked for.
    const live = inject(LiveService);
    effect((onCleanup) => {
      const subscription = this.viewport()?.renderedRangeStream.subscribe((range) =>
        this.rendered.set(range),
      );
      onCleanup(() => subscription?.unsubscribe());
    });
    // Throttled, not debounced: while a storm keeps changing the rows on screen, a debounce
    // would never fire. The timer takes the set current when it fires.
    let named: WatchHandle | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    effect(() => {
      this.namedDevices();
      timer ??= setTimeout(() => {
        timer = null;
        const devices = untracked(this.namedDevices);
        // The new watch first: devices on screen before and after stay subscribed.
        const next = devices.length ? live.watch({ devices, historyMs: 0, maxPoints: 1 }) : null;
        named?.release();
        named = next;
      }, NAMES_EVERY_MS);
    });
    inject(DestroyRef).onDestroy(() => {
      if (this.typing) clearTimeout(this.typing);
      if (timer) clearTimeout(timer);
      named?.release();
    });
  }

  /** A letter typed in the device filter: the Active tab filters at once, History after a pause. */
  protected typed(text: string): void {
    this.deviceFilter.set(text);
    if (this.typing) clearTimeout(this.typing);
    this.typing = setTimeout(() => {
      this.typing = null;
      this.historyText.set(text);
    }, HISTORY_TYPING_MS);
  }

  protected toggleRule(ruleId: string): void {
    this.expanded.update((set) => {
      const next = new Set(set);
      if (!next.delete(ruleId)) next.add(ruleId);
      return next;
    });
  }

  protected reload(): void {
    this.reloads.update((n) => n + 1);
  }
}
