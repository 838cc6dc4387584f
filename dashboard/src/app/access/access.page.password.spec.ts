import { renderAccessPage } from '../testing/access-page';
import { T0, useFakeClock } from '../testing/testbed';

const MINE = {
  id: 'tok-a',
  name: 'export',
  createdAt: T0,
  expiresAt: T0 + 3_600_000,
  owner: 'ann',
};

describe('AccessPage your password', () => {
  useFakeClock();

  it('catches two new passwords that differ before sending anything', async () => {
    const { type, find, text, writes, el } = await renderAccessPage();
    await type('own-current', 'secret-password');
    await type('own-new', 'brand-new-password');
    await type('own-repeat', 'brand-new-passwort');
    expect(text('own-error')).toBe('The two new passwords differ.');
    expect(find('own-submit')?.disabled).toBe(true);
    // Enter in a field submits the form whatever the button says.
    find('own-password-form')?.dispatchEvent(new Event('submit', { cancelable: true }));
    await Promise.resolve();
    expect(writes).toEqual([]);
    expect(el.textContent).not.toContain('brand-new-passwor');
  });

  it('changes it: POST of the current and new one, the fields emptied and the tokens read again', async () => {
    const { type, click, find, text, writes, tokenRow } = await renderAccessPage({
      tokens: [MINE],
    });
    expect(tokenRow('export')).not.toBeNull();
    for (const [field, autocomplete] of [
      ['own-current', 'current-password'],
      ['own-new', 'new-password'],
      ['own-repeat', 'new-password'],
    ]) {
      expect(find<HTMLInputElement>(field)?.type).toBe('password');
      expect(find<HTMLInputElement>(field)?.getAttribute('autocomplete')).toBe(autocomplete);
    }
    await type('own-current', 'secret-password');
    await type('own-new', 'brand-new-password');
    await type('own-repeat', 'brand-new-password');
    await click('own-submit');
    expect(writes).toEqual([
      {
        method: 'POST',
        url: '/api/auth/password',
        body: { currentPassword: 'secret-password', newPassword: 'brand-new-password' },
      },
    ]);
    for (const field of ['own-current', 'own-new', 'own-repeat'])
      expect(find<HTMLInputElement>(field)?.value).toBe('');
    expect(text('own-notice')).toContain('Password changed');
    // The gateway revoked the admin's tokens with the change: the list says so.
    expect(tokenRow('export')).toBeNull();
  });

  it('says a wrong current password in words and keeps what was typed', async () => {
    const { type, click, find, text } = await renderAccessPage();
    await type('own-current', 'not-my-password');
    await type('own-new', 'brand-new-password');
    await type('own-repeat', 'brand-new-password');
    await click('own-submit');
    expect(text('own-error')).toBe('The current password is wrong.');
    expect(find<HTMLInputElement>('own-current')?.value).toBe('not-my-password');
    expect(find<HTMLInputElement>('own-new')?.value).toBe('brand-new-password');
  });
});
