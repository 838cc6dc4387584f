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
        >{{ label() }}</span
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
  protected readonly label = computed(() => badgeLabel(this.summary()));
}

/** What a device's badge says ("major", "critical ×3"), or null when it shows none. */
export function badgeLabel(summary: { severity: string; count: number } | null): string | null {
  if (!summary) return null;
  return summary.count > 1 ? `${summary.severity} ×${summary.count}` : summary.severity;
}
