import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  Injector,
  afterNextRender,
  effect,
  inject,
  input,
  model,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { DOCUMENT } from '@angular/common';

/*
 * A destructive action asked twice: "Remove…" opens "Remove ann? Their sessions and tokens end.
 * [Keep] [Remove]" in its place, and only the second click says `confirmed`. Owns the markup,
 * the test ids and where the focus goes; whether it is open is the parent's (`open`, two-way:
 * one row of a table at a time, closed once the write is done), and so is the write itself.
 * Its host takes no box of its own (display: contents), so the buttons sit in the parent's
 * flex row as if written there. Once the second click is made, Keep waits with it for the write
 * (`busy`): the removal can no longer be kept, and a Keep that closed the question while it went
 * on would say otherwise (the device page's removal leaves the page once done), and the second
 * click's button says what is under way (`progress`, "Removing…") until the write ends.
 */

let instances = 0;

@Component({
  selector: 'app-confirm-action',
  template: `
    @if (open()) {
      <!-- The safe answer first, where the pointer is: a double click keeps what it would remove. -->
      <span
        class="confirm-action-group"
        role="group"
        [attr.aria-labelledby]="questionId"
        [attr.aria-describedby]="consequenceId"
      >
        <span
          ><span [id]="questionId">{{ question() }}</span
          ><span [id]="consequenceId">&ngsp;{{ consequence() }}</span></span
        >
        <button
          #keepButton
          type="button"
          class="btn"
          [attr.data-testid]="testId() + '-keep'"
          [disabled]="sent() && busy()"
          (click)="open.set(false)"
        >
          Keep
        </button>
        <button
          type="button"
          class="btn btn-danger"
          [attr.data-testid]="testId() + '-confirm'"
          [disabled]="busy()"
          (click)="confirm()"
        >
          {{ sent() && busy() ? progress() : action() }}
        </button>
      </span>
    } @else {
      <button
        #trigger
        type="button"
        class="btn confirm-action-trigger"
        [attr.data-testid]="testId()"
        [disabled]="busy()"
        (click)="open.set(true)"
      >
        {{ action() }}…
      </button>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'confirm-action' },
})
export class ConfirmActionComponent {
  private readonly document = inject(DOCUMENT);
  private readonly injector = inject(Injector);
  /** The verb on both buttons: "Remove" makes the trigger "Remove…" and the second click "Remove". */
  readonly action = input.required<string>();
  /**
   * The second click's words while its own write runs, e.g. "Removing…": the click was taken (a
   * disabled button alone says nothing of why). Another write leaves it saying `action`.
   */
  readonly progress = input.required<string>();
  /** The question asked, e.g. "Remove ann?": the name of the group a screen reader enters. */
  readonly question = input.required<string>();
  /** What it costs, after the question, e.g. "Their sessions and tokens end." (its description). */
  readonly consequence = input.required<string>();
  /** The trigger's `data-testid`; Keep and the second click get `-keep` and `-confirm` after it. */
  readonly testId = input.required<string>();
  /** A write is running (this one or another): the trigger and the second click are disabled. */
  readonly busy = input(false);
  /** The question is showing. The parent may close it (after the write) or open it. */
  readonly open = model(false);
  /** The second click: do it. Once a click; the parent's `busy` holds off the next. */
  readonly confirmed = output<void>();

  /** The second click was made since the question opened: its write is the one `busy` may be. */
  protected readonly sent = signal(false);
  protected readonly questionId = `confirm-${++instances}-question`;
  protected readonly consequenceId = `confirm-${instances}-consequence`;
  private readonly keepButton = viewChild<ElementRef<HTMLButtonElement>>('keepButton');
  private readonly trigger = viewChild<ElementRef<HTMLButtonElement>>('trigger');

  constructor() {
    // Opened: the focus on Keep, the safe answer. Closed: back on the trigger, but only when the
    // focus went down with the question (Keep clicked, a refused write): never taken from where
    // the person has gone since (the rule editor closes it when its text is typed in).
    let wasOpen = this.open();
    effect(() => {
      const open = this.open();
      if (open === wasOpen) return;
      wasOpen = open;
      untracked(() => this.sent.set(false));
      afterNextRender(
        () => {
          if (open) this.keepButton()?.nativeElement.focus();
          else if (this.focusLost()) this.trigger()?.nativeElement.focus();
        },
        { injector: this.injector },
      );
    });
  }

  protected confirm(): void {
    if (this.busy()) return;
    this.sent.set(true);
    this.confirmed.emit();
  }

  private focusLost(): boolean {
    const active = this.document.activeElement;
    return active === null || active === this.document.body;
  }
}
