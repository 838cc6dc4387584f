import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { ClockService } from '../core/util/clock.service';
import { LiveService } from '../core/live/live.service';
import { summarizeConnection } from './connection-summary';

/** The connection indicator shown on every page. */
@Component({
  selector: 'app-connection-status',
  template: `
    <span
      class="conn"
      [class]="'conn conn-' + summary().level"
      [attr.data-phase]="live.connection().phase"
      [attr.data-transport]="live.connection().transport"
      [attr.data-attempt]="live.connection().attempt"
      [attr.data-kind]="summary().kind"
      role="status"
      aria-live="polite"
    >
      <span class="conn-dot" aria-hidden="true"></span>{{ summary().label }}
    </span>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConnectionStatusComponent {
  protected readonly live = inject(LiveService);
  private readonly clock = inject(ClockService);
  protected readonly summary = computed(() =>
    summarizeConnection(
      this.live.connection(),
      this.live.gateway(),
      this.clock.now(),
      this.live.throttleMs(),
    ),
  );
}
