import { ChangeDetectionStrategy, Component, input, model } from '@angular/core';
import type { AlertSeverity } from '@pulse/protocol/core';
import { ALERT_SEVERITIES } from '@pulse/protocol/core';
import type { AckFilter, AlertCounts } from './alert-view';

/*
 * The alerts page's summary strip: how many active alerts of each severity have their condition
 * on (and, muted beside, how many of it cleared and wait for an acknowledgement: the severity
 * filter shows both), and how many are (not) acknowledged, always over the whole list, whatever
 * is filtered or scrolled. Each count is a toggle for the matching filter. Reads only its inputs;
 * the page owns the filters.
 */
@Component({
  selector: 'app-alert-strip',
  template: `
    <div class="alert-strip" role="group" aria-label="Active alerts by severity and state">
      @for (s of severities; track s) {
        <button
          type="button"
          class="alert-strip-item sev-{{ s }}"
          [class.on]="severity() === s"
          [class.zero]="!counts().severity[s] && !counts().cleared[s]"
          [class.cleared-only]="!counts().severity[s] && counts().cleared[s]"
          [attr.data-testid]="'strip-' + s"
          [attr.data-count]="counts().severity[s]"
          [attr.data-cleared]="counts().cleared[s]"
          [attr.aria-pressed]="severity() === s"
          (click)="severity.set(severity() === s ? '' : s)"
        >
          <b>{{ counts().severity[s] }}</b> {{ s }}
          @if (counts().cleared[s]; as n) {
            <small class="strip-cleared" [title]="n + ' cleared, not acknowledged yet'"
              >+{{ n }} cleared</small
            >
          }
        </button>
      }
      <span class="alert-strip-gap"></span>
      @for (a of acks; track a) {
        <button
          type="button"
          class="alert-strip-item ack-{{ a }}"
          [class.on]="ack() === a"
          [attr.data-testid]="'strip-' + a"
          [attr.data-count]="
            a === 'unacknowledged' ? counts().unacknowledged : counts().acknowledged
          "
          [attr.aria-pressed]="ack() === a"
          (click)="ack.set(ack() === a ? '' : a)"
        >
          <b>{{ a === 'unacknowledged' ? counts().unacknowledged : counts().acknowledged }}</b>
          {{ a === 'unacknowledged' ? 'not acknowledged' : 'acknowledged' }}
        </button>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertStripComponent {
  readonly counts = input.required<AlertCounts>();
  /** The severity filter (a click toggles it). */
  readonly severity = model<AlertSeverity | ''>('');
  /** The acknowledgement filter (a click toggles it). */
  readonly ack = model<AckFilter>('');
  protected readonly severities = ALERT_SEVERITIES;
  protected readonly acks = ['unacknowledged', 'acknowledged'] as const;
}
