import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { goToLogin } from './return-url';

/*
 * The header's identity corner: who is signed in and as what, with "Sign out"; or a "Sign in"
 * link. Reads and calls AuthService; it must not hold auth state of its own.
 */
@Component({
  selector: 'app-user-menu',
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
      <a class="btn btn-link" data-testid="sign-in" href="/login" (click)="signIn($event)"
        >Sign in</a
      >
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'user-menu' },
})
export class UserMenuComponent {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly busy = signal(false);
  protected signIn(event: Event): void {
    goToLogin(this.router, event);
  }

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
