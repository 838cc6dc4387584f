import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { loginQuery } from '../auth/return-url';

/*
 * The line above alert lists saying who acknowledgements are made as (the signed-in user: the
 * server takes `by` from the session). Reads AuthService only; it must not sign in or out.
 */
@Component({
  selector: 'app-ack-identity',
  imports: [RouterLink],
  template: `
    <span class="ack-identity" data-testid="ack-identity">
      @if (auth.user(); as user) {
        @if (auth.canAcknowledge()) {
          Acknowledging as <b>{{ user.username }}</b>
        } @else {
          Signed in as <b>{{ user.username }}</b> ({{ user.role }}): cannot acknowledge
        }
      } @else if (auth.enabled()) {
        <a routerLink="/login" [queryParams]="loginQuery(router.url)">Sign in to acknowledge</a>
      }
    </span>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AckIdentityComponent {
  protected readonly auth = inject(AuthService);
  protected readonly router = inject(Router);
  protected readonly loginQuery = loginQuery;
}
