import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';
import { AuthRequestError } from '../core/auth/auth-api';
import { AuthService } from '../core/auth/auth.service';
import { CredentialFieldsComponent } from './credential-fields.component';
import { safeReturnUrl } from './return-url';

/*
 * `/login`: username and password, then back to where the user came from (`returnUrl`). Owns
 * the form and its messages; signing in itself is AuthService's.
 */
@Component({
  selector: 'app-login-page',
  imports: [CredentialFieldsComponent],
  template: `
    <form class="auth-card" data-testid="login-form" (submit)="submit($event)">
      <h1>Sign in to Pulse</h1>
      <app-credential-fields testIdPrefix="login" [(username)]="username" [(password)]="password" />
      @if (error(); as error) {
        <p class="auth-error" role="alert" data-testid="login-error">{{ error }}</p>
      }
      <button
        type="submit"
        class="btn btn-primary"
        data-testid="login-submit"
        [disabled]="busy() || !username() || !password()"
      >
        {{ busy() ? 'Signing in…' : 'Sign in' }}
      </button>
    </form>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  /**
   * Aborted when the person leaves the page: a busy sign-in's retries stop, and one that still
   * succeeds (already sent) does not take them from where they went to the return URL.
   */
  private readonly left = new AbortController();

  constructor() {
    inject(DestroyRef).onDestroy(() => this.left.abort());
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.auth.login(this.username().trim(), this.password(), this.left.signal);
      if (this.left.signal.aborted) return;
      const back = safeReturnUrl(this.route.snapshot.queryParamMap.get('returnUrl'));
      await this.router.navigateByUrl(back);
    } catch (error) {
      if (this.left.signal.aborted) return;
      this.error.set(error instanceof Error ? error.message : String(error));
      // A busy or unreachable server never checked the password: it stays for the next try.
      const unchecked =
        error instanceof AuthRequestError && (error.status === 503 || error.status === 0);
      if (!unchecked) this.password.set('');
    } finally {
      this.busy.set(false);
    }
  }
}
