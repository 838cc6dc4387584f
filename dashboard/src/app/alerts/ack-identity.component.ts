import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { goToLogin } from '../auth/return-url';

/*
 * The line above alert lists saying who acknowledgements are made as (the signed-in user: the
 * server takes `by` from the session). Reads AuthService only; it must not sign in or out.
 */
@Component({
  selector: 'app-ack-identity',
  template: `
    <span class="ack-identity" data-testid="ack-identity">
      @if (auth.user(); as user) {
        @if (auth.canAcknowledge()) {
          Acknowledging as <b>{{ user.username }}</b>
        } @else {
          Signed in as <b>{{ user.username }}</b> ({{ user.role }}): cannot acknowledge
        }
      } @else if (auth.enabled()) {
        <a href="/login" (click)="signIn($event)">Sign in to acknowledge</a>
      }
    </span>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AckIdentityComponent {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected signIn(event: Event): void {
    goToLogin(this.router, event);
  }
}
