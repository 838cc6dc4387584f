import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { AlertStore, DeviceAlertSummary } from '../core/stores/alert.store';

/**
 * A device's alerts (overview tile, device header): the highest severity and count of those whose
 * condition is on; when every one has cleared and waits for an acknowledgement, a muted "cleared"
 * pill instead (no severity colour); nothing when it has none.
 */
@Component({
  selector: 'app-alert-badge',
  template: `
    @if (summary(); as s) {
      <span
        class="sev-pill sev-{{ s.severity ?? 'cleared' }}"
        [class.acked]="s.severity !== null && s.unacknowledged === 0"
        [class.big]="big()"
        data-testid="alert-badge"
        [attr.data-severity]="s.severity"
        [attr.data-count]="s.count"
        [attr.data-cleared]="s.cleared"
        [title]="title()"
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
  protected readonly title = computed(() => badgeTitle(this.summary()));
}

/**
 * What a device's badge says ("major", "critical ×3"; "cleared", "cleared ×2" when none is on), or
 * null when it shows none.
 */
export function badgeLabel(
  summary: Pick<DeviceAlertSummary, 'severity' | 'count' | 'cleared'> | null,
): string | null {
  if (!summary) return null;
  if (summary.severity === null)
    return summary.cleared > 1 ? `cleared ×${summary.cleared}` : 'cleared';
  return summary.count > 1 ? `${summary.severity} ×${summary.count}` : summary.severity;
}

/** The badge's title: "2 active alerts, 1 not acknowledged; 1 cleared, not acknowledged yet". */
export function badgeTitle(summary: DeviceAlertSummary | null): string {
  if (!summary) return '';
  const cleared = summary.cleared ? `${summary.cleared} cleared, not acknowledged yet` : '';
  if (summary.severity === null) return cleared;
  const on = `${summary.count} ${summary.count === 1 ? 'active alert' : 'active alerts'}, ${summary.unacknowledged} not acknowledged`;
  return cleared ? `${on}; ${cleared}` : on;
}
