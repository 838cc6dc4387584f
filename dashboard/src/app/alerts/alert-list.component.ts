import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { AlertEvent } from '@pulse/protocol/core';
import { isUnacknowledged } from '../core/stores/alert.store';
import { ClockService } from '../core/util/clock.service';
import { DeviceStore } from '../core/stores/device.store';
import { formatAge, formatClock, formatValue } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { AuthService } from '../core/auth/auth.service';
import { goToLogin } from '../auth/return-url';

interface Row {
  alert: AlertEvent;
  device: string;
  age: string;
  value: string;
  threshold: string;
  state: string;
  canAck: boolean;
  ackInfo: string;
}

/**
 * A list of alerts with an Acknowledge button on each open one (active list,
 * header drawer). Acknowledgements go through the live service; the server
 * takes who acknowledged from the session. Someone not signed in gets "Sign in
 * to acknowledge" (to /login and back), a viewer a disabled button saying why;
 * a refusal or a timeout is shown on the row it belongs to.
 */
@Component({
  selector: 'app-alert-list',
  imports: [RouterLink],
  template: `
    <ul class="alert-list" [class.compact]="compact()">
      @for (r of rows(); track r.alert.id) {
        <li
          class="alert-row sev-{{ r.alert.severity }}"
          [attr.data-alert-id]="r.alert.id"
          [attr.data-state]="r.alert.state"
          [attr.data-severity]="r.alert.severity"
          [attr.data-device-id]="r.alert.deviceId"
        >
          <span class="sev-pill sev-{{ r.alert.severity }}">{{ r.alert.severity }}</span>
          <div class="alert-main">
            <div class="alert-title">
              <a [routerLink]="['/devices', r.alert.deviceId]" class="alert-device">{{
                r.device
              }}</a>
              @if (r.alert.metric) {
                <span class="alert-metric">{{ r.alert.metric }}</span>
              }
              <span class="alert-state state-{{ r.alert.state }}" data-testid="alert-state">{{
                r.state
              }}</span>
              @if (r.alert.count > 1) {
                <span class="alert-count" title="raised this many times while open"
                  >×{{ r.alert.count }}</span
                >
              }
            </div>
            <div class="alert-message">{{ r.alert.message }}</div>
            <div class="alert-facts muted">
              value <b>{{ r.value }}</b> · threshold <b>{{ r.threshold }}</b> · raised
              <span [title]="r.alert.raisedAt">{{ r.age }}</span>
              @if (r.ackInfo) {
                · {{ r.ackInfo }}
              }
            </div>
            @if (errors()[r.alert.id]; as error) {
              <div class="alert-error" role="alert" data-testid="ack-error">{{ error }}</div>
            }
          </div>
          @if (r.canAck) {
            @if (auth.canAcknowledge()) {
              <button
                type="button"
                class="btn btn-ack"
                data-testid="ack"
                [disabled]="pending()[r.alert.id]"
                (click)="acknowledge(r.alert)"
                [attr.aria-label]="'Acknowledge ' + r.alert.message + ' on ' + r.device"
              >
                {{ pending()[r.alert.id] ? 'Acknowledging…' : 'Acknowledge' }}
              </button>
            } @else if (auth.user(); as user) {
              <!-- a disabled button gets no pointer events: the tooltip sits on its wrapper -->
              <span
                class="ack-disabled"
                [title]="'Signed in as ' + user.role + ': only operators and admins acknowledge'"
              >
                <button type="button" class="btn btn-ack" data-testid="ack" disabled>
                  Acknowledge
                </button>
              </span>
            } @else {
              <a
                class="btn btn-ack"
                data-testid="ack-sign-in"
                href="/login"
                (click)="signIn($event)"
                >Sign in to acknowledge</a
              >
            }
          }
        </li>
      } @empty {
        <li class="alert-empty muted">{{ emptyText() }}</li>
      }
    </ul>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertListComponent {
  readonly alerts = input.required<readonly AlertEvent[]>();
  readonly compact = input(false);
  /** Show the Acknowledge button (off for history rows). */
  readonly actions = input(true);
  readonly emptyText = input('No active alerts.');

  private readonly live = inject(LiveService);
  private readonly devices = inject(DeviceStore);
  private readonly clock = inject(ClockService);
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly pending = signal<Record<string, boolean>>({});
  protected readonly errors = signal<Record<string, string>>({});

  protected readonly rows = computed<Row[]>(() => {
    this.clock.now();
    this.devices.revision();
    const now = this.live.serverNow();
    const actions = this.actions();
    return this.alerts().map((alert) => ({
      alert,
      device: this.devices.get(alert.deviceId)?.name ?? alert.deviceId,
      age: formatAge(now - alert.raisedAt),
      value: formatValue(alert.value),
      threshold: formatValue(alert.threshold),
      state:
        alert.flapping && alert.state !== 'flapping' ? `${alert.state} · flapping` : alert.state,
      canAck: actions && alert.active && isUnacknowledged(alert),
      ackInfo:
        alert.acknowledgedAt !== null
          ? `acknowledged by ${alert.acknowledgedBy ?? '?'} at ${formatClock(alert.acknowledgedAt)}${alert.ackNote ? ` (“${alert.ackNote}”)` : ''}`
          : alert.clearedAt !== null
            ? `cleared at ${formatClock(alert.clearedAt)}`
            : '',
    }));
  });

  protected signIn(event: Event): void {
    goToLogin(this.router, event);
  }

  protected async acknowledge(alert: AlertEvent): Promise<void> {
    const id = alert.id;
    this.pending.update((p) => ({ ...p, [id]: true }));
    this.errors.update((e) => without(e, id));
    const outcome = await this.live.acknowledge(id);
    this.pending.update((p) => without(p, id));
    if (!outcome.ok)
      this.errors.update((e) => ({ ...e, [id]: `Not acknowledged: ${outcome.message}` }));
  }
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}
