import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  afterNextRender,
  computed,
  inject,
  signal,
} from '@angular/core';
import { adminRefusal } from '../core/auth/auth-api';
import { ScreenForm, ScreenInfo, ScreensApi } from '../core/auth/screens-api';
import { ClockService } from '../core/util/clock.service';
import { formatDuration } from '../core/util/format';
import { ConfirmActionComponent } from '../shared/confirm-action.component';

/*
 * `/screens` (admins): pair a wall by the code it shows, with a name, its board (the wall's URL
 * parameters, e.g. `group=hall-a&cols=3`) and a group scope; the list of paired screens with
 * presence (connected, transport, last seen, lag events); edit, and revoke after a second click.
 * Owns the form, the list's refresh and which row's revocation is being confirmed; the calls are
 * ScreensApi's and the server checks every one of them.
 */

const REFRESH_MS = 3_000;

/** The form as typed: groups as comma-separated text. */
type FormState = Record<keyof ScreenForm, string>;
const EMPTY: FormState = { code: '', name: '', board: '', groups: '' };
interface Field {
  key: keyof ScreenForm;
  label: string;
  placeholder: string;
}
const FIELDS: readonly Field[] = [
  { key: 'code', label: 'Code shown on the wall', placeholder: 'e.g. K7MP2X' },
  { key: 'name', label: 'Name', placeholder: 'Hall A, north wall' },
  { key: 'board', label: 'Board (wall parameters)', placeholder: 'group=hall-a&cols=3' },
  { key: 'groups', label: 'Groups (comma-separated; empty = all)', placeholder: 'hall-a' },
];

@Component({
  selector: 'app-screens-page',
  imports: [ConfirmActionComponent],
  template: `
    <section class="screens-page">
      <h1>Screens</h1>
      <p class="screens-hint">
        Open <code>/wall</code> on the screen: it shows a code. Enter it here with a board (the
        wall's URL parameters, e.g. <code>group=hall-a&amp;cols=3&amp;rotate=30</code>) and the
        groups it may show. Revoking disconnects it at once; it then shows a new code.
      </p>
      <form class="screens-form" data-testid="screen-form" (submit)="submit($event)">
        @if (editing()) {
          <p>
            Editing <b>{{ form().name }}</b>
          </p>
        }
        @for (field of fields(); track field.key) {
          <label
            >{{ field.label }}
            <input
              class="input"
              autocomplete="off"
              [name]="field.key"
              [attr.data-testid]="'screen-' + field.key"
              [placeholder]="field.placeholder"
              [value]="form()[field.key]"
              (input)="patch(field.key, $any($event.target).value)"
          /></label>
        }
        <button
          type="submit"
          class="btn btn-primary"
          data-testid="screen-submit"
          [disabled]="busy() || !form().name.trim() || (!editing() && !form().code.trim())"
        >
          {{ editing() ? 'Save' : 'Pair screen' }}
        </button>
        @if (editing()) {
          <button type="button" class="btn" (click)="cancelEdit()">Cancel</button>
        }
      </form>
      @if (error(); as error) {
        <p class="auth-error" role="alert" data-testid="screen-error">{{ error }}</p>
      }
      <!-- Its own scroll box: on a phone the table scrolls sideways, not the page. -->
      <div
        class="screens-table-box"
        role="region"
        aria-label="Paired screens"
        tabindex="0"
        data-testid="screen-list-box"
      >
        <table class="screens-table" data-testid="screen-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Board</th>
              <th>Scope</th>
              <th>Connection</th>
              <th>Last seen</th>
              <th>Lag events</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            @for (s of screens(); track s.id) {
              <tr
                class="screen-row"
                [attr.data-screen-name]="s.name"
                [attr.data-connected]="s.connected"
              >
                <td>{{ s.name }}</td>
                <td>
                  <code>{{ s.board || '(whole fleet)' }}</code>
                </td>
                <td>{{ s.groups ? s.groups.join(', ') : 'all groups' }}</td>
                <td
                  [class]="s.connected ? 'screen-on' : 'screen-off'"
                  data-testid="screen-connection"
                >
                  {{ s.connected ? 'connected · ' + s.transport : 'not connected' }}
                </td>
                <td>{{ lastSeen(s) }}</td>
                <td>{{ s.lagEvents }}</td>
                <td class="screens-actions">
                  <button type="button" class="btn" (click)="edit(s)">Edit</button>
                  <app-confirm-action
                    action="Revoke"
                    progress="Revoking…"
                    [question]="'Revoke ' + s.name + '?'"
                    consequence="It disconnects at once and shows a new code."
                    testId="screen-revoke"
                    [busy]="busy()"
                    [open]="confirming() === s.id"
                    (openChange)="confirming.set($event ? s.id : null)"
                    (confirmed)="revoke(s)"
                  />
                </td>
              </tr>
            }
          </tbody>
        </table>
        <!-- Under the table, not a row of it: a row is as wide as the table's seven headings,
             wider than a phone, so its line ran out of sight. -->
        @if (!screens().length) {
          <p class="screens-empty" data-testid="screen-list-empty">
            No screens paired yet: open /wall on the screen to get a code.
          </p>
        }
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ScreensPage {
  private readonly api = inject(ScreensApi);
  private readonly clock = inject(ClockService);
  protected readonly screens = signal<ScreenInfo[]>([]);
  protected readonly form = signal<FormState>(EMPTY);
  protected readonly editing = signal<string | null>(null);
  /** Editing keeps the screen: no code to enter. */
  protected readonly fields = computed(() =>
    this.editing() ? FIELDS.filter((f) => f.key !== 'code') : FIELDS,
  );
  /** Which screen's revocation awaits its second click. */
  protected readonly confirming = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  constructor() {
    let timer: ReturnType<typeof setInterval> | null = null;
    afterNextRender(() => {
      void this.load();
      timer = setInterval(() => void this.load(), REFRESH_MS);
    });
    inject(DestroyRef).onDestroy(() => timer !== null && clearInterval(timer));
  }

  protected patch(key: keyof ScreenForm, value: string): void {
    this.form.update((f) => ({ ...f, [key]: value }));
  }

  protected lastSeen(screen: ScreenInfo): string {
    if (screen.connected) return 'now';
    if (screen.lastSeen === null) return 'never';
    return `${formatDuration(Math.max(0, this.clock.now() - screen.lastSeen))} ago`;
  }

  protected edit(screen: ScreenInfo): void {
    this.editing.set(screen.id);
    const groups = (screen.groups ?? []).join(',');
    this.form.set({ code: '', name: screen.name, board: screen.board, groups });
  }

  protected cancelEdit(): void {
    this.editing.set(null);
    this.form.set(EMPTY);
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    const id = this.editing();
    const typed = this.form();
    const form: ScreenForm = { ...typed, groups: splitGroups(typed.groups) };
    await this.run(async () => {
      if (id) await this.api.update(id, form);
      else await this.api.pair(form);
      this.cancelEdit();
    });
  }

  protected async revoke(screen: ScreenInfo): Promise<void> {
    await this.run(() => this.api.revoke(screen.id));
    this.confirming.set(null);
  }

  private async run(action: () => Promise<unknown>): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await action();
    } catch (error) {
      this.error.set(adminRefusal(error, 'manage screens'));
    } finally {
      this.busy.set(false);
    }
    await this.load();
  }

  private async load(): Promise<void> {
    try {
      this.screens.set(await this.api.list());
    } catch (error) {
      this.error.set(adminRefusal(error, 'manage screens', 'read'));
    }
  }
}

function splitGroups(text: string): string[] {
  return text
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}
