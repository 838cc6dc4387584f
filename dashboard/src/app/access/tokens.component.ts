import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  Injector,
  afterNextRender,
  computed,
  effect,
  inject,
  input,
  linkedSignal,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import { AUTH_LIMITS } from '@pulse/protocol/core';
import { AccessApi, TokenInfo, TokenRequest, UserInfo } from '../core/auth/access-api';
import { adminRefusal } from '../core/auth/auth-api';
import { ClockService } from '../core/util/clock.service';
import { formatAge, formatDateTime, formatSpan } from '../core/util/format';
import { ConfirmActionComponent } from '../shared/confirm-action.component';
import { FieldProblem, idList } from '../shared/field-problem';

/*
 * The Access page's API tokens (admins): the live bearer tokens of a person (the admin's own
 * first; anyone's, to revoke one), revoked after a second click, and a new token for the admin
 * (a name, an expiry in days, a group scope). Owns the form, the list it shows and the new
 * token's secret, which the gateway sends once and keeps no copy of: it is shown once, in a
 * read-only field with a Copy button, and dropped from this component's state when dismissed
 * or when the page is left. Wall screens' display tokens are the Screens page's.
 */

const DAY_S = 86_400;
type TokenField = 'name' | 'days' | 'groups';
const MAX_DAYS = AUTH_LIMITS.maxTokenTtlSeconds / DAY_S;

/** A token just created: its secret, in memory until dismissed. */
interface NewToken {
  name: string;
  secret: string;
  expiresAt: number;
}

@Component({
  selector: 'app-access-tokens',
  imports: [RouterLink, ConfirmActionComponent],
  template: `
    <section class="access-section" aria-labelledby="tokens-title" data-testid="tokens">
      <h2 id="tokens-title">API tokens</h2>
      <p class="access-hint">
        A script sends a token as <code>Authorization: Bearer …</code>; it acts as the person it
        belongs to, within its groups if it has some. Wall screens' display tokens are managed on
        <a routerLink="/screens" data-testid="tokens-screens-link">Screens</a>.
      </p>
      <form class="access-form" data-testid="token-form" (submit)="create($event)">
        <label
          >Name (for you, {{ me() }})
          <input
            class="input"
            name="token-name"
            data-testid="token-name"
            autocomplete="off"
            [attr.aria-invalid]="problemField() === 'name' || null"
            [attr.aria-describedby]="describedBy('name')"
            placeholder="e.g. export script"
            [maxLength]="maxName"
            [value]="form().name"
            (input)="patch('name', $any($event.target).value)"
        /></label>
        <label
          >Expires after (days; empty: 1 hour)
          <input
            class="input"
            name="token-days"
            data-testid="token-days"
            autocomplete="off"
            [attr.aria-invalid]="problemField() === 'days' || null"
            [attr.aria-describedby]="describedBy('days')"
            inputmode="decimal"
            [placeholder]="'1 to ' + maxDays"
            [value]="form().days"
            (input)="patch('days', $any($event.target).value)"
        /></label>
        <label
          >Groups (comma-separated; empty: all)
          <input
            class="input"
            name="token-groups"
            data-testid="token-groups"
            autocomplete="off"
            [attr.aria-invalid]="problemField() === 'groups' || null"
            [attr.aria-describedby]="describedBy('groups')"
            placeholder="hall-a"
            [value]="form().groups"
            (input)="patch('groups', $any($event.target).value)"
        /></label>
        <button
          type="submit"
          class="btn btn-primary"
          data-testid="token-create"
          [disabled]="busy() || !form().name.trim()"
        >
          Create token
        </button>
      </form>
      @if (created(); as t) {
        <div class="access-secret" role="group" aria-labelledby="token-secret-label">
          <label id="token-secret-label" for="token-secret"
            >Token “{{ t.name }}”, valid until {{ when(t.expiresAt) }}. Copy it now: it will not be
            shown again.</label
          >
          <div class="access-secret-row">
            <input
              #secretBox
              id="token-secret"
              class="input"
              data-testid="token-secret"
              readonly
              autocomplete="off"
              spellcheck="false"
              [value]="t.secret"
              (focus)="$any($event.target).select()"
            />
            <button type="button" class="btn" data-testid="token-copy" (click)="copy(t.secret)">
              Copy
            </button>
            <button type="button" class="btn" data-testid="token-dismiss" (click)="dismiss()">
              Done
            </button>
          </div>
          @if (copied(); as copied) {
            <p class="access-hint" role="status" data-testid="token-copied">{{ copied }}</p>
          }
        </div>
      }
      @if (error(); as error) {
        <p class="auth-error" role="alert" id="tokens-error" data-testid="tokens-error">
          {{ error }}
        </p>
      }
      <label class="access-owner"
        >Live tokens of
        <select
          class="input"
          data-testid="token-owner"
          (change)="owner.set($any($event.target).value)"
        >
          @for (u of users(); track u.username) {
            <option [value]="u.username" [selected]="u.username === owner()">
              {{ u.username }}{{ u.username === me() ? ' (you)' : '' }}
            </option>
          }
        </select>
      </label>
      <!-- Its own scroll box: on a phone the table scrolls sideways, not the page. -->
      <div class="access-table-box" role="region" aria-label="API tokens" tabindex="0">
        <table class="access-table" data-testid="tokens-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Groups</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              <th aria-label="Actions"></th>
            </tr>
          </thead>
          <tbody>
            @for (t of tokens(); track t.id) {
              <tr class="token-row" [attr.data-token-name]="t.name" [attr.data-token-id]="t.id">
                <td>
                  <span class="access-name">{{ t.name }}</span>
                  @if (t.parentId) {
                    <span class="access-tag" title="Revoked with the token it was asked for with"
                      >made with a token</span
                    >
                  }
                </td>
                <td data-testid="token-scope">
                  {{ t.groups ? t.groups.join(', ') : 'all groups' }}
                </td>
                <td class="access-when">{{ when(t.createdAt) }}</td>
                <td data-testid="token-expires" [title]="when(t.expiresAt)">
                  in {{ left(t.expiresAt) }}
                </td>
                <td
                  data-testid="token-last-used"
                  [title]="t.lastUsedAt ? when(t.lastUsedAt) : 'Not used since it was made'"
                >
                  {{ lastUsed(t) }}
                </td>
                <td>
                  <div class="access-actions">
                    <app-confirm-action
                      action="Revoke"
                      progress="Revoking…"
                      [question]="'Revoke ' + t.name + '?'"
                      consequence="A script using it is refused at once."
                      testId="token-revoke"
                      [busy]="busy()"
                      [open]="confirming() === t.id"
                      (openChange)="confirming.set($event ? t.id : null)"
                      (confirmed)="revoke(t.id)"
                    />
                  </div>
                </td>
              </tr>
            }
          </tbody>
        </table>
        @if (!tokens().length) {
          <p class="access-empty" data-testid="tokens-empty">No live API tokens.</p>
        }
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class TokensComponent {
  private readonly api = inject(AccessApi);
  private readonly clock = inject(ClockService);
  private readonly injector = inject(Injector);
  /** Everyone, for the owner select. */
  readonly users = input.required<readonly UserInfo[]>();
  /** The signed-in admin: whose tokens show first, and who a new token is for. */
  readonly me = input.required<string>();

  protected readonly maxName = AUTH_LIMITS.maxTokenNameLength;
  protected readonly maxDays = MAX_DAYS;
  /** Whose tokens are listed: the admin's own unless another person is picked. */
  protected readonly owner = linkedSignal(() => this.me());
  protected readonly tokens = signal<TokenInfo[]>([]);
  protected readonly form = signal({ name: '', days: '', groups: '' });
  /** The secret of the token just created, until dismissed or the page is left. */
  protected readonly created = signal<NewToken | null>(null);
  protected readonly copied = signal<string | null>(null);
  /** Which token's revocation awaits its second click. */
  protected readonly confirming = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  /**
   * What the error is about: a field of the form (its check before sending), the whole form
   * (the gateway refused the token), or not the form (a revocation, the list).
   */
  private readonly errorAbout = signal<TokenField | 'form' | null>(null);
  /** The field the error names, marked invalid. */
  protected readonly problemField = computed(() => {
    const about = this.errorAbout();
    return this.error() && about !== 'form' ? about : null;
  });
  private readonly secretBox = viewChild<ElementRef<HTMLInputElement>>('secretBox');

  constructor() {
    // The list of whoever is picked, read again when another person is.
    effect(() => {
      const owner = this.owner();
      untracked(() => void this.load(owner));
    });
    // Leaving the page drops the secret with the rest of this component's state.
    inject(DestroyRef).onDestroy(() => this.created.set(null));
  }

  /** Read the listed person's tokens again (the admin's own password change revokes theirs). */
  async reload(): Promise<void> {
    await this.load(this.owner());
  }

  /** A field of the form: described by the error when it names it or the form was refused. */
  protected describedBy(field: TokenField): string | null {
    const about = this.errorAbout();
    return idList(this.error() !== null && (about === field || about === 'form') && 'tokens-error');
  }

  protected patch(key: TokenField, value: string): void {
    this.form.update((f) => ({ ...f, [key]: value }));
    this.recheck();
  }

  /**
   * A form refused before sending is checked again as it is typed in: once fixed, the field's
   * mark and the words go (kept until the next Create, they said a fixed value was wrong); still
   * wrong, they stay. A refusal of the gateway's is not: only sending can answer it.
   */
  private recheck(): void {
    const about = this.errorAbout();
    if (this.error() === null || about === null || about === 'form') return;
    const request = tokenRequest(this.form());
    this.error.set('field' in request ? request.text : null);
    this.errorAbout.set('field' in request ? request.field : null);
  }

  protected when(ts: number): string {
    return formatDateTime(ts);
  }

  protected left(expiresAt: number): string {
    return formatSpan(Math.max(0, expiresAt - this.clock.now()));
  }

  /**
   * "5 min ago", "never". The gateway writes a use at most once a minute (and once a minute for
   * a connection held open), so anything within two minutes is in use now: "just now".
   */
  protected lastUsed(token: TokenInfo): string {
    const at = token.lastUsedAt;
    if (at === undefined) return 'never';
    const age = this.clock.now() - at;
    return age < 2 * AUTH_LIMITS.lastUsedResolutionMs ? 'just now' : formatAge(age);
  }

  /** POST the token; its secret is shown once, and the form emptied. Refused: kept as typed. */
  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    const typed = this.form();
    const request = tokenRequest(typed);
    if ('field' in request) {
      this.error.set(request.text);
      this.errorAbout.set(request.field);
      return;
    }
    this.created.set(null);
    this.copied.set(null);
    await this.run('form', async () => {
      const token = await this.api.createToken(request);
      this.created.set({ name: request.name, secret: token.token, expiresAt: token.expiresAt });
      this.form.set({ name: '', days: '', groups: '' });
      this.owner.set(this.me());
      afterNextRender(() => this.secretBox()?.nativeElement.focus(), { injector: this.injector });
    });
  }

  protected async copy(secret: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(secret);
      this.copied.set('Copied.');
    } catch {
      // No clipboard here (plain HTTP on the network, or refused): the field is selected instead.
      this.secretBox()?.nativeElement.select();
      this.copied.set('The browser did not let Pulse copy it: it is selected, copy it yourself.');
    }
  }

  protected dismiss(): void {
    this.created.set(null);
    this.copied.set(null);
  }

  protected async revoke(id: string): Promise<void> {
    await this.run(null, () => this.api.revokeToken(id));
    this.confirming.set(null);
  }

  /** One write at a time, a refusal in words (about the form or not), then the list read again. */
  private async run(about: 'form' | null, write: () => Promise<unknown>): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    this.errorAbout.set(about);
    try {
      await write();
    } catch (error) {
      this.error.set(adminRefusal(error, 'manage API tokens'));
    } finally {
      this.busy.set(false);
    }
    await this.reload();
  }

  private async load(owner: string): Promise<void> {
    try {
      const tokens = await this.api.tokens(owner === this.me() ? undefined : owner);
      // Another person picked meanwhile: theirs come with the next answer.
      if (owner === this.owner()) this.tokens.set(tokens);
    } catch (error) {
      this.errorAbout.set(null);
      this.error.set(adminRefusal(error, 'manage API tokens', 'read'));
    }
  }
}

/** The form as a request, or what is wrong with it and in which field (nothing sent then). */
export function tokenRequest(
  form: Record<TokenField, string>,
): TokenRequest | FieldProblem<TokenField> {
  const request: TokenRequest = { name: form.name.trim() };
  const days = form.days.trim();
  if (days) {
    const n = Number(days.replace(',', '.'));
    if (!Number.isFinite(n) || n <= 0 || n > MAX_DAYS)
      return { field: 'days', text: `Expiry: a number of days from more than 0 to ${MAX_DAYS}.` };
    request.ttlSeconds = Math.max(1, Math.round(n * DAY_S));
  }
  const groups = form.groups
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  if (groups.length) request.groups = groups;
  return request;
}
