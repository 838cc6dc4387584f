import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { fakeAuthServer } from '../testing/fake-auth-server';
import { provideFakeLive, useFakeClock } from '../testing/testbed';
import { LoginPage } from './login.page';

@Component({ template: '<p>elsewhere</p>' })
class ElsewherePage {}

/**
 * `/login?returnUrl=/alerts` over a fake auth server whose login answers wait for `held` (when
 * given), with a page to leave to.
 */
async function openLogin(held?: Promise<void>) {
  const server = fakeAuthServer({
    anonymousRole: 'viewer',
    accounts: { ana: { password: 'ana-password', role: 'operator' } },
  });
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input) === '/api/auth/login' && held) await held;
    return server.fetch(input, init);
  };
  provideFakeLive([
    provideRouter([
      { path: 'login', component: LoginPage },
      { path: 'alerts', component: ElsewherePage },
      { path: 'elsewhere', component: ElsewherePage },
    ]),
    { provide: FETCH, useValue: fetch },
  ]);
  const harness = await RouterTestingHarness.create('/login?returnUrl=%2Falerts');
  const router = TestBed.inject(Router);
  const el = () => harness.routeNativeElement as HTMLElement;
  const type = (testId: string, value: string) => {
    const input = el().querySelector(`[data-testid=${testId}]`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };
  const signIn = async () => {
    type('login-username', 'ana');
    type('login-password', 'ana-password');
    harness.detectChanges();
    (el().querySelector('[data-testid=login-submit]') as HTMLButtonElement).click();
    await jest.advanceTimersByTimeAsync(0);
  };
  const logins = () => server.calls.filter((call) => call === 'POST /api/auth/login').length;
  return { server, harness, router, signIn, logins };
}

describe('LoginPage', () => {
  useFakeClock();

  it('signs in through a busy gateway and goes back where the person came from', async () => {
    const { server, router, signIn, logins } = await openLogin();
    server.busy = 1;
    await signIn();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(logins()).toBe(2);
    expect(router.url).toBe('/alerts');
  });

  it('stops trying a busy sign-in again once the person has left the page, and does not move them', async () => {
    const { server, harness, router, signIn, logins } = await openLogin();
    server.busy = 1;
    await signIn();
    expect(logins()).toBe(1); // answered busy: the retry waits
    await harness.navigateByUrl('/elsewhere');
    await jest.advanceTimersByTimeAsync(30_000);
    expect(logins()).toBe(1);
    expect(router.url).toBe('/elsewhere');
    expect(TestBed.inject(AuthService).user()).toBeNull();
  });

  it('lets a sign-in sent before the person left finish (they are signed in), but leaves them where they went', async () => {
    let answer!: () => void;
    const { harness, router, signIn, logins } = await openLogin(
      new Promise<void>((resolve) => (answer = resolve)),
    );
    await signIn();
    expect(logins()).toBe(0); // sent, not answered yet
    await harness.navigateByUrl('/elsewhere');
    answer();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(TestBed.inject(AuthService).user()).toEqual({ username: 'ana', role: 'operator' });
    expect(router.url).toBe('/elsewhere');
  });
});
