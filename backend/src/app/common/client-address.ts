import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import { isLoopbackAddress, isLoopbackHostHeader } from './loopback';

/** Headers a proxy adds to a request it forwards. */
const FORWARDED_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

/**
 * Who sent a request: the peer's address, or behind trusted proxies (TRUST_PROXY) the
 * right-most address of `X-Forwarded-For` that is not one of them, read by proxy-addr (Express's
 * own). A client cannot choose it: a proxy appends the address it saw, and the walk stops at
 * the first untrusted one. Used wherever an address decides something: the per-IP connection
 * caps, the login and pairing rate keys, "from this machine" for the first admin. In `common/`:
 * owns no state beyond the compiled trust and must not import any feature folder.
 */
export class ClientAddress {
  private readonly trust: ((address: string, i: number) => boolean) | null;

  constructor(trustProxy: readonly string[]) {
    // IPs, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`; throws on anything else.
    this.trust = trustProxy.length > 0 ? proxyaddr.compile([...trustProxy]) : null;
  }

  /** The client's address (`unknown` for a socket already closed). */
  of(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return 'unknown';
    if (!this.trust) return peer;
    return proxyaddr(req, this.trust);
  }

  /**
   * The request comes from this machine: its client address is loopback, it names this machine
   * (a page that rebound its own name to 127.0.0.1 sends that name as Host: DNS rebinding), and
   * it did not pass through a proxy this gateway does not know of (a proxy on this machine would
   * otherwise make every client look local). A peer that is not a trusted proxy but sends
   * forwarded headers is such a proxy, TRUST_PROXY or not.
   */
  isLocal(req: IncomingMessage): boolean {
    if (!isLoopbackHostHeader(req.headers.host)) return false;
    if (!isLoopbackAddress(this.of(req))) return false;
    const peer = req.socket.remoteAddress;
    if (this.trust && peer !== undefined && this.trust(peer, 0)) return true;
    return FORWARDED_HEADERS.every((name) => req.headers[name] === undefined);
  }
}
