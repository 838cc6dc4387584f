import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import type { AlertRule, Role } from '@pulse/protocol/core';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { fakeAuthServer } from '../testing/fake-auth-server';
import { provideFakeLive, renderWithFakeTime, useFakeClock } from '../testing/testbed';
import { RulesPage } from './rules.page';

const OVERHEAT = {
  id: 'temperature-high',
  name: 'Overheating',
  severity: 'major',
  scope: { all: true },
  enabled: true,
  kind: 'threshold',
  metric: 'temperature',
  op: 'above',
  value: 68,
  clear: 66,
  forMs: 10_000,
  clearForMs: 0,
} as AlertRule;
const OFFLINE = {
  id: 'boiler-offline',
  severity: 'critical',
  scope: { device: 'boiler-1' },
  enabled: false,
  kind: 'offline',
  forMs: 60_000,
} as AlertRule;

interface Write {
  method: string;
  url: string;
  body: unknown;
  /** The write's preconditions, when it sent them. */
  ifMatch?: string;
  ifNoneMatch?: string;
}

/**
 * The rules page as `role` sees it (anonymous viewer when null), over a gateway holding `rules`
 * that applies every write, or answers the next one with `refuseNext`. It tags each rule with a
 * version (`"<id>-<n>"`, n moving on at every change) and judges If-Match / If-None-Match as
 * the real one does; `behindTheBack` changes or deletes a rule as another admin would.
 */
async function render(
  role: Role | null,
  rules: AlertRule[] = [OVERHEAT, OFFLINE],
  /** The list's `refused` (stored rules the gateway's schema refused at boot), if any. */
  refusedStored?: unknown,
) {
  const stored = [...rules];
  const writes: Write[] = [];
  let reads = 0;
  let readsFail = false;
  let version = 0;
  const tags = new Map(rules.map((r) => [r.id, `"${r.id}-${++version}"`]));
  const etags = () => Object.fromEntries(tags);
  let refusal: { status: number; body: unknown } | null = null;
  /** Apply a change as the gateway does, moving the rule's tag on. */
  const apply = (method: string, id: string, body: unknown) => {
    const at = stored.findIndex((r) => r.id === id);
    if (method === 'DELETE') {
      stored.splice(at, 1);
      tags.delete(id);
      return;
    }
    stored.splice(at < 0 ? stored.length : at, 1, body as AlertRule);
    tags.set(id, `"${id}-${++version}"`);
  };
  const server = fakeAuthServer({
    user: role ? { username: `a-${role}`, role } : null,
    other: (url, init) => {
      const method = init?.method ?? 'GET';
      if (url === '/api/alert-rules' && method === 'GET') {
        reads++;
        if (readsFail) return { status: 503, body: { statusCode: 503, message: 'store away' } };
        // A new list, as over the wire.
        return {
          status: 200,
          body: {
            rules: [...stored],
            etags: etags(),
            ...(refusedStored ? { refused: refusedStored } : {}),
          },
        };
      }
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      const headers = (init?.headers ?? {}) as Record<string, string>;
      const [ifMatch, ifNoneMatch] = [headers['if-match'], headers['if-none-match']];
      writes.push({
        method,
        url,
        body,
        ...(ifMatch ? { ifMatch } : {}),
        ...(ifNoneMatch ? { ifNoneMatch } : {}),
      });
      const refused = refusal;
      refusal = null;
      if (refused) return refused;
      const id =
        method === 'POST' ? (body as AlertRule).id : decodeURIComponent(url.split('/')[3] ?? '');
      const current = stored.find((r) => r.id === id) ?? null;
      const etag = tags.get(id) ?? null;
      // As the gateway: a delete of a rule not there is 404 whatever its If-Match (RFC 9110 §13.2.1).
      if (method === 'DELETE' && !current)
        return { status: 404, body: { statusCode: 404, message: 'gone' } };
      if ((ifMatch && ifMatch !== etag) || (ifNoneMatch === '*' && current)) {
        const error = !current ? 'rule_gone' : ifMatch ? 'rule_changed' : 'rule_exists';
        // The gateway compares the rule sent, parsed, with the stored one by tag; this fake
        // has no defaults to fill in, so the same JSON is the same rule.
        const same = JSON.stringify(current) === JSON.stringify(body);
        return {
          status: 412,
          body: {
            statusCode: 412,
            error,
            message: error,
            rule: current,
            etag,
            ...(error === 'rule_exists' ? { same } : {}),
          },
        };
      }
      apply(method, id, body);
      return method === 'DELETE'
        ? { status: 204, body: null }
        : { status: 201, body, headers: { etag: tags.get(id) as string } };
    },
  });
  provideFakeLive([provideRouter([]), { provide: FETCH, useValue: server.fetch }]);
  await TestBed.inject(AuthService).ready();
  const { el, settle: pass } = renderWithFakeTime(RulesPage);
  // A write, then the read after it: a few turns of the promise chain.
  const settle = async () => {
    for (let i = 0; i < 4; i++) await pass();
  };
  await settle();
  const find = <T extends HTMLElement = HTMLButtonElement>(
    testId: string,
    within: ParentNode = el,
  ) => within.querySelector<T>(`[data-testid=${testId}]`);
  const row = (id: string) => el.querySelector<HTMLTableRowElement>(`tr[data-rule-id="${id}"]`);
  const click = async (testId: string, within?: ParentNode) => {
    const button = find(testId, within);
    if (!button) throw new Error(`no ${testId}`);
    button.click();
    await settle();
  };
  const choose = async (testId: string, value: string) => {
    const select = find<HTMLSelectElement>(testId);
    if (!select) throw new Error(`no ${testId}`);
    select.value = value;
    select.dispatchEvent(new Event('change'));
    await settle();
  };
  const editorText = () => find<HTMLTextAreaElement>('rule-json')?.value ?? '';
  const type = async (text: string) => {
    const box = find<HTMLTextAreaElement>('rule-json');
    if (!box) throw new Error('no editor');
    box.value = text;
    box.dispatchEvent(new Event('input'));
    await settle();
  };
  return {
    el,
    find,
    row,
    click,
    choose,
    type,
    editorText,
    settle,
    writes,
    stored,
    reads: () => reads,
    /** Lists answered 503 from now (true) or again (false): the page sees only its own writes. */
    failReads: (fail: boolean) => (readsFail = fail),
    refuseNext: (status: number, body: unknown) => (refusal = { status, body }),
    /** Another admin's change (a rule) or deletion (an id), not seen by the page. */
    behindTheBack: (change: AlertRule | string) =>
      typeof change === 'string' ? apply('DELETE', change, null) : apply('PUT', change.id, change),
  };
}

describe('RulesPage', () => {
  useFakeClock();

  it('lists every rule in words, a disabled one muted, read-only for a viewer', async () => {
    const { el, find, row } = await render('viewer');
    const overheat = row('temperature-high');
    expect(overheat?.textContent).toContain('Overheating');
    expect(find('rule-condition', overheat ?? el)?.textContent).toBe(
      'temperature above 68 for 10 s, clears below 66',
    );
    expect(find('rule-scope', overheat ?? el)?.textContent).toBe('all devices');
    expect(overheat?.classList).not.toContain('rule-off');
    const offline = row('boiler-offline');
    expect(find('rule-condition', offline ?? el)?.textContent).toBe('offline for 1 min');
    expect(find('rule-scope', offline ?? el)?.textContent).toBe('device boiler-1');
    expect(offline?.classList).toContain('rule-off');
    expect(find('rule-enabled', offline ?? el)?.textContent).toBe('no');

    expect(find('rules-read-only')?.textContent).toContain('Only admins edit rules');
    for (const admins of ['rule-new', 'rule-toggle', 'rule-edit', 'rule-editor'])
      expect(find(admins)).toBeNull();
  });

  it.each([
    ['an anonymous viewer', null],
    ['an operator', 'operator'],
  ] as const)('offers no edits to %s', async (_who, role) => {
    const { find } = await render(role);
    expect(find('rules-read-only')).not.toBeNull();
    expect(find('rule-toggle')).toBeNull();
    expect(find('rule-new')).toBeNull();
  });

  it('warns an admin of stored rules the gateway does not run (refused by its schema): how many, which, why, what to do', async () => {
    const refused = [
      { id: 'old-offline', issues: ['severity: Invalid option: expected one of …'] },
      { id: null, issues: ['id: Invalid input: expected string, received undefined'] },
    ];
    const { find } = await render('admin', [OVERHEAT], refused);
    const banner = find<HTMLElement>('rules-refused');
    expect(banner?.getAttribute('role')).toBe('alert');
    const text = banner?.textContent?.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('2 stored rules are not running');
    expect(text).toContain('old-offline');
    expect(text).toContain('severity: Invalid option');
    expect(text).toContain('(no id)');
    expect(text).toContain('Create a rule with the same id');
    expect(text).toContain('kept as saved');
  });

  it.each([
    ['the gateway refused nothing (or is older)', 'admin', undefined],
    ['the list is no list', 'admin', 'not a list'],
    ['the reader is no admin', 'viewer', [{ id: 'x', issues: ['severity: bad'] }]],
  ] as const)('shows no such warning when %s', async (_when, role, refused) => {
    expect((await render(role, [OVERHEAT], refused)).find('rules-refused')).toBeNull();
  });

  it('lets an admin turn a rule off: PUT with enabled flipped, then the list read again', async () => {
    const { find, row, click, writes, reads } = await render('admin');
    expect(find('rules-read-only')).toBeNull();
    const readsBefore = reads();
    const toggle = find('rule-toggle', row('temperature-high') ?? undefined);
    expect(toggle?.getAttribute('aria-pressed')).toBe('true');
    await click('rule-toggle', row('temperature-high') ?? undefined);
    expect(writes).toEqual([
      {
        method: 'PUT',
        url: '/api/alert-rules/temperature-high',
        body: { ...OVERHEAT, enabled: false },
        // The version the page listed: another admin's change since is not overwritten.
        ifMatch: '"temperature-high-1"',
      },
    ]);
    expect(reads()).toBeGreaterThan(readsBefore);
    expect(row('temperature-high')?.classList).toContain('rule-off');
    expect(find('rule-toggle', row('temperature-high') ?? undefined)?.textContent?.trim()).toBe(
      'Disabled',
    );
  });

  it('creates a rule from a kind’s template: PUT of the text as typed if its id is free, then it is listed', async () => {
    const { find, click, choose, type, editorText, writes, row } = await render('admin');
    await click('rule-new');
    expect(JSON.parse(editorText())).toMatchObject({ id: 'threshold-1', kind: 'threshold' });
    await choose('rule-kind', 'offline');
    const template = JSON.parse(editorText()) as Record<string, unknown>;
    expect(template).toMatchObject({ id: 'offline-1', kind: 'offline', forMs: 60_000 });
    const rule = { ...template, id: 'hall-offline', scope: { group: 'hall-a' } };
    await type(JSON.stringify(rule, null, 2));
    await click('rule-save');
    expect(writes).toEqual([
      { method: 'PUT', url: '/api/alert-rules/hall-offline', body: rule, ifNoneMatch: '*' },
    ]);
    expect(find('rule-editor')).toBeNull();
    expect(find('rules-notice')?.textContent).toBe('Rule hall-offline created.');
    expect(find('rule-scope', row('hall-offline') ?? undefined)?.textContent).toBe('group hall-a');
  });

  it('a create sent twice (a double click, a retry after a lost answer) is created, not a conflict', async () => {
    const { find, click, type, writes, stored, behindTheBack } = await render('admin');
    await click('rule-new');
    const rule = { ...OFFLINE, id: 'hall-offline' };
    await type(JSON.stringify(rule));
    behindTheBack(rule); // the first one's, as the gateway stored it
    await click('rule-save');
    expect(writes.map((w) => w.ifNoneMatch)).toEqual(['*']);
    expect(stored.filter((r) => r.id === 'hall-offline')).toEqual([rule]);
    expect(find('rule-problem')).toBeNull();
    expect(find('rules-notice')?.textContent).toBe('Rule hall-offline created.');
  });

  it('saves an edit with PUT to the rule’s URL', async () => {
    const { find, click, type, editorText, writes, row } = await render('admin');
    await click('rule-edit', row('temperature-high') ?? undefined);
    expect(JSON.parse(editorText())).toEqual(OVERHEAT);
    const edited = { ...OVERHEAT, value: 70, clear: 65 };
    await type(JSON.stringify(edited));
    await click('rule-save');
    expect(writes).toEqual([
      {
        method: 'PUT',
        url: '/api/alert-rules/temperature-high',
        body: edited,
        ifMatch: '"temperature-high-1"',
      },
    ]);
    expect(find('rule-editor')).toBeNull();
    expect(find('rule-condition', row('temperature-high') ?? undefined)?.textContent).toBe(
      'temperature above 70 for 10 s, clears below 65',
    );
  });

  it('shows each issue of a 400 under the editor and keeps the text as typed', async () => {
    const { find, click, type, editorText, refuseNext, row } = await render('admin');
    await click('rule-edit', row('temperature-high') ?? undefined);
    const typed = JSON.stringify({ ...OVERHEAT, op: 'outside' }, null, 1);
    await type(typed);
    refuseNext(400, {
      statusCode: 400,
      error: 'Bad Request',
      message: [
        'value: not used with op "outside": use low/high and clearLow/clearHigh',
        'low: required with op "outside"',
      ],
    });
    await click('rule-save');
    expect(find('rule-editor')).not.toBeNull();
    expect(editorText()).toBe(typed);
    const problem = find('rule-problem');
    expect(problem?.getAttribute('role')).toBe('alert');
    expect(problem?.textContent).toContain('The gateway refused the rule');
    const issues = [...(find('rule-issues')?.querySelectorAll('li') ?? [])].map((li) => [
      li.querySelector('code')?.textContent,
      li.textContent?.replace(/\s+/g, ' ').trim(),
    ]);
    expect(issues).toEqual([
      ['value', 'value not used with op "outside": use low/high and clearLow/clearHigh'],
      ['low', 'low required with op "outside"'],
    ]);
  });

  it('says a JSON typo before sending anything, and an id in use in words', async () => {
    const { find, click, type, editorText, writes, refuseNext } = await render('admin');
    await click('rule-new');
    await type('{ "id": "x", }');
    await click('rule-save');
    expect(writes).toEqual([]);
    expect(find('rule-problem')?.textContent).toContain('Not valid JSON');
    expect(editorText()).toBe('{ "id": "x", }');

    const mine = JSON.stringify({ ...OVERHEAT, value: 1 });
    await type(mine);
    await click('rule-save');
    expect(writes.map((w) => [w.method, w.ifNoneMatch])).toEqual([['PUT', '*']]);
    expect(find('rule-problem')?.textContent).toContain(
      'A rule with the id "temperature-high" exists already',
    );
    // No "start again from their version": every save of it would be refused again.
    expect(find('rule-current')).toBeNull();
    expect(find('rule-editor')).not.toBeNull();
    expect(editorText()).toBe(mine);
    // A text without an id goes as a POST, for the gateway to say what is missing.
    await type('{ "kind": "offline" }');
    refuseNext(400, { statusCode: 400, error: 'Bad Request', message: ['id: required'] });
    await click('rule-save');
    expect(writes.map((w) => [w.method, w.url])).toContainEqual(['POST', '/api/alert-rules']);
  });

  it('deletes only on a second click; Keep leaves the rule', async () => {
    const { find, click, writes, row } = await render('admin');
    await click('rule-edit', row('boiler-offline') ?? undefined);
    await click('rule-delete');
    expect(writes).toEqual([]);
    expect(find('rule-delete-confirm')).not.toBeNull();
    expect(document.activeElement).toBe(find('rule-delete-keep'));
    await click('rule-delete-keep');
    expect(writes).toEqual([]);
    expect(find('rule-delete-confirm')).toBeNull();

    await click('rule-delete');
    await click('rule-delete-confirm');
    expect(writes).toEqual([
      {
        method: 'DELETE',
        url: '/api/alert-rules/boiler-offline',
        body: undefined,
        ifMatch: '"boiler-offline-2"',
      },
    ]);
    expect(find('rule-editor')).toBeNull();
    expect(row('boiler-offline')).toBeNull();
    expect(find('rules-notice')?.textContent).toBe('Rule boiler-offline deleted.');
  });

  it('a toggle right after a save goes over the version saved, even before the list is read again', async () => {
    const { find, row, click, type, writes, stored, failReads } = await render('admin');
    await click('rule-edit', row('temperature-high') ?? undefined);
    await type(JSON.stringify({ ...OVERHEAT, severity: 'critical' }));
    failReads(true);
    await click('rule-save');
    expect(find('rule-condition', row('temperature-high') ?? undefined)).not.toBeNull();
    await click('rule-toggle', row('temperature-high') ?? undefined);
    expect(find('rules-error')).toBeNull();
    expect(writes.map((w) => w.ifMatch)).toEqual(['"temperature-high-1"', '"temperature-high-3"']);
    expect(stored.find((r) => r.id === 'temperature-high')).toEqual({
      ...OVERHEAT,
      severity: 'critical',
      enabled: false,
    });
    // Deleted here: gone from the table at once, not offered to toggle until a read says so.
    await click('rule-edit', row('temperature-high') ?? undefined);
    await click('rule-delete');
    await click('rule-delete-confirm');
    expect(row('temperature-high')).toBeNull();
  });

  describe('when someone else changed the rule first', () => {
    const theirs = { ...OVERHEAT, value: 80, clear: 75 } as AlertRule;

    it('a toggle does not undo their change: it says so and the row shows their version', async () => {
      const { find, row, click, stored, behindTheBack } = await render('admin');
      behindTheBack(theirs);
      await click('rule-toggle', row('temperature-high') ?? undefined);
      expect(stored.find((r) => r.id === 'temperature-high')).toEqual(theirs);
      expect(find('rules-error')?.textContent).toBe(
        'Someone else changed the rule "temperature-high" after it was read here, so nothing was changed. The table shows their version now: turn it off again if you still want to.',
      );
      expect(find('rule-condition', row('temperature-high') ?? undefined)?.textContent).toBe(
        'temperature above 80 for 10 s, clears below 75',
      );
      // Now over their version: it goes through.
      await click('rule-toggle', row('temperature-high') ?? undefined);
      expect(stored.find((r) => r.id === 'temperature-high')).toEqual({
        ...theirs,
        enabled: false,
      });
    });

    it('a toggle does not bring back a rule they deleted', async () => {
      const { find, row, click, stored, behindTheBack } = await render('admin');
      behindTheBack('boiler-offline');
      await click('rule-toggle', row('boiler-offline') ?? undefined);
      expect(stored.map((r) => r.id)).toEqual(['temperature-high']);
      expect(find('rules-error')?.textContent).toBe(
        'Someone else deleted the rule "boiler-offline" after it was read here, so it was not created again. It is no longer listed.',
      );
      expect(row('boiler-offline')).toBeNull();
    });

    it('a save keeps the text as typed, shows their version, and saves over it when asked again', async () => {
      const { find, row, click, type, editorText, writes, stored, behindTheBack } =
        await render('admin');
      await click('rule-edit', row('temperature-high') ?? undefined);
      const mine = JSON.stringify({ ...OVERHEAT, severity: 'critical' }, null, 2);
      await type(mine);
      behindTheBack(theirs);
      await click('rule-save');

      expect(stored.find((r) => r.id === 'temperature-high')).toEqual(theirs);
      expect(find('rule-editor')).not.toBeNull();
      expect(editorText()).toBe(mine);
      expect(find('rule-problem')?.textContent?.trim()).toBe(
        'Someone else changed the rule "temperature-high" after it was read here, so nothing was changed. Your text is kept: Save again to replace their version with it, or start again from theirs.',
      );
      expect(JSON.parse(find('rule-current')?.querySelector('pre')?.textContent ?? '')).toEqual(
        theirs,
      );
      // The table was read again behind the editor.
      expect(find('rule-condition', row('temperature-high') ?? undefined)?.textContent).toBe(
        'temperature above 80 for 10 s, clears below 75',
      );

      await click('rule-save');
      expect(writes.map((w) => w.ifMatch)).toEqual([
        '"temperature-high-1"',
        '"temperature-high-3"',
      ]);
      expect(stored.find((r) => r.id === 'temperature-high')).toEqual(JSON.parse(mine));
      expect(find('rule-editor')).toBeNull();
    });

    it('starts again from their version when asked', async () => {
      const { find, row, click, type, editorText, behindTheBack } = await render('admin');
      await click('rule-edit', row('temperature-high') ?? undefined);
      await type(JSON.stringify({ ...OVERHEAT, severity: 'critical' }));
      behindTheBack(theirs);
      await click('rule-save');
      find('rule-take-current')?.focus(); // as a keyboard or a click leaves it
      await click('rule-take-current');
      expect(JSON.parse(editorText())).toEqual(theirs);
      expect(find('rule-problem')).toBeNull();
      expect(find('rule-current')).toBeNull();
      // The button pressed is gone: the keyboard goes on from the text, not from the page's top.
      expect(document.activeElement).toBe(find('rule-json'));
    });

    it('their version is a labelled region a keyboard can reach and scroll', async () => {
      const { find, row, click, type, behindTheBack } = await render('admin');
      await click('rule-edit', row('temperature-high') ?? undefined);
      await type(JSON.stringify({ ...OVERHEAT, severity: 'critical' }));
      behindTheBack(theirs);
      await click('rule-save');
      const pre = find('rule-current')?.querySelector('pre');
      expect(pre?.getAttribute('tabindex')).toBe('0');
      expect(pre?.getAttribute('role')).toBe('region');
      const label = document.getElementById(pre?.getAttribute('aria-labelledby') ?? '');
      expect(label?.textContent).toBe('Their version, as the gateway holds it now:');
    });

    it('a save of a rule they deleted says so; saving again creates it, knowingly', async () => {
      const { find, row, click, type, editorText, writes, stored, behindTheBack } =
        await render('admin');
      await click('rule-edit', row('boiler-offline') ?? undefined);
      const mine = JSON.stringify({ ...OFFLINE, enabled: true });
      await type(mine);
      behindTheBack('boiler-offline');
      await click('rule-save');
      expect(stored.map((r) => r.id)).toEqual(['temperature-high']);
      expect(editorText()).toBe(mine);
      expect(find('rule-problem')?.textContent?.trim()).toBe(
        'Someone else deleted the rule "boiler-offline" after it was read here, so it was not created again. Your text is kept: Save creates the rule again; Cancel leaves it deleted.',
      );
      expect(find('rule-current')).toBeNull();
      // Not a stored rule any more: nothing to delete (a DELETE now would go without a tag, and
      // remove a rule of that id someone else created meanwhile).
      expect(find('rule-delete')).toBeNull();

      await click('rule-save');
      expect(writes.map((w) => [w.ifMatch, w.ifNoneMatch])).toEqual([
        ['"boiler-offline-2"', undefined],
        [undefined, '*'],
      ]);
      expect(stored.map((r) => r.id)).toEqual(['temperature-high', 'boiler-offline']);
      expect(find('rules-notice')?.textContent).toBe('Rule boiler-offline created.');
    });

    it('a delete of a rule they changed is refused until confirmed again over their version', async () => {
      const { find, row, click, stored, behindTheBack } = await render('admin');
      await click('rule-edit', row('temperature-high') ?? undefined);
      behindTheBack(theirs);
      await click('rule-delete');
      await click('rule-delete-confirm');
      expect(stored.map((r) => r.id)).toContain('temperature-high');
      expect(find('rule-problem')?.textContent?.trim()).toBe(
        'Someone else changed the rule "temperature-high" after it was read here, so nothing was changed. Delete again to delete their version.',
      );
      await click('rule-delete');
      await click('rule-delete-confirm');
      expect(stored.map((r) => r.id)).toEqual(['boiler-offline']);
    });
  });
});
