import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  afterNextRender,
  computed,
  inject,
  input,
  linkedSignal,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import type { AlertRule, AlertRuleKind } from '@pulse/protocol/core';
import { AlertRulesApi, RuleWriteError } from '../core/http/alert-rules-api';
import { ConfirmActionComponent } from '../shared/confirm-action.component';
import { freshId, ruleJson, ruleTemplate } from './rule-json';
import { KIND_LABELS } from './rule-wording';

/*
 * The rule editor (admins): a rule as JSON in a textarea, saved as typed, the gateway checking
 * it with the one schema the rules file and the API share; its refusal is shown issue by issue
 * under the text, which stays as typed. A new rule starts from a template of the chosen kind;
 * a stored one can be deleted, after a second click. Owns the text and the state of one edit;
 * the writes are AlertRulesApi's, and refreshing the rules is the page's (on `done`).
 */

/** What went wrong with the last save or delete: a sentence, and the gateway's issues if any. */
interface Problem {
  message: string;
  issues: { path: string; message: string }[];
}

/** What the editor did, for the page to say and refresh after. */
export interface RuleEdit {
  id: string;
  what: 'created' | 'saved' | 'deleted';
}

const KINDS = Object.keys(KIND_LABELS) as AlertRuleKind[];

@Component({
  selector: 'app-rule-editor',
  imports: [ConfirmActionComponent],
  template: `
    <section class="rule-editor" data-testid="rule-editor" aria-labelledby="rule-editor-title">
      <h2 id="rule-editor-title">
        @if (rule(); as r) {
          Edit rule <code>{{ r.id }}</code>
        } @else {
          New rule
        }
      </h2>
      @if (!rule()) {
        <label class="rule-kind"
          >Start from a template
          <select
            class="input"
            data-testid="rule-kind"
            [value]="kind()"
            (change)="kind.set($any($event.target).value)"
          >
            @for (k of kinds; track k) {
              <option [value]="k">{{ labels[k] }}</option>
            }
          </select>
        </label>
      } @else {
        <p class="rules-hint">
          The id names the rule: to rename it, create a new rule and delete this one.
        </p>
      }
      <textarea
        #textBox
        class="rule-json"
        data-testid="rule-json"
        aria-label="The rule as JSON"
        spellcheck="false"
        autocomplete="off"
        rows="16"
        [value]="text()"
        (input)="edited($any($event.target).value)"
      ></textarea>
      @if (problem(); as p) {
        <div class="rule-problem" role="alert" data-testid="rule-problem">
          <p>{{ p.message }}</p>
          @if (p.issues.length) {
            <ul data-testid="rule-issues">
              @for (issue of p.issues; track $index) {
                <li>
                  <code>{{ issue.path }}</code> {{ issue.message }}
                </li>
              }
            </ul>
          }
        </div>
      }
      <div class="rule-editor-actions">
        <button
          type="button"
          class="btn btn-primary"
          data-testid="rule-save"
          [disabled]="busy()"
          (click)="save()"
        >
          {{ busy() ? 'Saving…' : rule() ? 'Save' : 'Create' }}
        </button>
        <button type="button" class="btn" data-testid="rule-cancel" (click)="cancelled.emit()">
          Cancel
        </button>
        @if (rule(); as r) {
          <app-confirm-action
            action="Delete"
            [question]="'Delete ' + r.id + '?'"
            consequence="Its open alerts clear."
            testId="rule-delete"
            [busy]="busy()"
            [open]="confirming()"
            (openChange)="askDelete($event)"
            (confirmed)="remove(r.id)"
          />
        }
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RuleEditorComponent {
  private readonly api = inject(AlertRulesApi);
  /** The stored rule to edit (as it was when Edit was clicked); null: a new rule. */
  readonly rule = input<AlertRule | null>(null);
  /** Ids in use, for a new rule's fresh id (read when a template is filled, not followed). */
  readonly takenIds = input<readonly string[]>([]);
  readonly done = output<RuleEdit>();
  readonly cancelled = output<void>();

  protected readonly kinds = KINDS;
  protected readonly labels = KIND_LABELS;
  protected readonly kind = signal<AlertRuleKind>('threshold');
  /** What is being edited: another rule, or another template, starts over. */
  private readonly subject = computed(() => ({ rule: this.rule(), kind: this.kind() }));
  protected readonly text = linkedSignal(() => {
    const { rule, kind } = this.subject();
    if (rule) return ruleJson(rule);
    return ruleJson(ruleTemplate(kind, freshId(kind, untracked(this.takenIds))));
  });
  protected readonly problem = linkedSignal<unknown, Problem | null>({
    source: this.subject,
    computation: () => null,
  });
  protected readonly confirming = linkedSignal({ source: this.subject, computation: () => false });
  protected readonly busy = signal(false);
  private readonly textBox = viewChild<ElementRef<HTMLTextAreaElement>>('textBox');

  constructor() {
    // Opened from a row far down the table: bring the editor into view, ready to type.
    afterNextRender(() => {
      const box = this.textBox()?.nativeElement;
      box?.focus({ preventScroll: true });
      box?.closest('section')?.scrollIntoView?.({ block: 'nearest' });
    });
  }

  protected edited(value: string): void {
    this.text.set(value);
    this.confirming.set(false);
  }

  /** Parse here (a typo never leaves the browser), then POST a new rule or PUT the stored one. */
  protected async save(): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.text());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.problem.set({ message: `Not valid JSON: ${reason}`, issues: [] });
      return;
    }
    const stored = this.rule();
    await this.run(async () => {
      const saved = stored
        ? await this.api.replace(stored.id, parsed)
        : await this.api.create(parsed);
      this.done.emit({ id: saved?.id ?? stored?.id ?? '', what: stored ? 'saved' : 'created' });
    });
  }

  /** The deletion asked (the last refusal cleared) or kept. */
  protected askDelete(open: boolean): void {
    if (open) this.problem.set(null);
    this.confirming.set(open);
  }

  protected async remove(id: string): Promise<void> {
    await this.run(async () => {
      await this.api.remove(id);
      this.done.emit({ id, what: 'deleted' });
    });
    this.confirming.set(false);
  }

  /** One write at a time; a refusal is shown and the text kept as typed. */
  private async run(write: () => Promise<void>): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.problem.set(null);
    try {
      await write();
    } catch (error) {
      this.problem.set(problemOf(error));
    } finally {
      this.busy.set(false);
    }
  }
}

/** A refusal for the person: the gateway's `path: message` issues split for display. */
function problemOf(error: unknown): Problem {
  if (!(error instanceof RuleWriteError))
    return { message: error instanceof Error ? error.message : String(error), issues: [] };
  const issues = error.issues.map((issue) => {
    const at = issue.indexOf(': ');
    return at < 0
      ? { path: '', message: issue }
      : { path: issue.slice(0, at), message: issue.slice(at + 2) };
  });
  return { message: error.message, issues };
}
