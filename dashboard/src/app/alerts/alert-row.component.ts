import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { AlertEvent } from '@pulse/protocol/core';
import { isConditionOn } from '@pulse/protocol/core';
import { isUnacknowledged } from '../core/stores/alert.store';
import { ClockService } from '../core/util/clock.service';
import { DeviceStore } from '../core/stores/device.store';
import { formatAge, formatClock, formatSpan, formatValue } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { AuthService } from '../core/auth/auth.service';
import { goToLogin } from '../auth/return-url';
import { AlertAcks } from './alert-acks';

/*
 * One alert as a row of two lines (severity, device, metric, state, count; then message, value,
 * threshold, age, who acknowledged), with an Acknowledge button on an open one. Formats only its
 * own alert, so a virtual list formats only the rows on screen. Someone not signed in gets "Sign
 * in to acknowledge" (to /login and back), a viewer a disabled button saying why; a refusal is
 * shown on the row. Acknowledgement state is AlertAcks' (rows are recycled while scrolling).
 */
@Component({
  selector: 'app-alert-row',
  imports: [RouterLink],
  template: `
    @let a = alert();
    <div
      class="alert-row sev-{{ a.severity }}"
      [class.cleared]="cleared()"
      [attr.data-alert-id]="a.id"
      [attr.data-state]="a.state"
      [attr.data-severity]="a.severity"
      [attr.data-device-id]="a.deviceId"
      [attr.data-rule-id]="a.ruleId"
    >
      <span class="sev-pill sev-{{ a.severity }}" [class.sev-cleared]="cleared()">{{
        a.severity
      }}</span>
      <div class="alert-main">
        <div class="alert-title">
          <a [routerLink]="['/devices', a.deviceId]" class="alert-device">{{ device() }}</a>
          @if (a.metric) {
            <span class="alert-metric">{{ a.metric }}</span>
          }
          <span class="alert-state state-{{ a.state }}" data-testid="alert-state">{{
            state()
          }}</span>
          @if (a.count > 1) {
            <span class="alert-count" title="raised this many times while open"
              >×{{ a.count }}</span
            >
          }
        </div>
        <div class="alert-line">
          @if (acks.errors()[a.id]; as error) {
            <span class="alert-error" role="alert" data-testid="ack-error">{{ error }}</span>
          }
          <span class="alert-message">{{ a.message }}</span>
          <span class="alert-facts muted">
            @if (figures(); as f) {
              · {{ f.valueLabel }} <b>{{ f.value }}</b> · threshold <b>{{ f.threshold }}</b>
            }
            · raised
            <span [title]="a.raisedAt">{{ age() }}</span>
            @if (ackInfo()) {
              · {{ ackInfo() }}
            }
          </span>
        </div>
      </div>
      @if (canAck()) {
        @if (auth.canAcknowledge()) {
          <button
            type="button"
            class="btn btn-ack"
            data-testid="ack"
            [disabled]="acks.pending()[a.id]"
            (click)="acks.acknowledge(a)"
            [attr.aria-label]="'Acknowledge ' + a.message + ' on ' + device()"
          >
            {{ acks.pending()[a.id] ? 'Acknowledging…' : 'Acknowledge' }}
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
          <a class="btn btn-ack" data-testid="ack-sign-in" href="/login" (click)="signIn($event)"
            >Sign in to acknowledge</a
          >
        }
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertRowComponent {
  readonly alert = input.required<AlertEvent>();
  /** Show the Acknowledge button (off for history rows). */
  readonly actions = input(true);

  private readonly live = inject(LiveService);
  private readonly devices = inject(DeviceStore);
  private readonly clock = inject(ClockService);
  private readonly router = inject(Router);
  protected readonly auth = inject(AuthService);
  protected readonly acks = inject(AlertAcks);

  protected readonly device = computed(() => {
    this.devices.revision();
    const id = this.alert().deviceId;
    return this.devices.get(id)?.name ?? id;
  });
  protected readonly age = computed(() => {
    this.clock.now();
    return formatAge(this.live.serverNow() - this.alert().raisedAt);
  });
  /**
   * The value and threshold as the alert's rule kind means them (AlertEvent.kind): a no-data
   * alert's are the silence and its limit in ms, shown as durations. Null when it has neither
   * (an offline alert): no "value – · threshold –".
   */
  protected readonly figures = computed(() => {
    const a = this.alert();
    if (a.value === null && a.threshold === null) return null;
    if (a.kind === 'nodata')
      return {
        valueLabel: 'silent for',
        value: a.value === null ? '–' : formatSpan(a.value),
        threshold: a.threshold === null ? '–' : formatSpan(a.threshold),
      };
    return {
      valueLabel: 'value',
      value: formatValue(a.value),
      threshold: formatValue(a.threshold),
    };
  });
  /** Its condition cleared (it waits for an acknowledgement): shown without its severity's colour. */
  protected readonly cleared = computed(() => !isConditionOn(this.alert()));
  protected readonly state = computed(() => {
    const a = this.alert();
    return a.flapping && a.state !== 'flapping' ? `${a.state} · flapping` : a.state;
  });
  protected readonly canAck = computed(
    () => this.actions() && this.alert().active && isUnacknowledged(this.alert()),
  );
  protected readonly ackInfo = computed(() => {
    const a = this.alert();
    if (a.acknowledgedAt !== null)
      return `acknowledged by ${a.acknowledgedBy ?? '?'} at ${formatClock(a.acknowledgedAt)}${a.ackNote ? ` (“${a.ackNote}”)` : ''}`;
    return a.clearedAt !== null ? `cleared at ${formatClock(a.clearedAt)}` : '';
  });

  protected signIn(event: Event): void {
    goToLogin(this.router, event);
  }
}
