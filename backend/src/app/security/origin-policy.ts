import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHostHeader } from '../common/loopback';

/**
 * Which browser origins may open `/live` and write over HTTP. Pure: no Nest, no I/O; the
 * entry guard applies it and counts what it refuses (docs/decisions/0008-entry-point-hardening.md).
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;
  private readonly sameHost: boolean;

  /**
   * `allowed`: ALLOWED_ORIGINS (exact origins, already validated). Unset: the gateway's own
   * origin — the Origin whose host is the request's Host — plus http://localhost:PORT,
   * http://127.0.0.1:PORT and http://[::1]:PORT.
   */
  constructor(allowed: readonly string[] | undefined, port: number) {
    this.sameHost = allowed === undefined;
    this.allowed = new Set(
      allowed ?? ['localhost', '127.0.0.1', '[::1]'].map((host) => `http://${host}:${port}`),
    );
  }

  /** Whether a request from `origin` (an Origin header value) with Host `host` is allowed. */
  allows(origin: string, host: string | undefined): boolean {
    const url = parseHttpUrl(origin);
    if (!url) return false; // `null` (sandboxed frames, file://) and anything unparsable
    if (this.allowed.has(url.origin)) return true;
    if (!this.sameHost || !host) return false;
    const own = parseHttpUrl(`${url.protocol}//${host}`);
    return own !== null && own.host === url.host;
  }
}

/**
 * Which names (Host headers) may reach the gateway: on a gateway only this machine can reach
 * (a loopback HOST, no proxy in front: `npm start`'s default), its own loopback names and the
 * hosts of ALLOWED_ORIGINS; anything else is a page that rebound its own name to 127.0.0.1 (DNS
 * rebinding), which would otherwise pass every same-origin check (its Origin and Host agree),
 * read what anonymous viewers may and make the first admin "from this machine". Beyond
 * loopback or behind proxies the names are the deployment's, unknown here: every Host passes
 * (docs/decisions/0008-entry-point-hardening.md). Pure: the entry guard applies it.
 */
export class HostPolicy {
  private readonly named: ReadonlySet<string>;

  constructor(
    private readonly restricted: boolean,
    allowedOrigins: readonly string[] | undefined,
  ) {
    this.named = new Set(
      (allowedOrigins ?? []).flatMap((origin) => {
        const url = parseHttpUrl(origin);
        return url ? [url.host.toLowerCase()] : [];
      }),
    );
  }

  allows(host: string | undefined): boolean {
    if (!this.restricted || isLoopbackHostHeader(host)) return true;
    return host !== undefined && this.named.has(host.toLowerCase());
  }
}

/**
 * The origin a browser says a request comes from: its Origin header, else the origin of its
 * Referer (older browsers omit Origin on some same-page POSTs), else undefined — a script,
 * curl or a device, which is not a browser page and passes the origin check. A Referer that
 * does not parse is returned as is, so it is refused rather than ignored.
 */
export function requestOrigin(headers: IncomingHttpHeaders): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined) return origin;
  const referer = headers.referer;
  if (referer === undefined) return undefined;
  return parseHttpUrl(referer)?.origin ?? referer;
}

/** The URL when `text` is an http(s) URL, else null. */
function parseHttpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
