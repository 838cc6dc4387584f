import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { loginQuery } from './return-url';

/*
 * The header's identity corner: who is signed in and as what, with "Sign out"; or a "Sign in"
 * link. Reads and calls AuthService; it must not hold auth state of its own.
 */
@Component({
  selector: 'app-user-menu',
  imports: [RouterLink],
  template: `
    @if (auth.user(); as user) {
      <span class="user-name" data-testid="user-name" [title]="user.username">{{
        user.username
      }}</span>
      <span class="user-role" data-testid="user-role">{{ user.role }}</span>
      <button
        type="button"
        class="btn btn-link"
        data-testid="sign-out"
        [disabled]="busy()"
        (click)="signOut()"
      >
        Sign out
      </button>
    } @else if (auth.loaded() && auth.enabled()) {
      <a
        class="btn btn-link"
        data-testid="sign-in"
        routerLink="/login"
        [queryParams]="loginQuery(router.url)"
        >Sign in</a
      >
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'user-menu' },
})
export class UserMenuComponent {
  protected readonly auth = inject(AuthService);
  protected readonly router = inject(Router);
  protected readonly busy = signal(false);
  protected readonly loginQuery = loginQuery;

  protected async signOut(): Promise<void> {
    this.busy.set(true);
    try {
      await this.auth.logout();
    } finally {
      this.busy.set(false);
    }
    // Pages that need a sign-in now go to /login; the others stay.
    if (!this.auth.canView()) await this.router.navigate(['/login']);
  }
}
