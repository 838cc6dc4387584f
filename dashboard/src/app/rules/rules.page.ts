import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import type { AlertRule } from '@pulse/protocol/core';
import { AuthService } from '../core/auth/auth.service';
import { AlertRulesApi, RuleConflictError, RuleWriteError } from '../core/http/alert-rules-api';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { RuleEditorComponent, RuleEdit } from './rule-editor.component';
import { KIND_LABELS, conditionText, scopeText } from './rule-wording';

/*
 * `/rules`: every alert rule in a table (name and id, kind, condition in words, scope, severity,
 * enabled; a disabled one muted), read by anyone who may view. An admin also turns a rule on or
 * off from its row, and edits, creates or deletes rules in the editor above the table. Owns which
 * rule is being edited and the row toggles; the list is AlertRulesService's, refreshed after
 * every change so the charts' threshold lines follow, and every write is checked by the gateway.
 * Each write names the version it was made on (the rule's tag as listed, decision 0072): one
 * that someone else changed or deleted meanwhile is refused, said in words, and the list read
 * again to show what it is now. Stored rules the gateway's schema refused at boot (the list's
 * `refused`, admins only) are named in a banner above the table, with what to do.
 */

/**
 * What the editor is open on: a stored rule as it was when Edit was clicked, with the tag it was
 * listed with, or a new one.
 */
interface Editing {
  rule: AlertRule | null;
  etag: string | null;
}

@Component({
  selector: 'app-rules-page',
  imports: [RuleEditorComponent],
  template: `
    <section class="rules-page">
      <div class="rules-head">
        <h1>Alert rules</h1>
        @if (admin()) {
          <button
            type="button"
            class="btn btn-primary"
            data-testid="rule-new"
            (click)="editing.set({ rule: null, etag: null })"
          >
            New rule
          </button>
        }
      </div>
      @if (admin()) {
        <p class="rules-hint">
          A change applies as soon as it is saved; disabling or deleting a rule clears its open
          alerts. The gateway checks each rule with the same schema as the rules file.
        </p>
      } @else {
        <p class="rules-hint" data-testid="rules-read-only">
          Only admins edit rules: you see them as the gateway evaluates them.
        </p>
      }
      @if (admin() && refused().length) {
        <div class="rules-refused" role="alert" data-testid="rules-refused">
          <p>
            <strong>
              {{ refused().length }} stored
              {{ refused().length === 1 ? 'rule is' : 'rules are' }} not running:
            </strong>
            this gateway's version refuses {{ refused().length === 1 ? 'it' : 'them' }} (saved under
            an older one, whose rules were looser). No alert comes from
            {{ refused().length === 1 ? 'it' : 'them' }};
            {{ refused().length === 1 ? 'it is' : 'they are' }}
            kept as saved, and written back with every change made here.
          </p>
          <ul>
            @for (r of refused(); track $index) {
              <li>
                <code>{{ r.id ?? '(no id)' }}</code
                >: {{ r.issues.join('; ') }}
              </li>
            }
          </ul>
          <p>
            Create a rule with the same id, as it should be now, to replace one (the stored one is
            then dropped); or go back to the version that saved them.
          </p>
        </div>
      }
      @if (editing(); as e) {
        <app-rule-editor
          [rule]="e.rule"
          [etag]="e.etag"
          [takenIds]="ids()"
          (done)="edited($event)"
          (conflicted)="service.refresh()"
          (cancelled)="editing.set(null)"
        />
      }
      @if (notice(); as notice) {
        <p class="rules-notice" role="status" data-testid="rules-notice">{{ notice }}</p>
      }
      @if (error(); as error) {
        <p class="auth-error" role="alert" data-testid="rules-error">{{ error }}</p>
      }
      <!-- Its own scroll box: on a phone the table scrolls sideways, not the page. -->
      <div
        class="rules-table-box"
        role="region"
        aria-label="Alert rules"
        tabindex="0"
        data-testid="rules-box"
      >
        <table class="rules-table" data-testid="rules-table">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Kind</th>
              <th>Condition</th>
              <th>Scope</th>
              <th>Severity</th>
              <th>Enabled</th>
              @if (admin()) {
                <th aria-label="Actions"></th>
              }
            </tr>
          </thead>
          <tbody>
            @for (row of rows(); track row.rule.id) {
              @let r = row.rule;
              <tr
                class="rule-row"
                [class.rule-off]="!r.enabled"
                [attr.data-rule-id]="r.id"
                [attr.data-enabled]="r.enabled"
              >
                <td>
                  <span class="rule-name">{{ r.name ?? r.id }}</span>
                  <code class="rule-id">{{ r.id }}</code>
                </td>
                <td>{{ row.kind }}</td>
                <td data-testid="rule-condition">{{ row.condition }}</td>
                <td data-testid="rule-scope">{{ row.scope }}</td>
                <td>
                  <span class="sev-pill sev-{{ r.severity }}">{{ r.severity }}</span>
                </td>
                <td class="rule-enabled">
                  @if (admin()) {
                    <button
                      type="button"
                      class="btn rule-toggle"
                      data-testid="rule-toggle"
                      [attr.aria-pressed]="r.enabled"
                      [attr.aria-label]="(r.enabled ? 'Disable ' : 'Enable ') + (r.name ?? r.id)"
                      [disabled]="toggling() === r.id"
                      (click)="toggle(r)"
                    >
                      {{ r.enabled ? 'Enabled' : 'Disabled' }}
                    </button>
                  } @else {
                    <span data-testid="rule-enabled">{{ r.enabled ? 'yes' : 'no' }}</span>
                  }
                </td>
                @if (admin()) {
                  <td>
                    <button
                      type="button"
                      class="btn"
                      data-testid="rule-edit"
                      [attr.aria-label]="'Edit ' + (r.name ?? r.id)"
                      (click)="editing.set({ rule: r, etag: etagOf(r.id) })"
                    >
                      Edit
                    </button>
                  </td>
                }
              </tr>
            }
          </tbody>
        </table>
        @if (!rows().length) {
          <p class="rules-empty" data-testid="rules-empty">
            {{ service.error() ?? 'No alert rules: nothing raises alerts.' }}
          </p>
        }
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RulesPage {
  protected readonly service = inject(AlertRulesService);
  private readonly api = inject(AlertRulesApi);
  private readonly auth = inject(AuthService);
  /** Only shapes the page: the gateway refuses a write from anyone else. */
  protected readonly admin = this.auth.isAdmin;
  protected readonly rows = computed(() =>
    this.service.rules().map((rule) => ({
      rule,
      kind: KIND_LABELS[rule.kind],
      condition: conditionText(rule),
      scope: scopeText(rule.scope),
    })),
  );
  protected readonly ids = computed(() => this.service.rules().map((r) => r.id));
  /** Stored rules the gateway does not run (only an admin's read lists them). */
  protected readonly refused = this.service.refused;
  protected readonly editing = signal<Editing | null>(null);
  /** The rule whose toggle is being sent and read back. */
  protected readonly toggling = signal<string | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);

  constructor() {
    void this.service.loadNow();
  }

  protected async edited(edit: RuleEdit): Promise<void> {
    this.service.wrote(edit.id, edit.saved);
    this.editing.set(null);
    this.error.set(null);
    this.notice.set(`Rule ${edit.id} ${edit.what}.`);
    await this.service.refresh();
  }

  /** The tag `id` was listed with (null: the gateway gave none). */
  protected etagOf(id: string): string | null {
    return this.service.etags().get(id) ?? null;
  }

  /**
   * PUT the rule as listed with `enabled` flipped, over the version listed; the row shows the
   * gateway's answer (someone else's version, if they changed the rule first).
   */
  protected async toggle(rule: AlertRule): Promise<void> {
    if (this.toggling()) return;
    this.toggling.set(rule.id);
    this.error.set(null);
    this.notice.set(null);
    try {
      const saved = await this.api.replace(
        rule.id,
        { ...rule, enabled: !rule.enabled },
        this.etagOf(rule.id),
      );
      this.service.wrote(rule.id, saved);
    } catch (error) {
      if (error instanceof RuleConflictError)
        this.error.set(
          error.reason === 'rule_gone'
            ? `${error.message} It is no longer listed.`
            : `${error.message} The table shows their version now: turn it ${rule.enabled ? 'off' : 'on'} again if you still want to.`,
        );
      else {
        const issues = error instanceof RuleWriteError ? error.issues.join('; ') : '';
        const message = error instanceof Error ? error.message : String(error);
        this.error.set(`${rule.id}: ${message}${issues ? ` ${issues}` : ''}`);
      }
    }
    await this.service.refresh(); // never throws: a failed read is the service's error
    this.toggling.set(null);
  }
}
