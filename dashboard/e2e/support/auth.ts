/**
 * Signing in for the browser tests: a stack environment with its own data directory (users,
 * sessions) and a seeded admin, and the sign-in, sign-out and user-creation steps a person or
 * an admin's script takes. Owns nothing the tests share beyond that; the stack itself comes
 * from @pulse/test-support (`startBuiltBackend`) and the browser from ./browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '@pulse/protocol';
import type { Page } from 'playwright-core';

export { E2E_ADMIN_PASSWORD } from '@pulse/test-support';

/**
 * Environment for `startBuiltBackend`: a DATA_DIR this spec removes (`remove()`, after the
 * backend is gone) and keeps across restarts, and, when `seedAdmin` is false, no seeded admin
 * (startBuiltBackend seeds `admin` with E2E_ADMIN_PASSWORD otherwise; an empty variable is unset).
 */
export function authEnv(options: { seedAdmin?: boolean } = {}): {
  env: Record<string, string>;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-e2e-data-'));
  return {
    env: {
      DATA_DIR: dir,
      ...(options.seedAdmin === false ? { PULSE_ADMIN_PASSWORD: '' } : {}),
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Sign in through `/login` as a person would; resolves once the header names the user. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  if (!new URL(page.url()).pathname.startsWith('/login')) {
    await page.getByTestId('sign-in').click();
    await page.getByTestId('login-form').waitFor({ timeout: 10_000 });
  }
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 });
  await page.locator('[data-testid=user-name]', { hasText: username }).waitFor({ timeout: 10_000 });
}

export async function signOut(page: Page): Promise<void> {
  await page.getByTestId('sign-out').click();
  await page.getByTestId('sign-in').waitFor({ timeout: 10_000 });
}

/**
 * Create a user as the admin signed in on `page` (`POST /api/users` from the page, with its
 * session cookie, as an admin's script in the browser would); returns the password.
 */
export async function createUser(page: Page, username: string, role: Role): Promise<string> {
  const password = `${username}-password`;
  const status = await page.evaluate(
    async (body) =>
      (
        await fetch('/api/users', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).status,
    { username, password, role },
  );
  if (status !== 201) throw new Error(`POST /api/users ${username}: HTTP ${status}`);
  return password;
}
