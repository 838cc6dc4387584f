import { inject } from '@angular/core';
import { CanActivateFn, CanMatchFn, Router } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { LiveService } from '../core/live/live.service';
import { loginQuery } from './return-url';

/*
 * Route guards: where the server's auth state sends a visitor (first run → /setup; anonymous
 * viewing off and nobody signed in → /login, and back afterwards). They only read AuthService
 * and return redirects; they must not call the auth API themselves. The wall is never sent to
 * a sign-in page (see `wallAllowed`). `inject()` comes before any `await`: after it there is no
 * injection context.
 */

/** Pages of the app (fleet, device, alerts). */
export const viewGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  const live = inject(LiveService);
  await auth.ready();
  // Not let in after all (signed out elsewhere, first run): the connection opened at boot
  // (core/live/early-start.ts) would only be refused and retried.
  if (auth.setupRequired() || !auth.canView()) live.stop();
  if (auth.setupRequired()) return router.createUrlTree(['/setup']);
  if (auth.canView()) return true;
  return router.createUrlTree(['/login'], { queryParams: loginQuery(state.url) ?? {} });
};

/**
 * Admin pages (screens, access): as {@link viewGuard}; a signed-in user or screen below admin goes back
 * to the fleet, and a visitor not signed in (an anonymous viewer too: it may be the admin) to
 * /login and back.
 */
export const adminGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  await auth.ready();
  if (auth.setupRequired()) return router.createUrlTree(['/setup']);
  if (auth.isAdmin()) return true;
  if (auth.user() !== null || auth.screen() !== null) return router.createUrlTree(['/']);
  return router.createUrlTree(['/login'], { queryParams: loginQuery(state.url) ?? {} });
};

/** `/login`: first run goes to /setup instead. */
export const loginGuard: CanActivateFn = async () => {
  const auth = inject(AuthService);
  const router = inject(Router);
  await auth.ready();
  return auth.setupRequired() ? router.createUrlTree(['/setup']) : true;
};

/** `/setup`: only while the server says no account exists yet. */
export const setupGuard: CanActivateFn = async () => {
  const auth = inject(AuthService);
  const router = inject(Router);
  await auth.ready();
  return auth.setupRequired() ? true : router.createUrlTree(['/login']);
};

/** Whether `/wall` shows the wall; otherwise the "needs to be paired" screen matches. */
export const wallAllowed: CanMatchFn = async () => {
  const auth = inject(AuthService);
  const live = inject(LiveService);
  await auth.ready();
  const allowed = !auth.setupRequired() && auth.canView();
  if (!allowed) live.stop(); // opened at boot, would only be refused (see viewGuard)
  return allowed;
};
