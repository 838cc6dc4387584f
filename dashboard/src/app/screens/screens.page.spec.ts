import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { fakeAuthServer } from '../testing/fake-auth-server';
import { provideFakeLive, renderWithFakeTime, useFakeClock } from '../testing/testbed';
import { ScreensPage } from './screens.page';

/**
 * The Screens page of an admin, over a gateway with no screen paired that answers the next
 * write with `refusal` (status and body as the gateway sends them).
 */
async function render(refusal: { status: number; body: unknown }) {
  const server = fakeAuthServer({
    user: { username: 'ann', role: 'admin' },
    other: (url, init) => {
      if (url === '/api/screens' && (init?.method ?? 'GET') === 'GET')
        return { status: 200, body: { screens: [] } };
      return refusal;
    },
  });
  provideFakeLive([provideRouter([]), { provide: FETCH, useValue: server.fetch }]);
  await TestBed.inject(AuthService).ready();
  const { el, settle } = renderWithFakeTime(ScreensPage);
  await settle();
  const type = (key: string, value: string) => {
    const input = el.querySelector<HTMLInputElement>(
      `[data-testid=screen-${key}]`,
    ) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };
  type('code', 'K7MP2X');
  type('name', 'Hall A');
  await settle();
  (el.querySelector('[data-testid=screen-submit]') as HTMLButtonElement).click();
  for (let i = 0; i < 4; i++) await settle();
  return el.querySelector('[data-testid=screen-error]')?.textContent?.trim();
}

// The page's calls go through the sign-in forms' request helper, whose wording is for those
// forms: a refusal here must say what the gateway said, not "An account already exists".
describe('ScreensPage refusals', () => {
  useFakeClock();

  it.each([
    [409, 'at most 20 screens: revoke one first', 'at most 20 screens: revoke one first'],
    [404, 'no wall shows the code K7MP2X (expired?)', 'no wall shows the code K7MP2X (expired?)'],
    [401, 'Unauthorized', 'Signed out: sign in again to manage screens.'],
    [403, 'Forbidden resource', 'Only admins manage screens.'],
  ])('a %s says what the gateway meant', async (status, message, shown) => {
    expect(await render({ status, body: { statusCode: status, message } })).toBe(shown);
  });

  it('a 503 with nothing said (a proxy before a gateway that is down) says so in words', async () => {
    // The pairing may have reached the gateway before it stopped answering: the list will say.
    expect(await render({ status: 503, body: undefined })).toBe(
      'The gateway is unavailable right now; try again in a moment. ' +
        'The change may or may not have been made: look before sending it again.',
    );
  });

  it("a 400 lists the gateway's issues", async () => {
    expect(
      await render({
        status: 400,
        body: { statusCode: 400, message: ['board: at most 500 characters'] },
      }),
    ).toBe('board: at most 500 characters');
  });
});

describe('ScreensPage revoking a screen', () => {
  useFakeClock();

  /** An admin's Screens page listing one paired wall, "Hall A"; a DELETE of it is taken. */
  async function renderPaired() {
    let screens = [
      {
        id: 'scr-1',
        name: 'Hall A',
        board: 'cols=2',
        groups: null,
        createdAt: Date.now(),
        createdBy: 'ann',
        expiresAt: Date.now() + 86_400_000,
        connected: true,
        transport: 'websocket',
        lastSeen: Date.now(),
        lagEvents: 0,
      },
    ];
    const deletes: string[] = [];
    let held: Promise<void> | null = null;
    let release: () => void = () => undefined;
    const server = fakeAuthServer({
      user: { username: 'ann', role: 'admin' },
      other: (url, init) => {
        if (init?.method === 'DELETE') {
          deletes.push(url);
          screens = screens.filter((s) => url !== `/api/screens/${s.id}`);
          return { status: 204, body: null };
        }
        return { status: 200, body: { screens } };
      },
    });
    // With `hold()`, the answer to the DELETE waits for `release()`.
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const answer = server.fetch(input, init);
      if (init?.method === 'DELETE' && held) await held;
      return answer;
    };
    provideFakeLive([provideRouter([]), { provide: FETCH, useValue: fetch }]);
    await TestBed.inject(AuthService).ready();
    const { el, settle } = renderWithFakeTime(ScreensPage);
    for (let i = 0; i < 3; i++) await settle();
    const find = (testId: string) => el.querySelector<HTMLElement>(`[data-testid=${testId}]`);
    const settled = async () => {
      for (let i = 0; i < 4; i++) await settle();
    };
    const click = async (testId: string) => {
      find(testId)?.click();
      await settled();
    };
    const row = () => el.querySelector('.screen-row[data-screen-name="Hall A"]');
    return {
      el,
      find,
      click,
      settled,
      row,
      deletes,
      hold: () => (held = new Promise<void>((resolve) => (release = resolve))),
      release: () => release(),
    };
  }

  it('asks first: one click revokes nothing, Keep (first, focused) keeps it and gives the focus back', async () => {
    const { el, find, click, row, deletes } = await renderPaired();
    expect(row()).not.toBeNull();
    await click('screen-revoke');
    expect(deletes).toEqual([]);
    const question = el.querySelector('.screen-row [role=group]');
    expect(question?.textContent).toContain('Revoke Hall A?');
    expect(question?.textContent).toContain('It disconnects at once and shows a new code.');
    const keep = find('screen-revoke-keep');
    expect(document.activeElement).toBe(keep);
    expect(keep?.compareDocumentPosition(find('screen-revoke-confirm') as Node)).toBe(
      Node.DOCUMENT_POSITION_FOLLOWING,
    );
    await click('screen-revoke-keep');
    expect(deletes).toEqual([]);
    expect(row()).not.toBeNull();
    expect(find('screen-revoke-confirm')).toBeNull();
    expect(document.activeElement).toBe(find('screen-revoke'));
  });

  it('revokes on the second click, and the screen leaves the list', async () => {
    const { click, row, deletes } = await renderPaired();
    await click('screen-revoke');
    await click('screen-revoke-confirm');
    expect(deletes).toEqual(['/api/screens/scr-1']);
    expect(row()).toBeNull();
  });

  it('while the revocation is under way its button says "Revoking…" and cannot be clicked', async () => {
    const { find, click, settled, row, deletes, hold, release } = await renderPaired();
    hold();
    await click('screen-revoke');
    await click('screen-revoke-confirm');
    expect(deletes).toEqual(['/api/screens/scr-1']);
    const confirm = find('screen-revoke-confirm') as HTMLButtonElement;
    expect([confirm.textContent?.trim(), confirm.disabled]).toEqual(['Revoking…', true]);
    release();
    await settled();
    expect(row()).toBeNull();
  });
});
