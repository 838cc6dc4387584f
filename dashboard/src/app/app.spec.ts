import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { App } from './app';
import { appRoutes } from './app.routes';
import { FETCH } from './core/http/alerts-api';
import { fakeAuthServer } from './testing/fake-auth-server';
import { provideFakeLive } from './testing/testbed';

describe('App (the header)', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('marks the page shown in the navigation, whatever the query parameters of its URL', async () => {
    const server = fakeAuthServer({
      accounts: { admin: { password: 'admin-password', role: 'admin' } },
      anonymousRole: 'viewer',
      other: () => ({ status: 503, body: { message: 'not in this spec' } }),
    });
    provideFakeLive([provideRouter(appRoutes), { provide: FETCH, useValue: server.fetch }]);
    const fixture = TestBed.createComponent(App);
    const router = TestBed.inject(Router);
    const current = async (url: string) => {
      await router.navigateByUrl(url);
      await fixture.whenStable();
      const el = fixture.nativeElement as HTMLElement;
      return [...el.querySelectorAll('nav a.on')].map((a) => a.textContent?.trim());
    };
    expect(await current('/')).toEqual(['Fleet']);
    expect(await current('/?sort=severity&transport=polling')).toEqual(['Fleet']);
    expect(await current('/alerts?tab=history')).toEqual(['Alerts']);
  });

  it.each([
    ['an admin', 'admin', true],
    ['an operator', 'operator', false],
  ] as const)('links Screens and Access for %s: %s', async (_who, role, shown) => {
    const server = fakeAuthServer({
      user: { username: 'someone', role },
      other: () => ({ status: 503, body: { message: 'not in this spec' } }),
    });
    provideFakeLive([provideRouter(appRoutes), { provide: FETCH, useValue: server.fetch }]);
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    for (const link of ['nav-screens', 'nav-access'])
      expect(el.querySelector(`[data-testid=${link}]`) !== null).toBe(shown);
  });
});
