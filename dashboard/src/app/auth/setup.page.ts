import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { AUTH_LIMITS } from '@pulse/protocol/core';
import { AuthService } from '../core/auth/auth.service';
import { CredentialFieldsComponent } from './credential-fields.component';
import { AuthRequestError } from '../core/auth/auth-api';

/*
 * `/setup`, the first run: create the admin account. Shows the setup-code field once the server
 * says a code is needed (403: the server is not bound to loopback and prints the code on its
 * console). Owns the form; creating the account is AuthService's.
 */

/** The server refuses shorter ones anyway; say so before sending. */
const MIN_PASSWORD = AUTH_LIMITS.minPasswordLength;

@Component({
  selector: 'app-setup-page',
  imports: [CredentialFieldsComponent],
  template: `
    <form class="auth-card" data-testid="setup-form" (submit)="submit($event)">
      <h1>Create the admin account</h1>
      <p class="muted" data-testid="setup-intro">
        Pulse has no account yet. The account you create here is the administrator. In the dashboard
        it acknowledges alerts, edits alert rules (Rules), pairs wall screens (Screens) and adds
        people and API tokens (Access); all of it is also in the HTTP API (the README's sections
        “Users, roles, sessions and tokens” and “Alerts”). This page works once.
      </p>
      <app-credential-fields
        testIdPrefix="setup"
        [newPassword]="true"
        [(username)]="username"
        [(password)]="password"
      />
      <label
        >Repeat the password
        <input
          class="input"
          name="confirm"
          type="password"
          data-testid="setup-confirm"
          autocomplete="new-password"
          required
          maxlength="256"
          [value]="confirm()"
          (input)="confirm.set($any($event.target).value)"
      /></label>
      @if (needsCode()) {
        <label
          >Setup code
          <input
            class="input"
            name="setupCode"
            data-testid="setup-code"
            autocomplete="one-time-code"
            required
            maxlength="64"
            [value]="code()"
            (input)="code.set($any($event.target).value)"
        /></label>
        <p class="muted" data-testid="setup-code-help">
          This server is reachable from the network, so creating the first account needs the
          one-time setup code. Pulse wrote it to the file <code>setup-code</code> in its data
          directory (<code>DATA_DIR</code>, <code>./data</code> by default) when it started; its
          console says where. Only someone who can read the server's files can read it.
        </p>
      }
      @if (problem(); as problem) {
        <p class="auth-error" role="alert" data-testid="setup-error">{{ problem }}</p>
      }
      <button
        type="submit"
        class="btn btn-primary"
        data-testid="setup-submit"
        [disabled]="busy() || invalid() !== null"
      >
        {{ busy() ? 'Creating…' : 'Create the admin account' }}
      </button>
    </form>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SetupPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly username = signal('admin');
  protected readonly password = signal('');
  protected readonly confirm = signal('');
  protected readonly code = signal('');
  protected readonly needsCode = signal(false);
  protected readonly busy = signal(false);
  private readonly error = signal<string | null>(null);
  /** Why the form cannot be sent yet, once the user has typed something. */
  protected readonly invalid = computed(() => {
    if (!this.username().trim()) return 'Choose a username.';
    if (this.password().length < MIN_PASSWORD)
      return `The password needs at least ${MIN_PASSWORD} characters.`;
    if (this.password() !== this.confirm()) return 'The two passwords differ.';
    if (this.needsCode() && !this.code().trim()) return 'Enter the setup code.';
    return null;
  });
  protected readonly problem = computed(
    () => this.error() ?? (this.password() || this.confirm() ? this.invalid() : null),
  );

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy() || this.invalid()) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.auth.setup(this.username().trim(), this.password(), this.code().trim());
      await this.router.navigateByUrl('/');
    } catch (error) {
      const status = error instanceof AuthRequestError ? error.status : 0;
      if (status === 403) this.needsCode.set(true);
      this.error.set(
        status === 403 && !this.code()
          ? 'This server needs the setup code (see below).'
          : error instanceof Error
            ? error.message
            : String(error),
      );
      if (status === 409) {
        await this.auth.refresh();
        await this.router.navigateByUrl('/login');
      }
    } finally {
      this.busy.set(false);
    }
  }
}
