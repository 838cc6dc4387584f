import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { OperatorService } from '../core/stores/operator.service';

/** "Acknowledge as [name]" — remembered in this browser. */
@Component({
  selector: 'app-operator-name',
  template: `
    <label class="operator">
      Acknowledge as
      <input
        class="input"
        data-testid="operator-name"
        [value]="operator.name()"
        maxlength="64"
        (change)="operator.set($any($event.target).value)"
        aria-label="Acknowledge as"
      />
    </label>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OperatorNameComponent {
  protected readonly operator = inject(OperatorService);
}
