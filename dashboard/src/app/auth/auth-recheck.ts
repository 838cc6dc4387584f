import {
  EnvironmentProviders,
  effect,
  inject,
  provideEnvironmentInitializer,
  untracked,
} from '@angular/core';
import { Router } from '@angular/router';
import { AuthService } from '../core/auth/auth.service';
import { safeReturnUrl } from './return-url';

/*
 * The guards again once the gateway answers who we are: a page opened while `/api/auth/me` found
 * no gateway was let in, or sent to sign in, on the fallback guess (an anonymous viewer). When
 * the answer comes, the page the visitor was sent to sign in from is tried again (signed in
 * after all, it opens), and the page shown is checked again (first run: /setup; anonymous
 * viewing off: /login). Owns that one re-navigation; the decisions stay the guards'.
 */

/** Run the current page's guards again when the auth state stops being a guess. */
export function provideAuthRecheck(): EnvironmentProviders {
  return provideEnvironmentInitializer(() => {
    const auth = inject(AuthService);
    const router = inject(Router);
    let guessing = false;
    effect(() => {
      const provisional = auth.provisional();
      if (guessing && !provisional) untracked(() => void recheck(router, auth));
      guessing = provisional;
    });
  });
}

function recheck(router: Router, auth: AuthService): Promise<boolean> {
  const tree = router.parseUrl(router.url);
  const onLogin = tree.root.children['primary']?.segments[0]?.path === 'login';
  const returnUrl = tree.queryParams['returnUrl'] as string | undefined;
  if (onLogin) {
    // Signed in after all (the session cookie): back to where they were going (its guard
    // decides). Not signed in: the form stays as it is, whatever they typed into it.
    if (auth.setupRequired()) return router.navigateByUrl('/setup');
    if (auth.user() === null) return Promise.resolve(false);
    return router.navigateByUrl(safeReturnUrl(returnUrl));
  }
  return router.navigateByUrl(router.url, { onSameUrlNavigation: 'reload' });
}
