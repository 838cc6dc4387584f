import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { AlertEvent } from '@pulse/protocol/core';
import { AlertRowComponent } from './alert-row.component';

/*
 * A short list of alerts drawn whole (the header drawer's few most severe). Long lists (the
 * alerts page, the history) are virtual in AlertsPage; this one must stay short.
 */
@Component({
  selector: 'app-alert-list',
  imports: [AlertRowComponent],
  template: `
    <div class="alert-list" role="list" [class.compact]="compact()">
      @for (alert of alerts(); track alert.id) {
        <app-alert-row role="listitem" [alert]="alert" [actions]="actions()" />
      } @empty {
        <p class="alert-empty muted">{{ emptyText() }}</p>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertListComponent {
  readonly alerts = input.required<readonly AlertEvent[]>();
  readonly compact = input(false);
  /** Show the Acknowledge button (off for history rows). */
  readonly actions = input(true);
  readonly emptyText = input('No active alerts.');
}
