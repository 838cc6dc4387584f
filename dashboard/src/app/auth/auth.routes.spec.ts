import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { appRoutes } from '../app.routes';
import { AuthService } from '../core/auth/auth.service';
import { provideAuthRecheck } from './auth-recheck';
import { FETCH } from '../core/http/alerts-api';
import { LiveService } from '../core/live/live.service';
import { FakeAuthOptions, fakeAuthServer } from '../testing/fake-auth-server';
import { provideFakeLive } from '../testing/testbed';

/**
 * The app's routes over a fake auth server: where each kind of visitor lands. `gateway.down`:
 * every request fails as a network error does.
 */
async function boot(options: FakeAuthOptions) {
  const server = fakeAuthServer({
    ...options,
    other: () => ({ status: 200, body: { rules: [], events: [] } }),
  });
  const gateway = { down: false };
  const fetch = (input: RequestInfo | URL, init?: RequestInit) =>
    gateway.down ? Promise.reject(new TypeError('fetch failed')) : server.fetch(input, init);
  provideFakeLive([
    provideRouter(appRoutes),
    provideAuthRecheck(),
    { provide: FETCH, useValue: fetch },
  ]);
  const harness = await RouterTestingHarness.create();
  const router = TestBed.inject(Router);
  const el = () => harness.routeNativeElement as HTMLElement;
  const type = (testId: string, value: string) => {
    const input = el().querySelector(`[data-testid=${testId}]`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };
  const submit = async (testId: string) => {
    harness.detectChanges();
    (el().querySelector(`[data-testid=${testId}]`) as HTMLButtonElement).click();
    await settle();
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await harness.fixture.whenStable();
      harness.detectChanges();
    }
  };
  return { server, gateway, harness, router, el, type, submit, settle };
}

const ADMIN = { admin: { password: 'admin-password', role: 'admin' as const } };

describe('auth routes', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('a page opened while the gateway did not answer: its guards run again once it does', async () => {
    // Signed in as an admin (the session cookie), but the first /api/auth/me finds no gateway:
    // the admin page sends the visitor to sign in on the guess (an anonymous viewer).
    const { harness, router, gateway, settle } = await boot({
      accounts: ADMIN,
      anonymousRole: 'none',
      user: { username: 'admin', role: 'admin' },
    });
    gateway.down = true;
    await harness.navigateByUrl('/access');
    expect(router.url).toBe('/login?returnUrl=%2Faccess');
    // The gateway answers (the service's retry): back to where the admin was going.
    gateway.down = false;
    await TestBed.inject(AuthService).refresh();
    await settle();
    expect(router.url).toBe('/access');
  });

  it('a page let in on the guess is left once the gateway says anonymous viewing is off', async () => {
    const { harness, router, gateway, settle } = await boot({
      accounts: ADMIN,
      anonymousRole: 'none',
    });
    gateway.down = true;
    await harness.navigateByUrl('/alerts');
    expect(router.url).toBe('/alerts'); // the fallback: watch as an anonymous viewer
    gateway.down = false;
    await TestBed.inject(AuthService).refresh();
    await settle();
    expect(router.url).toBe('/login?returnUrl=%2Falerts');
  });

  it('leaves a visitor typing on the sign-in form there when the gateway answers that nobody is signed in', async () => {
    const { harness, router, gateway, settle, type, el } = await boot({
      accounts: ADMIN,
      anonymousRole: 'viewer',
    });
    gateway.down = true;
    await harness.navigateByUrl('/login?returnUrl=%2Falerts');
    type('login-username', 'adm');
    gateway.down = false;
    await TestBed.inject(AuthService).refresh();
    await settle();
    expect(router.url).toBe('/login?returnUrl=%2Falerts');
    expect((el().querySelector('[data-testid=login-username]') as HTMLInputElement).value).toBe(
      'adm',
    );
  });

  it('sends every page to /setup while no account exists', async () => {
    const { harness, router } = await boot({ accounts: {} });
    await harness.navigateByUrl('/alerts');
    expect(router.url).toBe('/setup');
    await harness.navigateByUrl('/login');
    expect(router.url).toBe('/setup');
  });

  it('lets anonymous viewers watch when the server allows it, and keeps /setup closed', async () => {
    const { harness, router } = await boot({ accounts: ADMIN, anonymousRole: 'viewer' });
    await harness.navigateByUrl('/alerts');
    expect(router.url).toBe('/alerts');
    await harness.navigateByUrl('/setup');
    expect(router.url).toBe('/login');
  });

  it('closes a live connection opened at boot when the visitor is sent to /login after all', async () => {
    const { harness, router } = await boot({ accounts: ADMIN, anonymousRole: 'none' });
    const live = TestBed.inject(LiveService);
    live.start(); // as app.config.ts does for a browser that could view last time
    expect(live.connection().phase).toBe('connecting');
    await harness.navigateByUrl('/');
    expect(router.url).toBe('/login');
    expect(live.connection().phase).toBe('idle');
  });

  it('sends an anonymous visitor to /login and back after signing in', async () => {
    const { harness, router, el, type, submit } = await boot({
      accounts: ADMIN,
      anonymousRole: 'none',
    });
    await harness.navigateByUrl('/alerts?tab=history');
    expect(router.url).toBe('/login?returnUrl=%2Falerts%3Ftab%3Dhistory');
    type('login-username', 'admin');
    type('login-password', 'wrong');
    await submit('login-submit');
    expect(el().querySelector('[data-testid=login-error]')?.textContent).toBe(
      'Wrong username or password.',
    );
    expect(router.url).toContain('/login');
    type('login-username', 'admin');
    type('login-password', 'admin-password');
    await submit('login-submit');
    expect(router.url).toBe('/alerts?tab=history');
  });

  it('keeps the password when the gateway stays busy checking other sign-ins, and signs in on the next click', async () => {
    const { server, harness, router, el, type, submit, settle } = await boot({
      accounts: ADMIN,
      anonymousRole: 'none',
    });
    await harness.navigateByUrl('/alerts');
    type('login-username', 'admin');
    type('login-password', 'admin-password');
    server.busy = 100;
    jest.useFakeTimers();
    try {
      harness.detectChanges();
      (el().querySelector('[data-testid=login-submit]') as HTMLButtonElement).click();
      await jest.advanceTimersByTimeAsync(10_000); // its tries again, 1 s apart
    } finally {
      jest.useRealTimers();
    }
    await settle();
    expect(el().querySelector('[data-testid=login-error]')?.textContent).toBe(
      'Pulse is busy checking other sign-ins; try again in a moment.',
    );
    const password = el().querySelector('[data-testid=login-password]') as HTMLInputElement;
    expect(password.value).toBe('admin-password');
    server.busy = 0;
    await submit('login-submit');
    expect(router.url).toBe('/alerts');
  });

  it('sends an anonymous viewer who opens an admin page to /login and back, not to the fleet', async () => {
    const { harness, router, type, submit } = await boot({
      accounts: ADMIN,
      anonymousRole: 'viewer',
    });
    await harness.navigateByUrl('/screens');
    expect(router.url).toBe('/login?returnUrl=%2Fscreens');
    type('login-username', 'admin');
    type('login-password', 'admin-password');
    await submit('login-submit');
    expect(router.url).toBe('/screens');
  });

  it('sends a signed-in user below admin from an admin page back to the fleet', async () => {
    const { harness, router, type, submit } = await boot({
      accounts: { ...ADMIN, vera: { password: 'vera-password', role: 'viewer' as const } },
      anonymousRole: 'none',
    });
    await harness.navigateByUrl('/screens');
    type('login-username', 'vera');
    type('login-password', 'vera-password');
    await submit('login-submit');
    expect(router.url).toBe('/');
  });

  it('opens /access to an admin only: an operator signed in is sent to the fleet', async () => {
    const accounts = { ...ADMIN, otto: { password: 'otto-password', role: 'operator' as const } };
    const { harness, router, el, type, submit } = await boot({ accounts, anonymousRole: 'none' });
    await harness.navigateByUrl('/access');
    expect(router.url).toBe('/login?returnUrl=%2Faccess');
    type('login-username', 'otto');
    type('login-password', 'otto-password');
    await submit('login-submit');
    expect(router.url).toBe('/');
    await harness.navigateByUrl('/access');
    expect(router.url).toBe('/');
    expect(el().querySelector('[data-testid=people]')).toBeNull();
  });

  it('never sends the wall to a sign-in page: it says it needs pairing or a sign-in', async () => {
    const { harness, router, el } = await boot({ accounts: ADMIN, anonymousRole: 'none' });
    await harness.navigateByUrl('/wall?group=hall-a');
    expect(router.url).toBe('/wall?group=hall-a');
    expect(el().querySelector('[data-testid=wall-locked] h1')?.textContent).toBe(
      'This screen needs to be paired or signed in',
    );
  });

  it('creates the first admin on /setup, asking for the setup code when the server does', async () => {
    const { harness, router, el, type, submit, server } = await boot({
      accounts: {},
      setupCode: 'K7-93Q',
    });
    await harness.navigateByUrl('/setup');
    expect(el().querySelector('[data-testid=setup-code]')).toBeNull();
    type('setup-password', 'long-password');
    type('setup-confirm', 'long-passwort');
    harness.detectChanges();
    expect(el().querySelector('[data-testid=setup-error]')?.textContent).toBe(
      'The two passwords differ.',
    );
    type('setup-confirm', 'long-password');
    await submit('setup-submit');
    expect(el().querySelector('[data-testid=setup-code-help]')?.textContent).toContain(
      'wrote it to the file setup-code in its data directory',
    );
    type('setup-code', 'K7-93Q');
    await submit('setup-submit');
    expect(server.accounts['admin']).toEqual({ password: 'long-password', role: 'admin' });
    expect(router.url).toBe('/');
  });

  it('tells the first admin what the dashboard offers it, people and tokens included', async () => {
    const { harness, el } = await boot({ accounts: {} });
    await harness.navigateByUrl('/setup');
    const intro = el()
      .querySelector('[data-testid=setup-intro]')
      ?.textContent?.replace(/\s+/g, ' ');
    expect(intro).toContain('pairs wall screens (Screens)');
    expect(intro).toContain('edits alert rules (Rules)');
    expect(intro).toContain('adds people and API tokens (Access)');
    expect(intro).not.toContain('no page here');
  });
});
