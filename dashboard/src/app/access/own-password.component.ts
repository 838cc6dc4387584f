import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  input,
  output,
  signal,
} from '@angular/core';
import { AUTH_LIMITS } from '@pulse/protocol/core';
import { AccessApi } from '../core/auth/access-api';
import { AuthRequestError, adminRefusal } from '../core/auth/auth-api';
import { FieldProblem, idList } from '../shared/field-problem';

/*
 * "Your password" on the Access page: the signed-in person's own, the current one required and
 * the new one typed twice, checked to match (and to be long enough) before anything is sent.
 * Owns the three fields, emptied once the gateway took the change and kept when it refused;
 * the gateway checks the current password, counts wrong ones and revokes the person's other
 * sessions and tokens.
 */

const MIN_PASSWORD = AUTH_LIMITS.minPasswordLength;
type OwnField = 'current' | 'next' | 'repeat';

@Component({
  selector: 'app-own-password',
  template: `
    <section class="access-section" aria-labelledby="own-password-title" data-testid="own-password">
      <h2 id="own-password-title">Your password</h2>
      <form class="access-form" data-testid="own-password-form" (submit)="submit($event)">
        <!-- For the browser's password manager: whose password this is. -->
        <input type="hidden" name="username" autocomplete="username" [value]="username()" />
        <label
          >Current password
          <input
            class="input"
            name="current-password"
            type="password"
            data-testid="own-current"
            [attr.aria-invalid]="problem()?.field === 'current' || null"
            [attr.aria-describedby]="describedBy('current')"
            autocomplete="current-password"
            [maxLength]="maxPassword"
            [value]="current()"
            (input)="current.set($any($event.target).value)"
        /></label>
        <label
          >New password
          <input
            class="input"
            name="new-password"
            type="password"
            data-testid="own-new"
            [attr.aria-invalid]="problem()?.field === 'next' || null"
            [attr.aria-describedby]="describedBy('next')"
            autocomplete="new-password"
            [maxLength]="maxPassword"
            [value]="next()"
            (input)="next.set($any($event.target).value)"
        /></label>
        <label
          >Repeat the new password
          <input
            class="input"
            name="repeat-password"
            type="password"
            data-testid="own-repeat"
            [attr.aria-invalid]="problem()?.field === 'repeat' || null"
            [attr.aria-describedby]="describedBy('repeat')"
            autocomplete="new-password"
            [maxLength]="maxPassword"
            [value]="repeat()"
            (input)="repeat.set($any($event.target).value)"
        /></label>
        <button
          type="submit"
          class="btn btn-primary"
          data-testid="own-submit"
          [disabled]="busy() || invalid() !== null"
        >
          Change my password
        </button>
      </form>
      <p class="access-hint">
        Your other sessions and your API tokens are revoked; this browser stays signed in.
      </p>
      @if (notice(); as notice) {
        <p class="access-hint" role="status" data-testid="own-notice">{{ notice }}</p>
      }
      @if (problem(); as problem) {
        <p class="auth-error" role="alert" id="own-error" data-testid="own-error">
          {{ problem.text }}
        </p>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OwnPasswordComponent {
  private readonly api = inject(AccessApi);
  /** Whose password it is (for the browser's password manager). */
  readonly username = input('');
  /** The gateway took the new password (and revoked the person's other sessions and tokens). */
  readonly changed = output<void>();

  protected readonly maxPassword = AUTH_LIMITS.maxPasswordLength;
  protected readonly current = signal('');
  protected readonly next = signal('');
  protected readonly repeat = signal('');
  protected readonly busy = signal(false);
  protected readonly notice = signal<string | null>(null);
  private readonly error = signal<FieldProblem<OwnField | 'form'> | null>(null);
  /** Why the form cannot be sent yet. */
  protected readonly invalid = computed<FieldProblem<OwnField> | null>(() => {
    if (!this.current()) return { field: 'current', text: 'Enter your current password.' };
    if (this.next().length < MIN_PASSWORD)
      return {
        field: 'next',
        text: `The new password needs at least ${MIN_PASSWORD} characters.`,
      };
    if (this.next() !== this.repeat())
      return { field: 'repeat', text: 'The two new passwords differ.' };
    return null;
  });
  /** A refusal, or (once a new one is being typed) why it cannot be sent. */
  protected readonly problem = computed(
    () => this.error() ?? (this.next() || this.repeat() ? this.invalid() : null),
  );

  /** A field, described by the problem when it names it (a refusal of the whole form: each). */
  protected describedBy(field: OwnField): string | null {
    const about = this.problem()?.field;
    return idList((about === field || about === 'form') && 'own-error');
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy() || this.invalid()) return;
    this.busy.set(true);
    this.error.set(null);
    this.notice.set(null);
    try {
      await this.api.changePassword(this.current(), this.next());
      this.current.set('');
      this.next.set('');
      this.repeat.set('');
      this.notice.set('Password changed. Your other sessions and your API tokens were revoked.');
      this.changed.emit();
    } catch (error) {
      this.error.set(refusal(error));
    } finally {
      this.busy.set(false);
    }
  }
}

/** 403 here is the gateway's "wrong password", not "not allowed"; 429 its limit on guesses. */
function refusal(error: unknown): FieldProblem<OwnField | 'form'> {
  if (error instanceof AuthRequestError && error.status === 403)
    return { field: 'current', text: 'The current password is wrong.' };
  if (error instanceof AuthRequestError && error.status === 429)
    return {
      field: 'current',
      text: 'Too many wrong passwords: wait a few minutes and try again.',
    };
  return { field: 'form', text: adminRefusal(error, 'change your password') };
}
