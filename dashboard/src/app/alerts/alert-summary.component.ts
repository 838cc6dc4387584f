import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import { AlertStore } from '../core/stores/alert.store';
import { LiveService } from '../core/live/live.service';
import { ALERT_SEVERITIES } from '@pulse/protocol/core';
import { AlertListComponent } from './alert-list.component';
import { AckIdentityComponent } from './ack-identity.component';

/** Alerts shown in the header drawer; the rest are a click away on `/alerts`. */
const DRAWER_ALERTS = 8;

/**
 * Header: a coloured pill per severity counting the alerts whose condition is on, and apart a
 * muted one ("✓ 2") for those that cleared and wait for an acknowledgement, so a screen whose
 * devices are all fine again shows no severity colour; a click opens a drawer with the first
 * alerts of the list (on ones first, most severe first), the cleared ones among them to
 * acknowledge. `data-total`: the whole list (the drawer's "All alerts (N)"); `data-on`: the
 * alerts whose condition is on.
 */
@Component({
  selector: 'app-alert-summary',
  imports: [RouterLink, AlertListComponent, AckIdentityComponent],
  template: `
    <button
      type="button"
      class="alert-summary"
      data-testid="alert-summary"
      [attr.aria-expanded]="open()"
      [attr.aria-label]="spoken()"
      [attr.data-total]="store.active().length"
      [attr.data-on]="onTotal()"
      (click)="open.set(!open())"
    >
      <span class="alert-summary-label">Alerts</span>
      @for (b of badges(); track b.severity) {
        <span
          class="sev-pill sev-{{ b.severity }}"
          [attr.data-severity]="b.severity"
          [title]="b.count + ' ' + b.severity"
          >{{ b.count }}</span
        >
      }
      @if (store.toAcknowledge(); as n) {
        <span
          class="sev-pill sev-cleared"
          data-testid="to-acknowledge"
          [attr.data-count]="n"
          [title]="n + ' cleared, not acknowledged yet'"
          >✓ {{ n }}</span
        >
      } @else if (!badges().length) {
        <span class="sev-none">0</span>
      }
    </button>
    @if (open()) {
      <div class="alert-drawer" role="dialog" aria-label="Active alerts" data-testid="alert-drawer">
        <div class="alert-drawer-head">
          <app-ack-identity />
          <a routerLink="/alerts" (click)="open.set(false)"
            >All alerts ({{ store.active().length }}) →</a
          >
        </div>
        <app-alert-list [alerts]="top()" [compact]="true" />
      </div>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'alert-summary-host', '(document:keydown.escape)': 'open.set(false)' },
})
export class AlertSummaryComponent {
  protected readonly store = inject(AlertStore);
  protected readonly open = signal(false);
  protected readonly badges = computed(() => {
    const counts = this.store.counts();
    return ALERT_SEVERITIES.filter((s) => counts[s] > 0).map((severity) => ({
      severity,
      count: counts[severity],
    }));
  });
  protected readonly onTotal = computed(
    () => this.store.active().length - this.store.toAcknowledge(),
  );
  /**
   * The button's name for a screen reader: the pills' numbers and a check mark say nothing
   * read aloud ("Alerts 1 check mark 1"); "Alerts: 1 warning, 1 cleared, to acknowledge" does.
   */
  protected readonly spoken = computed(() => {
    const parts = this.badges().map((b) => `${b.count} ${b.severity}`);
    const toAck = this.store.toAcknowledge();
    if (toAck) parts.push(`${toAck} cleared, to acknowledge`);
    return `Alerts: ${parts.length ? parts.join(', ') : 'none'}`;
  });
  protected readonly top = computed(() => this.store.active().slice(0, DRAWER_ALERTS));
  /** The devices of the drawer's rows, the same array while they are the same. */
  private readonly topDevices = computed(
    () => (this.open() ? [...new Set(this.top().map((a) => a.deviceId))].sort() : []),
    { equal: (a, b) => a.length === b.length && a.every((id, i) => id === b[i]) },
  );

  constructor() {
    // Names for the drawer's rows: no page holds every device's record (the overview holds the
    // page of the fleet on screen), so the drawer watches its few devices while it is open.
    const live = inject(LiveService);
    effect((onCleanup) => {
      const devices = this.topDevices();
      if (!devices.length) return;
      const named = live.watch({ devices, historyMs: 0, maxPoints: 1 });
      onCleanup(() => named.release());
    });
  }
}
