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
import {
  AlertRulesApi,
  RuleConflictError,
  RuleWriteError,
  SavedRule,
} from '../core/http/alert-rules-api';
import { ConfirmActionComponent } from '../shared/confirm-action.component';
import { freshId, ruleJson, ruleTemplate } from './rule-json';
import { KIND_LABELS } from './rule-wording';

/*
 * The rule editor (admins): a rule as JSON in a textarea, saved as typed, the gateway checking
 * it with the one schema the rules file and the API share; its refusal is shown issue by issue
 * under the text, which stays as typed. A new rule starts from a template of the chosen kind;
 * a stored one can be deleted, after a second click. Owns the text and the state of one edit;
 * the writes are AlertRulesApi's, and refreshing the rules is the page's (on `done`, and on
 * `conflicted`).
 *
 * A save or delete goes with the tag of the version the text started from (decision 0072): if
 * someone else changed or deleted the rule meanwhile, the gateway refuses it (412), and the
 * editor says so, shows their version, and keeps the text as typed; the next save is made over
 * their version (or creates the rule again), knowingly.
 */

/** What went wrong with the last save or delete: a sentence, and the gateway's issues if any. */
interface Problem {
  message: string;
  issues: { path: string; message: string }[];
}

/**
 * How the next save goes: over the version tagged `etag` (`If-Match`; null: no tag known, the
 * rule as it is), or as a new rule, created only if its id is free.
 */
type WriteAs = { create: false; etag: string | null } | { create: true };

/** Someone else's version, met on a refused write: the rule as it is now (null: deleted). */
interface Conflict {
  json: string | null;
}

/** What the editor did, for the page to say and refresh after. */
export interface RuleEdit {
  id: string;
  what: 'created' | 'saved' | 'deleted';
  /** The rule as stored and its tag; null when deleted. */
  saved: SavedRule | null;
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
      @if (conflict(); as c) {
        @if (c.json !== null) {
          <div class="rule-current" data-testid="rule-current">
            <p id="rule-current-title">Their version, as the gateway holds it now:</p>
            <!-- A scroll box: reachable by keyboard to scroll, named for a screen reader. -->
            <pre
              class="rule-json"
              tabindex="0"
              role="region"
              aria-labelledby="rule-current-title"
              >{{ c.json }}</pre
            >
            <button
              type="button"
              class="btn"
              data-testid="rule-take-current"
              (click)="takeCurrent(c.json)"
            >
              Start again from their version
            </button>
          </div>
        }
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
        <!-- Not after a save found the rule deleted: it is no stored rule any more, only text to
          create it again from (a delete then could only hit a rule of that id made since). -->
        @if (rule(); as r) {
          @if (!writeAs().create) {
            <app-confirm-action
              action="Delete"
              progress="Deleting…"
              [question]="'Delete ' + r.id + '?'"
              consequence="Its open alerts clear."
              testId="rule-delete"
              [busy]="busy()"
              [open]="confirming()"
              (openChange)="askDelete($event)"
              (confirmed)="remove(r.id)"
            />
          }
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
  /** The entity tag `rule` was read with (null: the gateway gave none). */
  readonly etag = input<string | null>(null);
  /** Ids in use, for a new rule's fresh id (read when a template is filled, not followed). */
  readonly takenIds = input<readonly string[]>([]);
  readonly done = output<RuleEdit>();
  readonly cancelled = output<void>();
  /** A write was refused because someone else changed the rule: the page reads the rules again. */
  readonly conflicted = output<void>();

  protected readonly kinds = KINDS;
  protected readonly labels = KIND_LABELS;
  protected readonly kind = signal<AlertRuleKind>('threshold');
  /** What is being edited: another rule, or another template, starts over. */
  private readonly subject = computed(() => ({
    rule: this.rule(),
    etag: this.etag(),
    kind: this.kind(),
  }));
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
  protected readonly writeAs = linkedSignal<
    { rule: AlertRule | null; etag: string | null },
    WriteAs
  >({
    source: this.subject,
    computation: ({ rule, etag }) => (rule ? { create: false, etag } : { create: true }),
  });
  protected readonly conflict = linkedSignal<unknown, Conflict | null>({
    source: this.subject,
    computation: () => null,
  });
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

  /**
   * Parse here (a typo never leaves the browser), then create a new rule or replace the stored
   * one over the version the text started from.
   */
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
    const how = this.writeAs();
    await this.run('save', async () => {
      const saved =
        how.create || !stored
          ? await this.api.create(parsed)
          : await this.api.replace(stored.id, parsed, how.etag);
      this.done.emit({
        id: saved.rule?.id ?? stored?.id ?? '',
        what: how.create ? 'created' : 'saved',
        saved,
      });
    });
  }

  /**
   * Their version in the text, to make the change again on it. The button pressed goes with
   * the box it is in: the keyboard goes on from the text (else from the top of the page).
   */
  protected takeCurrent(json: string): void {
    this.edited(json);
    this.conflict.set(null);
    this.problem.set(null);
    this.textBox()?.nativeElement.focus({ preventScroll: true });
  }

  /** The deletion asked (the last refusal cleared) or kept. */
  protected askDelete(open: boolean): void {
    if (open) this.problem.set(null);
    this.confirming.set(open);
  }

  protected async remove(id: string): Promise<void> {
    const how = this.writeAs();
    if (how.create) return; // no Delete is offered then
    await this.run('delete', async () => {
      await this.api.remove(id, how.etag);
      this.done.emit({ id, what: 'deleted', saved: null });
    });
    this.confirming.set(false);
  }

  /**
   * One write at a time; a refusal is shown and the text kept as typed. Someone else's change
   * met on the way becomes the version the next write is made over.
   */
  private async run(action: 'save' | 'delete', write: () => Promise<void>): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.problem.set(null);
    this.conflict.set(null);
    try {
      await write();
    } catch (error) {
      this.problem.set(problemOf(error, action));
      if (error instanceof RuleConflictError) {
        // Their version to start again from, when the next write would be made over it (not
        // for an id taken by another rule: every save of it would be refused again).
        const over = error.current && error.reason === 'rule_changed';
        this.conflict.set({ json: over ? ruleJson(error.current as AlertRule) : null });
        if (error.reason === 'rule_gone') this.writeAs.set({ create: true });
        else if (error.reason === 'rule_changed')
          this.writeAs.set({ create: false, etag: error.etag });
        this.conflicted.emit();
      }
    } finally {
      this.busy.set(false);
    }
  }
}

/** What the person can do after a refused write that met someone else's change. */
const AFTER_CONFLICT: Record<RuleConflictError['reason'], Record<'save' | 'delete', string>> = {
  rule_changed: {
    save: 'Your text is kept: Save again to replace their version with it, or start again from theirs.',
    delete: 'Delete again to delete their version.',
  },
  rule_gone: {
    save: 'Your text is kept: Save creates the rule again; Cancel leaves it deleted.',
    delete: '',
  },
  rule_exists: {
    save: 'Your text is kept: choose another id, or cancel and edit that rule.',
    delete: '',
  },
};

/** A refusal for the person: the gateway's `path: message` issues split for display. */
function problemOf(error: unknown, action: 'save' | 'delete'): Problem {
  if (error instanceof RuleConflictError) {
    const next = AFTER_CONFLICT[error.reason][action];
    return { message: next ? `${error.message} ${next}` : error.message, issues: [] };
  }
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
