import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ConfirmActionComponent } from './confirm-action.component';

/** A parent as the pages are: it owns `open` and `busy`, and runs the write when confirmed. */
@Component({
  imports: [ConfirmActionComponent],
  template: `
    <input data-testid="elsewhere" />
    <app-confirm-action
      action="Remove"
      progress="Removing…"
      question="Remove ann?"
      consequence="Their sessions and tokens end."
      testId="person-remove"
      [busy]="busy()"
      [(open)]="open"
      (confirmed)="confirmed.push(1)"
    />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
class ParentComponent {
  readonly open = signal(false);
  readonly busy = signal(false);
  readonly confirmed: number[] = [];
}

/** A table's rows: one question open at a time, as the Access page's lists keep it. */
@Component({
  imports: [ConfirmActionComponent],
  template: `
    @for (name of names; track name) {
      <app-confirm-action
        action="Revoke"
        progress="Revoking…"
        [question]="'Revoke ' + name + '?'"
        consequence="A script using it is refused at once."
        [testId]="'revoke-' + name"
        [open]="confirming() === name"
        (openChange)="confirming.set($event ? name : null)"
      />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
class RowsComponent {
  readonly names = ['a', 'b'];
  readonly confirming = signal<string | null>(null);
}

describe('ConfirmActionComponent (a removal asked twice)', () => {
  afterEach(() => TestBed.resetTestingModule());

  async function render() {
    const fixture = TestBed.createComponent(ParentComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const find = (testId: string) => el.querySelector<HTMLButtonElement>(`[data-testid=${testId}]`);
    const click = async (testId: string) => {
      const button = find(testId);
      if (!button) throw new Error(`no ${testId}`);
      button.click();
      await fixture.whenStable();
    };
    const parent = fixture.componentInstance;
    return { fixture, el, find, click, parent };
  }

  it('shows only the trigger, "Remove…", until clicked', async () => {
    const { el, find } = await render();
    expect(find('person-remove')?.textContent?.trim()).toBe('Remove…');
    expect(find('person-remove-keep')).toBeNull();
    expect(find('person-remove-confirm')).toBeNull();
    expect(el.querySelector('[role=group]')).toBeNull();
    // Nothing takes the focus on the first render.
    expect(document.activeElement).toBe(document.body);
  });

  it('opens on the first click: the question named and described, Keep first and focused', async () => {
    const { el, find, click, parent } = await render();
    await click('person-remove');
    expect(parent.open()).toBe(true);
    expect(parent.confirmed).toEqual([]);
    expect(find('person-remove')).toBeNull();

    const group = el.querySelector('[role=group]') as HTMLElement;
    expect(group.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Remove ann? Their sessions and tokens end. Keep Remove',
    );
    const byId = (attr: string) =>
      document.getElementById(group.getAttribute(attr) ?? '')?.textContent?.trim();
    expect(byId('aria-labelledby')).toBe('Remove ann?');
    expect(byId('aria-describedby')).toBe('Their sessions and tokens end.');

    const keep = find('person-remove-keep');
    const confirm = find('person-remove-confirm');
    expect(keep?.textContent?.trim()).toBe('Keep');
    expect(confirm?.textContent?.trim()).toBe('Remove');
    expect(keep?.compareDocumentPosition(confirm as Node)).toBe(Node.DOCUMENT_POSITION_FOLLOWING);
    expect(document.activeElement).toBe(keep);
  });

  it('Keep closes it without confirming, the focus back on the trigger', async () => {
    const { find, click, parent } = await render();
    await click('person-remove');
    await click('person-remove-keep');
    expect(parent.open()).toBe(false);
    expect(parent.confirmed).toEqual([]);
    expect(find('person-remove-keep')).toBeNull();
    expect(document.activeElement).toBe(find('person-remove'));
  });

  it('the second click says confirmed once, and leaves closing to the parent', async () => {
    const { find, click, parent } = await render();
    await click('person-remove');
    await click('person-remove-confirm');
    expect(parent.confirmed).toEqual([1]);
    expect(parent.open()).toBe(true);
    expect(find('person-remove-confirm')).not.toBeNull();
  });

  it('while another write runs: the trigger and the second click disabled (and deaf), Keep not', async () => {
    const { fixture, find, click, parent } = await render();
    parent.busy.set(true);
    await fixture.whenStable();
    expect(find('person-remove')?.disabled).toBe(true);

    parent.busy.set(false);
    await fixture.whenStable();
    await click('person-remove');
    parent.busy.set(true);
    await fixture.whenStable();
    const confirm = find('person-remove-confirm') as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    // A click that gets through anyway (sent before the button was disabled) does nothing.
    fixture.debugElement.query((d) => d.nativeElement === confirm).triggerEventHandler('click');
    await fixture.whenStable();
    expect(parent.confirmed).toEqual([]);
    expect(find('person-remove-keep')?.disabled).toBe(false);
  });

  it('once confirmed, Keep too waits for the write it asked for: it can no longer keep', async () => {
    const { fixture, find, click, parent } = await render();
    await click('person-remove');
    await click('person-remove-confirm');
    parent.busy.set(true);
    await fixture.whenStable();
    expect(find('person-remove-keep')?.disabled).toBe(true);
    // Refused: the write is over, the question still open (until the parent closes it).
    parent.busy.set(false);
    await fixture.whenStable();
    expect(find('person-remove-keep')?.disabled).toBe(false);
    await click('person-remove-keep');
    expect(parent.open()).toBe(false);
  });

  it('once confirmed, its button says the write is under way until it ends; another write leaves it be', async () => {
    const { fixture, find, click, parent } = await render();
    await click('person-remove');
    // Another write (not asked for here) disables the button without claiming it.
    parent.busy.set(true);
    await fixture.whenStable();
    expect(find('person-remove-confirm')?.textContent?.trim()).toBe('Remove');
    parent.busy.set(false);
    await fixture.whenStable();

    await click('person-remove-confirm');
    parent.busy.set(true);
    await fixture.whenStable();
    const confirm = find('person-remove-confirm') as HTMLButtonElement;
    expect([confirm.textContent?.trim(), confirm.disabled]).toEqual(['Removing…', true]);
    // Refused: the write is over, the question still open and its button as it was.
    parent.busy.set(false);
    await fixture.whenStable();
    expect([confirm.textContent?.trim(), confirm.disabled]).toEqual(['Remove', false]);
  });

  it('closed by the parent after a refused write: the focus, lost with the question, back on the trigger', async () => {
    const { fixture, find, click, parent } = await render();
    await click('person-remove');
    find('person-remove-confirm')?.focus();
    await click('person-remove-confirm');
    parent.open.set(false);
    await fixture.whenStable();
    expect(document.activeElement).toBe(find('person-remove'));
  });

  it('closed by the parent while the person is elsewhere: the focus stays where they went', async () => {
    const { fixture, find, click, parent } = await render();
    await click('person-remove');
    const elsewhere = find('elsewhere') as HTMLElement;
    elsewhere.focus();
    parent.open.set(false);
    await fixture.whenStable();
    expect(document.activeElement).toBe(elsewhere);
  });

  it('opened by the parent: Keep focused all the same', async () => {
    const { fixture, find, parent } = await render();
    parent.open.set(true);
    await fixture.whenStable();
    expect(document.activeElement).toBe(find('person-remove-keep'));
  });

  // None of the confirmations this replaced cancelled on Escape: Keep, focused, is the way out.
  it('leaves Enter and Space to the native buttons, and does not cancel on Escape', async () => {
    const { fixture, find, click, parent } = await render();
    await click('person-remove');
    const keep = find('person-remove-keep') as HTMLButtonElement;
    expect(keep.type).toBe('button');
    expect((find('person-remove-confirm') as HTMLButtonElement).type).toBe('button');
    keep.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await fixture.whenStable();
    expect(parent.open()).toBe(true);
    expect(parent.confirmed).toEqual([]);
  });

  it.each([
    ['a lower row', 'a', 'b'],
    ['a higher row', 'b', 'a'],
  ])(
    'asked on %s while another row asks: that one closes, the new Keep has the focus',
    async (_, first, second) => {
      const fixture = TestBed.createComponent(RowsComponent);
      await fixture.whenStable();
      const el = fixture.nativeElement as HTMLElement;
      const find = (testId: string) =>
        el.querySelector<HTMLButtonElement>(`[data-testid=${testId}]`);
      find(`revoke-${first}`)?.click();
      await fixture.whenStable();
      find(`revoke-${second}`)?.click();
      await fixture.whenStable();
      expect(find(`revoke-${first}-keep`)).toBeNull();
      expect(el.querySelectorAll('[role=group]').length).toBe(1);
      expect(document.activeElement).toBe(find(`revoke-${second}-keep`));
    },
  );
});
