import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { Router } from '@angular/router';
import { AccessApi, UserInfo } from '../core/auth/access-api';
import { adminRefusal } from '../core/auth/auth-api';
import { AuthService } from '../core/auth/auth.service';
import { OwnPasswordComponent } from './own-password.component';
import { PeopleComponent } from './people.component';
import { TokensComponent } from './tokens.component';

/*
 * `/access` (admins): the people who sign in (add, role, password, remove), API tokens (create,
 * shown once; list; revoke) and the admin's own password, in three sections. Owns the list of
 * people, read again after each change, which both the people table and the tokens' owner
 * select show; and leaving the page when the admin changed themselves out of it (demoted,
 * removed). Every write is checked by the gateway: these forms only shape the requests.
 */

@Component({
  selector: 'app-access-page',
  imports: [PeopleComponent, TokensComponent, OwnPasswordComponent],
  template: `
    <section class="access-page">
      <h1>Access</h1>
      <p class="access-hint">
        Who may sign in, with which role, and the API tokens scripts use. Roles: a viewer watches,
        an operator also acknowledges alerts, an admin also manages rules, screens, devices and this
        page.
      </p>
      <app-access-people
        [users]="users()"
        [me]="me()"
        [listError]="listError()"
        (changed)="changed($event)"
      />
      <app-access-tokens [users]="users()" [me]="me()" />
      <app-own-password [username]="me()" (changed)="ownPasswordChanged()" />
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AccessPage {
  private readonly api = inject(AccessApi);
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly me = computed(() => this.auth.user()?.username ?? '');
  protected readonly users = signal<UserInfo[]>([]);
  protected readonly listError = signal<string | null>(null);
  private readonly tokens = viewChild(TokensComponent);

  constructor() {
    void this.load();
  }

  /** A person was changed: the list again, and if it was the admin, who they are now. */
  protected async changed(username: string): Promise<void> {
    await this.load();
    if (username !== this.me()) return;
    await this.auth.refresh();
    // Demoted (another admin remains) or removed: this page is no longer theirs.
    if (this.auth.isAdmin()) return;
    await this.router.navigateByUrl(this.auth.user() ? '/' : '/login');
  }

  protected async ownPasswordChanged(): Promise<void> {
    await this.tokens()?.reload();
  }

  private async load(): Promise<void> {
    try {
      this.users.set(await this.api.users());
      this.listError.set(null);
    } catch (error) {
      this.listError.set(adminRefusal(error, 'manage people', 'read'));
    }
  }
}
