import { AUTH_LIMITS } from '@pulse/protocol/core';
import { renderAccessPage } from '../testing/access-page';
import { useFakeClock } from '../testing/testbed';

const MIN = AUTH_LIMITS.minPasswordLength;
const TEAM = [
  { username: 'ann', role: 'admin' as const },
  { username: 'otto', role: 'operator' as const },
];

/**
 * What a screen reader says after a field's label: the text of every element its
 * `aria-describedby` names, in order. Every id named must be on the page, once.
 */
function description(field: HTMLElement | null): string {
  if (!field) throw new Error('no such field');
  const ids = (field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  return ids
    .map((id) => {
      const found = document.querySelectorAll(`[id="${id}"]`);
      if (found.length !== 1)
        throw new Error(`aria-describedby names #${id}: ${found.length} on the page`);
      return (found[0].textContent ?? '').replace(/\s+/g, ' ').trim();
    })
    .join(' ');
}

/** Whether a screen reader says the field is invalid. */
const invalid = (field: HTMLElement | null) => field?.getAttribute('aria-invalid') === 'true';

describe('AccessPage fields name their hint and their error', () => {
  useFakeClock();

  it('adding a person: the field the hint is about is invalid and described by it, the other not', async () => {
    const { type, find } = await renderAccessPage();
    const username = () => find<HTMLInputElement>('person-username');
    const password = () => find<HTMLInputElement>('person-password');
    await type('person-password', 'short');
    expect([invalid(username()), description(username())]).toEqual([true, 'Choose a username.']);
    expect([invalid(password()), description(password())]).toEqual([false, '']);

    await type('person-username', 'vera');
    expect([invalid(username()), description(username())]).toEqual([false, '']);
    expect([invalid(password()), description(password())]).toEqual([
      true,
      `The password needs at least ${MIN} characters.`,
    ]);

    await type('person-password', 'vera-password-1');
    expect([invalid(password()), description(password())]).toEqual([false, '']);
  });

  it("adding a person the gateway refuses: the fields are described by the gateway's words", async () => {
    const { type, click, find, refuseNext } = await renderAccessPage({ users: TEAM });
    await type('person-username', 'otto');
    await type('person-password', 'otto-password-2');
    refuseNext(409, { statusCode: 409, error: 'Conflict', message: 'user "otto" exists' });
    await click('person-add');
    expect(description(find('person-username'))).toBe('user "otto" exists');
    expect(description(find('person-password'))).toBe('user "otto" exists');
  });

  it("someone's new password: described by its hint, invalid while too short", async () => {
    const { click, type, find, personRow } = await renderAccessPage({ users: TEAM });
    await click('person-set-password', personRow('otto') ?? undefined);
    const field = () => find<HTMLInputElement>('person-new-password');
    expect(description(field())).toBe(
      `At least ${MIN} characters. Signs otto out everywhere and revokes their API tokens.`,
    );
    expect(invalid(field())).toBe(false);
    await type('person-new-password', 'short');
    expect(invalid(field())).toBe(true);
    await type('person-new-password', 'otto-new-password');
    expect(invalid(field())).toBe(false);
  });

  it('a token whose expiry is out of range: that field is invalid and described by why', async () => {
    const { type, click, find } = await renderAccessPage();
    await type('token-name', 'export');
    await type('token-days', '0');
    await click('token-create');
    const days = find<HTMLInputElement>('token-days');
    expect(invalid(days)).toBe(true);
    expect(description(days)).toMatch(/^Expiry: a number of days from more than 0 to \d+\.$/);
    expect([invalid(find('token-name')), description(find('token-name'))]).toEqual([false, '']);
  });

  it('a token whose expiry was refused before sending: fixed, the mark and the words go as it is typed', async () => {
    const { type, click, find } = await renderAccessPage();
    await type('token-name', 'export');
    await type('token-days', '0');
    await click('token-create');
    const days = () => find<HTMLInputElement>('token-days');
    expect(invalid(days())).toBe(true);
    // Still out of range: still marked.
    await type('token-days', '-3');
    expect(invalid(days())).toBe(true);
    expect(description(days())).toMatch(/^Expiry: a number of days from more than 0 to \d+\.$/);
    await type('token-days', '30');
    expect([invalid(days()), description(days())]).toEqual([false, '']);
    expect(find('tokens-error')).toBeNull();
  });

  it("a token the gateway refuses: the form's fields are described by its words", async () => {
    const { type, click, find, refuseNext } = await renderAccessPage();
    await type('token-name', 'one too many');
    refuseNext(409, {
      statusCode: 409,
      error: 'Conflict',
      message: 'at most 50 live tokens per user: revoke one first',
    });
    await click('token-create');
    for (const field of ['token-name', 'token-days', 'token-groups']) {
      expect(description(find(field))).toBe('at most 50 live tokens per user: revoke one first');
      expect(invalid(find(field))).toBe(false);
    }
  });

  it('your password: each problem marks the field it is about, described by it', async () => {
    const { type, find } = await renderAccessPage();
    const [current, next, repeat] = ['own-current', 'own-new', 'own-repeat'].map(
      (id) => () => find<HTMLInputElement>(id),
    );
    const state = () =>
      [current, next, repeat].map((field) => [invalid(field()), description(field())]);
    await type('own-new', 'short');
    expect(state()).toEqual([
      [true, 'Enter your current password.'],
      [false, ''],
      [false, ''],
    ]);
    await type('own-current', 'secret-password');
    expect(state()).toEqual([
      [false, ''],
      [true, `The new password needs at least ${MIN} characters.`],
      [false, ''],
    ]);
    await type('own-new', 'brand-new-password');
    await type('own-repeat', 'brand-new-passwort');
    expect(state()).toEqual([
      [false, ''],
      [false, ''],
      [true, 'The two new passwords differ.'],
    ]);
    await type('own-repeat', 'brand-new-password');
    expect(state()).toEqual([
      [false, ''],
      [false, ''],
      [false, ''],
    ]);
  });

  it('your password, a wrong current one: that field is invalid and described by the refusal', async () => {
    const { type, click, find } = await renderAccessPage();
    await type('own-current', 'not-my-password');
    await type('own-new', 'brand-new-password');
    await type('own-repeat', 'brand-new-password');
    await click('own-submit');
    const current = find<HTMLInputElement>('own-current');
    expect([invalid(current), description(current)]).toEqual([
      true,
      'The current password is wrong.',
    ]);
    expect(invalid(find('own-new'))).toBe(false);
  });
});
