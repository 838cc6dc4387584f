import type { Router } from '@angular/router';

/*
 * Where the sign-in page sends the user back to: the `returnUrl` query parameter, kept to
 * paths of this app. Owns that rule and the one navigation to `/login` that carries it.
 */

/**
 * Go to `/login`, coming back to the page shown now. Read at the click, not at render: a
 * header link rendered once would keep the URL of the first page.
 */
export function goToLogin(router: Router, event?: Event): void {
  event?.preventDefault();
  void router.navigate(['/login'], { queryParams: loginQuery(router.url) ?? {} });
}

/** Query parameters of a link to `/login` that comes back to `url`. */
export function loginQuery(url: string): { returnUrl: string } | null {
  const back = safeReturnUrl(url);
  return back === '/' ? null : { returnUrl: back };
}

/**
 * `raw` if it is a path inside this app (never another origin: `//host`, `/\\host` or a
 * scheme), and not the sign-in or first-run page itself; '/' otherwise.
 */
export function safeReturnUrl(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (/^\/(login|setup)(?:[/?#]|$)/.test(raw)) return '/';
  return raw;
}
