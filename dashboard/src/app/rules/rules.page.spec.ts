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
}

/**
 * The rules page as `role` sees it (anonymous viewer when null), over a gateway holding `rules`
 * that applies every write, or answers the next one with `refuseNext`.
 */
async function render(role: Role | null, rules: AlertRule[] = [OVERHEAT, OFFLINE]) {
  const stored = [...rules];
  const writes: Write[] = [];
  let reads = 0;
  let refusal: { status: number; body: unknown } | null = null;
  const server = fakeAuthServer({
    user: role ? { username: `a-${role}`, role } : null,
    other: (url, init) => {
      const method = init?.method ?? 'GET';
      if (url === '/api/alert-rules' && method === 'GET') {
        reads++;
        return { status: 200, body: { rules: [...stored] } }; // a new list, as over the wire
      }
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      writes.push({ method, url, body });
      const refused = refusal;
      refusal = null;
      if (refused) return refused;
      const id = decodeURIComponent(url.split('/')[3] ?? '');
      const at = stored.findIndex((r) => r.id === id);
      if (method === 'POST') stored.push(body as AlertRule);
      if (method === 'PUT') stored.splice(at < 0 ? stored.length : at, 1, body as AlertRule);
      if (method === 'DELETE') stored.splice(at, 1);
      return method === 'DELETE' ? { status: 204, body: null } : { status: 201, body };
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
    refuseNext: (status: number, body: unknown) => (refusal = { status, body }),
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
      },
    ]);
    expect(reads()).toBeGreaterThan(readsBefore);
    expect(row('temperature-high')?.classList).toContain('rule-off');
    expect(find('rule-toggle', row('temperature-high') ?? undefined)?.textContent?.trim()).toBe(
      'Disabled',
    );
  });

  it('creates a rule from a kind’s template: POST of the text as typed, then it is listed', async () => {
    const { find, click, choose, type, editorText, writes, row } = await render('admin');
    await click('rule-new');
    expect(JSON.parse(editorText())).toMatchObject({ id: 'threshold-1', kind: 'threshold' });
    await choose('rule-kind', 'offline');
    const template = JSON.parse(editorText()) as Record<string, unknown>;
    expect(template).toMatchObject({ id: 'offline-1', kind: 'offline', forMs: 60_000 });
    const rule = { ...template, id: 'hall-offline', scope: { group: 'hall-a' } };
    await type(JSON.stringify(rule, null, 2));
    await click('rule-save');
    expect(writes).toEqual([{ method: 'POST', url: '/api/alert-rules', body: rule }]);
    expect(find('rule-editor')).toBeNull();
    expect(find('rules-notice')?.textContent).toBe('Rule hall-offline created.');
    expect(find('rule-scope', row('hall-offline') ?? undefined)?.textContent).toBe('group hall-a');
  });

  it('saves an edit with PUT to the rule’s URL', async () => {
    const { find, click, type, editorText, writes, row } = await render('admin');
    await click('rule-edit', row('temperature-high') ?? undefined);
    expect(JSON.parse(editorText())).toEqual(OVERHEAT);
    const edited = { ...OVERHEAT, value: 70, clear: 65 };
    await type(JSON.stringify(edited));
    await click('rule-save');
    expect(writes).toEqual([
      { method: 'PUT', url: '/api/alert-rules/temperature-high', body: edited },
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

    await type(JSON.stringify({ ...OVERHEAT }));
    refuseNext(409, {
      statusCode: 409,
      error: 'Conflict',
      message: 'alert rule "temperature-high" exists: PUT /api/alert-rules/temperature-high',
    });
    await click('rule-save');
    expect(writes.map((w) => w.method)).toEqual(['POST']);
    expect(find('rule-problem')?.textContent).toContain(
      'A rule with the id "temperature-high" exists already',
    );
    expect(find('rule-editor')).not.toBeNull();
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
      { method: 'DELETE', url: '/api/alert-rules/boiler-offline', body: undefined },
    ]);
    expect(find('rule-editor')).toBeNull();
    expect(row('boiler-offline')).toBeNull();
    expect(find('rules-notice')?.textContent).toBe('Rule boiler-offline deleted.');
  });
});
