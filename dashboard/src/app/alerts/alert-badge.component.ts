import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { AlertStore } from '../core/stores/alert.store';

/** A device's highest active severity and alert count (overview tile, device header); nothing when it has none. */
@Component({
  selector: 'app-alert-badge',
  template: `
    @if (summary(); as s) {
      <span
        class="sev-pill sev-{{ s.severity }}"
        [class.acked]="s.unacknowledged === 0"
        [class.big]="big()"
        data-testid="alert-badge"
        [attr.data-severity]="s.severity"
        [attr.data-count]="s.count"
        [title]="
          s.count +
          (s.count === 1 ? ' active alert' : ' active alerts') +
          ', ' +
          s.unacknowledged +
          ' not acknowledged'
        "
        >{{ s.severity }}{{ s.count > 1 ? ' ×' + s.count : '' }}</span
      >
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertBadgeComponent {
  readonly deviceId = input.required<string>();
  readonly big = input(false);
  private readonly store = inject(AlertStore);
  protected readonly summary = computed(() => this.store.byDevice().get(this.deviceId()) ?? null);
}
