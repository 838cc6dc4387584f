/*
 * Where the sign-in page sends the user back to: the `returnUrl` query parameter, kept to
 * paths of this app. Owns that rule only; it must not navigate.
 */

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
