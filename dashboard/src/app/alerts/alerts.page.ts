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
import type { AlertEvent, AlertSeverity, AlertState } from '@pulse/protocol/core';
import { AlertStore } from '../core/stores/alert.store';
import { AlertsApi } from '../core/http/alerts-api';
import { DeviceStore } from '../core/stores/device.store';
import { LiveService } from '../core/live/live.service';
import { ALERT_SEVERITIES, ALERT_STATES, isValidId } from '@pulse/protocol/core';
import { AlertListComponent } from './alert-list.component';
import { AckIdentityComponent } from './ack-identity.component';

type Tab = 'active' | 'history';

/** Devices of active alerts watched (without history) so the list shows their names; a bound for huge storms. */
const NAMED_DEVICES = 200;

/** `/alerts`: the active list (live) and the history (HTTP, filtered by device, severity, state). */
@Component({
  selector: 'app-alerts-page',
  imports: [AlertListComponent, AckIdentityComponent],
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
          Active <span class="muted">{{ store.active().length }}</span>
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
      <select
        class="input"
        aria-label="Device"
        data-testid="filter-device"
        [value]="deviceFilter()"
        (change)="deviceFilter.set($any($event.target).value)"
      >
        <option value="">All devices</option>
        @for (d of deviceOptions(); track d) {
          <option [value]="d">{{ d }}</option>
        }
      </select>
      <select
        class="input"
        aria-label="Severity"
        data-testid="filter-severity"
        [value]="severity()"
        (change)="severity.set($any($event.target).value)"
      >
        <option value="">All severities</option>
        @for (s of severities; track s) {
          <option [value]="s">{{ s }}</option>
        }
      </select>
      @if (activeTab() === 'history') {
        <select
          class="input"
          aria-label="State"
          data-testid="filter-state"
          [value]="state()"
          (change)="state.set($any($event.target).value)"
        >
          <option value="">All states</option>
          @for (s of states; track s) {
            <option [value]="s">{{ s }}</option>
          }
        </select>
        <button type="button" class="btn" (click)="reload()">Reload</button>
      }
      <app-ack-identity />
    </section>
    @if (activeTab() === 'active') {
      <app-alert-list
        [alerts]="active()"
        [emptyText]="store.snapshots() ? 'No active alerts.' : 'Waiting for the gateway…'"
      />
    } @else {
      @if (historyError(); as error) {
        <p class="alert-error" role="alert">{{ error }}</p>
      }
      <app-alert-list
        data-testid="history"
        [alerts]="history()"
        [actions]="false"
        [emptyText]="loading() ? 'Loading…' : 'No events match the filters.'"
      />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertsPage {
  /** `?device=` (query parameter binding): preset device filter. */
  readonly device = input<string | undefined>(undefined);
  /** `?tab=history`. */
  readonly tab = input<string | undefined>(undefined);

  protected readonly store = inject(AlertStore);
  private readonly devices = inject(DeviceStore);
  private readonly api = inject(AlertsApi);
  protected readonly severities = ALERT_SEVERITIES;
  protected readonly states = ALERT_STATES;

  protected readonly activeTab = signal<Tab>('active');
  protected readonly deviceFilter = signal('');
  protected readonly severity = signal<AlertSeverity | ''>('');
  protected readonly state = signal<AlertState | ''>('');
  protected readonly history = signal<readonly AlertEvent[]>([]);
  protected readonly loading = signal(false);
  protected readonly historyError = signal<string | null>(null);
  private readonly reloads = signal(0);
  private request = 0;

  protected readonly deviceOptions = computed(() => {
    this.devices.revision();
    const ids = new Set(this.devices.all().map((d) => d.deviceId));
    for (const alert of this.store.active()) ids.add(alert.deviceId);
    const current = this.deviceFilter();
    if (current) ids.add(current);
    return [...ids].sort();
  });

  protected readonly active = computed(() => {
    const device = this.deviceFilter();
    const severity = this.severity();
    return this.store
      .active()
      .filter((a) => (!device || a.deviceId === device) && (!severity || a.severity === severity));
  });

  /** Ids of the devices on the active list (sorted, bounded), stable while the set is unchanged. */
  private readonly alertDevices = computed(
    () => [...new Set(this.store.active().map((a) => a.deviceId))].sort().slice(0, NAMED_DEVICES),
    { equal: (a, b) => a.length === b.length && a.every((id, i) => id === b[i]) },
  );

  constructor() {
    // The subscribe acknowledgement carries each device's meta (its display name), and
    // status changes follow; no history is asked for.
    const live = inject(LiveService);
    effect((onCleanup) => {
      const devices = this.alertDevices();
      if (!devices.length) return;
      const handle = untracked(() => live.watch({ devices, historyMs: 0, maxPoints: 1 }));
      onCleanup(() => handle.release());
    });
    effect(() => {
      const device = this.device();
      const tab = this.tab();
      untracked(() => {
        if (device && isValidId(device)) this.deviceFilter.set(device);
        if (tab === 'history') this.activeTab.set('history');
      });
    });
    // History: (re)load when the tab opens, a filter changes, or on Reload.
    effect(() => {
      if (this.activeTab() !== 'history') return;
      const filter = {
        deviceId: this.deviceFilter(),
        severity: this.severity(),
        state: this.state(),
        limit: 200,
      };
      this.reloads();
      untracked(() => void this.load(filter));
    });
  }

  protected reload(): void {
    this.reloads.update((n) => n + 1);
  }

  private async load(filter: Parameters<AlertsApi['history']>[0]): Promise<void> {
    const request = ++this.request;
    this.loading.set(true);
    try {
      const events = await this.api.history(filter);
      if (request !== this.request) return;
      this.history.set(events);
      this.historyError.set(null);
    } catch (error) {
      if (request !== this.request) return;
      this.historyError.set(
        `Could not load the history: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      if (request === this.request) this.loading.set(false);
    }
  }
}
