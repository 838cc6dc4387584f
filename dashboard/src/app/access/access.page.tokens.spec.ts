import { By } from '@angular/platform-browser';
import { renderAccessPage } from '../testing/access-page';
import { T0, useFakeClock } from '../testing/testbed';
import { TokensComponent } from './tokens.component';

const HOUR = 3_600_000;
const TOKENS = [
  { id: 'tok-a', name: 'export', createdAt: T0 - HOUR, expiresAt: T0 + 2 * HOUR, owner: 'ann' },
  {
    id: 'tok-b',
    name: 'hall-a board',
    createdAt: T0 - HOUR,
    expiresAt: T0 + 48 * HOUR,
    groups: ['hall-a'],
    lastUsedAt: T0 - 90_000, // written once a minute: in use now
    owner: 'ann',
  },
  {
    id: 'tok-c',
    name: 'otto script',
    createdAt: T0,
    expiresAt: T0 + HOUR,
    lastUsedAt: T0 - 3 * HOUR,
    owner: 'otto',
  },
];
const TEAM = [
  { username: 'ann', role: 'admin' as const },
  { username: 'otto', role: 'operator' as const },
];

describe('AccessPage tokens', () => {
  useFakeClock();

  it("lists the admin's live tokens with their scope and expiry, and anyone else's on request", async () => {
    const { tokenRow, text, choose, server } = await renderAccessPage({
      users: TEAM,
      tokens: TOKENS,
    });
    expect(text('token-scope', tokenRow('export') ?? undefined)).toBe('all groups');
    expect(text('token-expires', tokenRow('export') ?? undefined)).toBe('in 2 h');
    expect(text('token-scope', tokenRow('hall-a board') ?? undefined)).toBe('hall-a');
    expect(text('token-expires', tokenRow('hall-a board') ?? undefined)).toBe('in 2 d');
    // When each was last used: an admin looks for tokens nobody uses any more.
    expect(text('token-last-used', tokenRow('export') ?? undefined)).toBe('never');
    expect(text('token-last-used', tokenRow('hall-a board') ?? undefined)).toBe('just now');
    expect(tokenRow('otto script')).toBeNull();
    // Display tokens are another page's.
    expect(text('tokens')).toContain("Wall screens' display tokens are managed on Screens");

    await choose('token-owner', 'otto');
    expect(server.calls).toContain('GET /api/auth/tokens?user=otto');
    expect(tokenRow('otto script')).not.toBeNull();
    expect(text('token-last-used', tokenRow('otto script') ?? undefined)).toBe('3 h ago');
    expect(tokenRow('export')).toBeNull();
  });

  it('creates a token: POST of name, expiry in seconds and groups; the secret is shown once, then gone', async () => {
    const { type, click, find, text, writes, tokenRow, fixture } = await renderAccessPage();
    await type('token-name', ' nightly export ');
    await type('token-days', '7');
    await type('token-groups', 'hall-a, hall-b,');
    await click('token-create');
    expect(writes).toEqual([
      {
        method: 'POST',
        url: '/api/auth/tokens',
        body: { name: 'nightly export', ttlSeconds: 7 * 86_400, groups: ['hall-a', 'hall-b'] },
      },
    ]);
    const secret = find<HTMLInputElement>('token-secret');
    expect(secret?.value).toBe('secret-of-tok-1');
    expect(secret?.readOnly).toBe(true);
    expect(document.activeElement).toBe(secret);
    expect(text('tokens')).toContain('it will not be shown again');
    expect(text('token-scope', tokenRow('nightly export') ?? undefined)).toBe('hall-a, hall-b');
    expect(find<HTMLInputElement>('token-name')?.value).toBe('');

    const tokens = fixture.debugElement.query(By.directive(TokensComponent)).componentInstance as {
      created: () => unknown;
    };
    await click('token-dismiss');
    expect(find('token-secret')).toBeNull();
    expect(tokens.created()).toBeNull();
    expect(fixture.nativeElement.textContent).not.toContain('secret-of-tok-1');
  });

  it('drops the secret when the page is left', async () => {
    const { type, click, fixture } = await renderAccessPage();
    await type('token-name', 'ci');
    await click('token-create');
    const tokens = fixture.debugElement.query(By.directive(TokensComponent)).componentInstance as {
      created: () => { secret: string } | null;
    };
    expect(tokens.created()?.secret).toBe('secret-of-tok-1');
    fixture.destroy();
    expect(tokens.created()).toBeNull();
  });

  it('copies the secret to the clipboard', async () => {
    const writeText = jest.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    try {
      const { type, click, text } = await renderAccessPage();
      await type('token-name', 'ci');
      await click('token-create');
      await click('token-copy');
      expect(writeText).toHaveBeenCalledWith('secret-of-tok-1');
      expect(text('token-copied')).toBe('Copied.');
    } finally {
      delete (navigator as { clipboard?: unknown }).clipboard;
    }
  });

  it('sends a token with no expiry typed as the gateway’s default, and refuses a wrong one itself', async () => {
    const { type, click, text, find, writes } = await renderAccessPage();
    await type('token-name', 'ci');
    await type('token-days', '45');
    await click('token-create');
    expect(writes).toEqual([]);
    expect(text('tokens-error')).toBe('Expiry: a number of days from more than 0 to 30.');
    expect(find<HTMLInputElement>('token-days')?.value).toBe('45');
    await type('token-days', '');
    await click('token-create');
    expect(writes).toEqual([{ method: 'POST', url: '/api/auth/tokens', body: { name: 'ci' } }]);
    expect(find('tokens-error')).toBeNull();
  });

  it("keeps the form and says the gateway's words when it refuses a token", async () => {
    const { type, click, text, find, refuseNext } = await renderAccessPage();
    await type('token-name', 'one too many');
    refuseNext(409, {
      statusCode: 409,
      error: 'Conflict',
      message: 'at most 50 live tokens per user: revoke one first',
    });
    await click('token-create');
    expect(text('tokens-error')).toBe('at most 50 live tokens per user: revoke one first');
    expect(find<HTMLInputElement>('token-name')?.value).toBe('one too many');
    expect(find('token-secret')).toBeNull();
  });

  it('revokes a token only on the second click; Keep, first and focused, keeps it', async () => {
    const { click, find, writes, tokenRow } = await renderAccessPage({ tokens: TOKENS });
    await click('token-revoke', tokenRow('export') ?? undefined);
    expect(writes).toEqual([]);
    expect(document.activeElement).toBe(find('token-revoke-keep'));
    await click('token-revoke-keep');
    expect(writes).toEqual([]);
    expect(tokenRow('export')).not.toBeNull();

    await click('token-revoke', tokenRow('export') ?? undefined);
    await click('token-revoke-confirm');
    expect(writes).toEqual([{ method: 'DELETE', url: '/api/auth/tokens/tok-a', body: undefined }]);
    expect(tokenRow('export')).toBeNull();
  });
});
