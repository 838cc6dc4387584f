import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  Injector,
  afterNextRender,
  computed,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';
import { AUTH_LIMITS, ROLES, type Role } from '@pulse/protocol/core';
import { AccessApi, UserInfo } from '../core/auth/access-api';
import { adminRefusal } from '../core/auth/auth-api';
import { ClockService } from '../core/util/clock.service';
import { formatAge, formatDateTime } from '../core/util/format';
import { ConfirmActionComponent } from '../shared/confirm-action.component';
import { FieldProblem, idList } from '../shared/field-problem';

/*
 * The Access page's people (admins): add a person (username, password, role), change a role
 * from the row's select, set someone's password, remove someone after a second click. Owns
 * these forms and which row is being confirmed; the list is the page's (`users`, read again
 * after each write it is told of by `changed`), and the gateway checks every write, the last
 * enabled admin included (its 409 is shown as it words it). A password typed here is sent once
 * and cleared; it is never shown or logged.
 */

const MIN_PASSWORD = AUTH_LIMITS.minPasswordLength;

@Component({
  selector: 'app-access-people',
  imports: [ConfirmActionComponent],
  template: `
    <section class="access-section" aria-labelledby="people-title" data-testid="people">
      <h2 id="people-title">People</h2>
      <form class="access-form" data-testid="person-form" (submit)="add($event)">
        <label
          >Username
          <input
            class="input"
            name="username"
            data-testid="person-username"
            autocomplete="off"
            spellcheck="false"
            [attr.aria-invalid]="addProblem()?.field === 'username' || null"
            [attr.aria-describedby]="addDescribedBy('username')"
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
            data-testid="person-password"
            autocomplete="new-password"
            [attr.aria-invalid]="addProblem()?.field === 'password' || null"
            [attr.aria-describedby]="addDescribedBy('password')"
            [maxLength]="maxPassword"
            [value]="password()"
            (input)="password.set($any($event.target).value)"
        /></label>
        <label
          >Role
          <select
            class="input"
            name="role"
            data-testid="person-role-new"
            (change)="role.set($any($event.target).value)"
          >
            @for (r of roles; track r) {
              <option [value]="r" [selected]="r === role()">{{ r }}</option>
            }
          </select>
        </label>
        <button
          type="submit"
          class="btn btn-primary"
          data-testid="person-add"
          [disabled]="busy() || addInvalid() !== null"
        >
          Add person
        </button>
      </form>
      @if (addProblem(); as problem) {
        <p class="access-hint" id="person-form-hint" data-testid="person-form-hint">
          {{ problem.text }}
        </p>
      }
      @if (settingPassword(); as who) {
        <form
          class="access-form"
          data-testid="person-password-form"
          (submit)="setPassword($event, who)"
        >
          <label
            >New password for {{ who }}
            <input
              #newPasswordBox
              class="input"
              name="new-password"
              type="password"
              data-testid="person-new-password"
              autocomplete="new-password"
              [attr.aria-describedby]="passwordDescribedBy()"
              [attr.aria-invalid]="newPasswordShort() || null"
              [maxLength]="maxPassword"
              [value]="newPassword()"
              (input)="newPassword.set($any($event.target).value)"
          /></label>
          <button
            type="submit"
            class="btn btn-primary"
            data-testid="person-password-save"
            [disabled]="busy() || newPassword().length < minPassword"
          >
            Set password
          </button>
          <button type="button" class="btn" data-testid="person-password-cancel" (click)="close()">
            Cancel
          </button>
          <p class="access-hint" id="person-password-hint">
            At least {{ minPassword }} characters. Signs {{ who }} out everywhere and revokes their
            API tokens.
          </p>
        </form>
      }
      @if (notice(); as notice) {
        <p class="access-hint" role="status" data-testid="people-notice">{{ notice }}</p>
      }
      @if (error() ?? listError(); as error) {
        <p class="auth-error" role="alert" id="people-error" data-testid="people-error">
          {{ error }}
        </p>
      }
      <!-- Its own scroll box: on a phone the table scrolls sideways, not the page. -->
      <div class="access-table-box" role="region" aria-label="People" tabindex="0">
        <table class="access-table" data-testid="people-table">
          <thead>
            <tr>
              <th>Username</th>
              <th>Role</th>
              <th>Created</th>
              <th>Last sign-in</th>
              <th aria-label="Actions"></th>
            </tr>
          </thead>
          <tbody>
            @for (u of users(); track u.username) {
              <tr class="person-row" [attr.data-username]="u.username" [attr.data-role]="u.role">
                <td>
                  <span class="access-name">{{ u.username }}</span>
                  @if (u.username === me()) {
                    <span class="access-tag" data-testid="person-you">you</span>
                  }
                  @if (u.disabled) {
                    <span class="access-tag" data-testid="person-disabled">disabled</span>
                  }
                </td>
                <td>
                  <select
                    class="input access-role"
                    data-testid="person-role"
                    [attr.aria-label]="'Role of ' + u.username"
                    [disabled]="busy()"
                    (change)="changeRole(u, $any($event.target))"
                  >
                    @for (r of roles; track r) {
                      <option [value]="r" [selected]="r === u.role">
                        {{ r }}
                      </option>
                    }
                  </select>
                </td>
                <td class="access-when">{{ created(u) }}</td>
                <td
                  class="access-when"
                  data-testid="person-last-sign-in"
                  [title]="u.lastSignInAt ? when(u.lastSignInAt) : 'Has not signed in'"
                >
                  {{ signedIn(u) }}
                </td>
                <td>
                  <div class="access-actions">
                    @if (u.username !== me() && confirming() !== u.username) {
                      <button
                        type="button"
                        class="btn"
                        data-testid="person-set-password"
                        (click)="openPassword(u.username)"
                      >
                        Set password…
                      </button>
                    }
                    <app-confirm-action
                      action="Remove"
                      progress="Removing…"
                      [question]="'Remove ' + u.username + '?'"
                      consequence="Their sessions and tokens end."
                      testId="person-remove"
                      [busy]="busy()"
                      [open]="confirming() === u.username"
                      (openChange)="askRemove(u.username, $event)"
                      (confirmed)="remove(u.username)"
                    />
                  </div>
                </td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PeopleComponent {
  private readonly api = inject(AccessApi);
  private readonly injector = inject(Injector);
  /** Everyone, as the gateway listed them last (the page reads them again after a change). */
  readonly users = input.required<readonly UserInfo[]>();
  /** The signed-in admin's username: their own password is changed under "Your password". */
  readonly me = input<string | null>(null);
  /** Why the list could not be read, if it could not. */
  readonly listError = input<string | null>(null);
  /** A person was added, changed or removed (their username): read the list again. */
  readonly changed = output<string>();

  protected readonly roles = ROLES;
  protected readonly minPassword = MIN_PASSWORD;
  protected readonly maxUsername = AUTH_LIMITS.maxUsernameLength;
  protected readonly maxPassword = AUTH_LIMITS.maxPasswordLength;
  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly role = signal<Role>('viewer');
  protected readonly addInvalid = computed<FieldProblem<'username' | 'password'> | null>(() => {
    if (!this.username().trim()) return { field: 'username', text: 'Choose a username.' };
    if (this.password().length < MIN_PASSWORD)
      return {
        field: 'password',
        text: `The password needs at least ${MIN_PASSWORD} characters.`,
      };
    return null;
  });
  /** What is wrong with the new person, shown (and named by its field) once a password is typed. */
  protected readonly addProblem = computed(() => (this.password() ? this.addInvalid() : null));
  /** Whose new password is being typed. */
  protected readonly settingPassword = signal<string | null>(null);
  protected readonly newPassword = signal('');
  /** Typed, but too short to be sent (the hint under it says how long). */
  protected readonly newPasswordShort = computed(
    () => this.newPassword().length > 0 && this.newPassword().length < MIN_PASSWORD,
  );
  /** Which form's write the gateway refused last (its words describe that form's fields). */
  private readonly refusedForm = signal<'add' | 'password' | null>(null);
  /** Whose removal awaits its second click. */
  protected readonly confirming = signal<string | null>(null);
  protected readonly busy = signal(false);
  private readonly clock = inject(ClockService);
  protected readonly notice = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  private readonly newPasswordBox = viewChild<ElementRef<HTMLInputElement>>('newPasswordBox');

  /** The add form's `field`: described by the hint when it is about it, and by a refusal of the add. */
  protected addDescribedBy(field: 'username' | 'password'): string | null {
    return idList(this.addProblem()?.field === field && 'person-form-hint', this.refusal('add'));
  }

  protected passwordDescribedBy(): string | null {
    return idList('person-password-hint', this.refusal('password'));
  }

  /** The error's id when the gateway refused `form`'s write and says why. */
  private refusal(form: 'add' | 'password'): string | null {
    return this.refusedForm() === form && this.error() ? 'people-error' : null;
  }

  protected created(user: UserInfo): string {
    return formatDateTime(user.createdAt);
  }

  protected when(ts: number): string {
    return formatDateTime(ts);
  }

  /** "2 d ago", "never": an account nobody signs in to any more stands out. */
  protected signedIn(user: UserInfo): string {
    const at = user.lastSignInAt;
    return at === undefined ? 'never' : formatAge(this.clock.now() - at);
  }

  /** POST the person; the form is emptied once they exist and kept as typed when refused. */
  protected async add(event: Event): Promise<void> {
    event.preventDefault();
    if (this.addInvalid()) return;
    const username = this.username().trim();
    const role = this.role();
    await this.run(
      username,
      `${username} added as ${role}.`,
      async () => {
        await this.api.createUser({ username, password: this.password(), role });
        this.username.set('');
        this.password.set('');
      },
      'add',
    );
  }

  /** PATCH the role picked in `select`; refused, the select shows the stored role again. */
  protected async changeRole(user: UserInfo, select: HTMLSelectElement): Promise<void> {
    const role = select.value as Role;
    const changed = await this.run(user.username, `${user.username} is now ${role}.`, () =>
      this.api.updateUser(user.username, { role }),
    );
    // Its options' bindings did not change (the list says what it said): set it back by hand.
    if (!changed) select.value = user.role;
  }

  protected openPassword(username: string): void {
    this.confirming.set(null);
    this.newPassword.set('');
    this.settingPassword.set(username);
    afterNextRender(() => this.newPasswordBox()?.nativeElement.focus(), {
      injector: this.injector,
    });
  }

  protected close(): void {
    this.settingPassword.set(null);
    this.newPassword.set('');
  }

  protected async setPassword(event: Event, username: string): Promise<void> {
    event.preventDefault();
    if (this.newPassword().length < MIN_PASSWORD) return;
    await this.run(
      username,
      `New password set for ${username}; their sessions and tokens were revoked.`,
      async () => {
        await this.api.updateUser(username, { password: this.newPassword() });
        this.close();
      },
      'password',
    );
  }

  /** The removal asked (the password form closes) or kept. */
  protected askRemove(username: string, open: boolean): void {
    if (open) this.close();
    this.confirming.set(open ? username : null);
  }

  protected async remove(username: string): Promise<void> {
    await this.run(username, `${username} removed.`, () => this.api.removeUser(username));
    this.confirming.set(null);
  }

  /** One write at a time; a refusal in words (the gateway's own, e.g. the last admin's 409). */
  private async run(
    username: string,
    done: string,
    write: () => Promise<unknown>,
    form: 'add' | 'password' | null = null,
  ): Promise<boolean> {
    if (this.busy()) return false;
    this.busy.set(true);
    this.error.set(null);
    this.notice.set(null);
    this.refusedForm.set(form);
    let ok = false;
    try {
      await write();
      this.notice.set(done);
      ok = true;
    } catch (error) {
      this.error.set(adminRefusal(error, 'manage people'));
    } finally {
      this.busy.set(false);
    }
    this.changed.emit(username);
    return ok;
  }
}
