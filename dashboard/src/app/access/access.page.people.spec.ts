import { renderAccessPage } from '../testing/access-page';
import { T0, useFakeClock } from '../testing/testbed';

const TEAM = [
  { username: 'ann', role: 'admin' as const },
  { username: 'otto', role: 'operator' as const },
];

describe('AccessPage people', () => {
  useFakeClock();

  it('lists everyone with their role, when they were added and last signed in, the admin marked as you', async () => {
    const { personRow, find, text } = await renderAccessPage({
      users: [{ ...TEAM[0], lastSignInAt: T0 - 3 * 86_400_000 }, TEAM[1]],
    });
    expect(text('person-last-sign-in', personRow('ann') ?? undefined)).toBe('3 d ago');
    expect(text('person-last-sign-in', personRow('otto') ?? undefined)).toBe('never');
    const otto = personRow('otto');
    expect(otto?.getAttribute('data-role')).toBe('operator');
    expect(find<HTMLSelectElement>('person-role', otto ?? undefined)?.value).toBe('operator');
    expect(otto?.textContent).toMatch(/2026-11-01 \d\d:30/);
    expect(text('person-you', personRow('ann') ?? undefined)).toBe('you');
    expect(find('person-you', otto ?? undefined)).toBeNull();
    // One's own password is changed under "Your password", with the current one.
    expect(find('person-set-password', personRow('ann') ?? undefined)).toBeNull();
  });

  it('adds a person: POST of username, password and role; the form empties, nothing echoes the password', async () => {
    const { find, type, choose, click, writes, personRow, el } = await renderAccessPage();
    const password = find<HTMLInputElement>('person-password');
    expect(password?.type).toBe('password');
    expect(password?.getAttribute('autocomplete')).toBe('new-password');
    await type('person-username', ' vera ');
    await type('person-password', 'short');
    expect(find('person-add')?.disabled).toBe(true);
    await type('person-password', 'vera-password-1');
    await choose('person-role-new', 'operator');
    await click('person-add');
    expect(writes).toEqual([
      {
        method: 'POST',
        url: '/api/users',
        body: { username: 'vera', password: 'vera-password-1', role: 'operator' },
      },
    ]);
    expect(personRow('vera')?.getAttribute('data-role')).toBe('operator');
    expect(find<HTMLInputElement>('person-username')?.value).toBe('');
    expect(find<HTMLInputElement>('person-password')?.value).toBe('');
    expect(el.textContent).toContain('vera added as operator.');
    expect(el.textContent).not.toContain('vera-password-1');
  });

  it("keeps the form as typed and says the gateway's words when it refuses", async () => {
    const { type, click, text, find, refuseNext } = await renderAccessPage({ users: TEAM });
    await type('person-username', 'otto');
    await type('person-password', 'otto-password-2');
    refuseNext(409, { statusCode: 409, error: 'Conflict', message: 'user "otto" exists' });
    await click('person-add');
    expect(text('people-error')).toBe('user "otto" exists');
    expect(find<HTMLInputElement>('person-username')?.value).toBe('otto');
    expect(find<HTMLInputElement>('person-password')?.value).toBe('otto-password-2');
  });

  it.each([
    [401, 'Unauthorized', 'Signed out: sign in again to manage people.'],
    [403, 'Forbidden resource', 'Only admins manage people.'],
  ])('words a %s', async (status, message, shown) => {
    const { choose, text, personRow, refuseNext } = await renderAccessPage({ users: TEAM });
    refuseNext(status, { statusCode: status, message });
    await choose('person-role', 'viewer', personRow('otto') ?? undefined);
    expect(text('people-error')).toBe(shown);
  });

  it("changes a role from the row's select: PATCH with the role", async () => {
    const { choose, writes, personRow, text } = await renderAccessPage({ users: TEAM });
    await choose('person-role', 'viewer', personRow('otto') ?? undefined);
    expect(writes).toEqual([{ method: 'PATCH', url: '/api/users/otto', body: { role: 'viewer' } }]);
    expect(personRow('otto')?.getAttribute('data-role')).toBe('viewer');
    expect(text('people-notice')).toBe('otto is now viewer.');
  });

  it('sets a new password for someone else: PATCH with the password, the field then gone', async () => {
    const { click, type, find, writes, personRow, text } = await renderAccessPage({ users: TEAM });
    await click('person-set-password', personRow('otto') ?? undefined);
    const field = find<HTMLInputElement>('person-new-password');
    expect(field?.type).toBe('password');
    expect(field?.getAttribute('autocomplete')).toBe('new-password');
    expect(document.activeElement).toBe(field);
    await type('person-new-password', 'otto-new-password');
    await click('person-password-save');
    expect(writes).toEqual([
      { method: 'PATCH', url: '/api/users/otto', body: { password: 'otto-new-password' } },
    ]);
    expect(find('person-password-form')).toBeNull();
    expect(text('people-notice')).toContain('New password set for otto');
  });

  it('removes a person only on the second click; Keep, first and focused, keeps them', async () => {
    const { click, find, writes, personRow } = await renderAccessPage({ users: TEAM });
    await click('person-remove', personRow('otto') ?? undefined);
    expect(writes).toEqual([]);
    const keep = find('person-remove-keep');
    const confirm = find('person-remove-confirm');
    expect(document.activeElement).toBe(keep);
    expect(keep?.compareDocumentPosition(confirm as Node)).toBe(Node.DOCUMENT_POSITION_FOLLOWING);
    await click('person-remove-keep');
    expect(writes).toEqual([]);
    expect(personRow('otto')).not.toBeNull();

    await click('person-remove', personRow('otto') ?? undefined);
    await click('person-remove-confirm');
    expect(writes).toEqual([{ method: 'DELETE', url: '/api/users/otto', body: undefined }]);
    expect(personRow('otto')).toBeNull();
  });

  it("shows the gateway's refusal to demote or remove the last admin, the row unchanged", async () => {
    const { choose, click, text, find, personRow, router } = await renderAccessPage({
      users: TEAM,
    });
    const ann = () => personRow('ann') ?? undefined;
    await choose('person-role', 'operator', ann());
    expect(text('people-error')).toBe(
      'Pulse needs at least one enabled admin: promote another first',
    );
    expect(find<HTMLSelectElement>('person-role', ann())?.value).toBe('admin');
    await click('person-remove', ann());
    await click('person-remove-confirm');
    expect(text('people-error')).toBe(
      'Pulse needs at least one enabled admin: promote another first',
    );
    expect(personRow('ann')).not.toBeNull();
    expect(router.navigateByUrl).not.toHaveBeenCalled();
  });

  it('leaves the page when the admin demoted themselves while another admin remains', async () => {
    const { choose, personRow, server, router } = await renderAccessPage({
      users: [...TEAM, { username: 'bob', role: 'admin' }],
    });
    // The gateway's answer to "who am I" follows the change.
    const patched = server.fetch.getMockImplementation();
    server.fetch.mockImplementation(async (input, init) => {
      const res = await patched?.(input, init);
      if (init?.method === 'PATCH') server.user = { username: 'ann', role: 'operator' };
      return res as Response;
    });
    await choose('person-role', 'operator', personRow('ann') ?? undefined);
    expect(router.navigateByUrl).toHaveBeenCalledWith('/');
  });
});
