import { ChangeDetectionStrategy, Component, input, model } from '@angular/core';
import { AUTH_LIMITS } from '@pulse/protocol/core';

/*
 * The username and password fields the sign-in and first-run forms share, two-way bound to
 * their page's signals. Owns the markup and the browser hints (autocomplete, lengths); it must
 * not validate beyond those nor send anything (the pages do).
 */
@Component({
  selector: 'app-credential-fields',
  template: `
    <label
      >Username
      <input
        class="input"
        name="username"
        [attr.data-testid]="testIdPrefix() + '-username'"
        autocomplete="username"
        required
        [maxLength]="maxUsername"
        [value]="username()"
        (input)="username.set($any($event.target).value)"
    /></label>
    <label
      >Password
      <input
        class="input"
        name="password"
        type="password"
        [attr.data-testid]="testIdPrefix() + '-password'"
        [attr.autocomplete]="newPassword() ? 'new-password' : 'current-password'"
        required
        [maxLength]="maxPassword"
        [value]="password()"
        (input)="password.set($any($event.target).value)"
    /></label>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'credential-fields' },
})
export class CredentialFieldsComponent {
  readonly username = model.required<string>();
  readonly password = model.required<string>();
  /** `login` or `setup`: the fields' test ids. */
  readonly testIdPrefix = input.required<string>();
  /** A password being chosen (first run), not one being recalled. */
  readonly newPassword = input(false);
  protected readonly maxUsername = AUTH_LIMITS.maxUsernameLength;
  protected readonly maxPassword = AUTH_LIMITS.maxPasswordLength;
}
