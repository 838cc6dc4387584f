import type { NextFunction, Request, RequestHandler, Response } from 'express';
import proxyaddr from 'proxy-addr';

/**
 * Behind a TLS-terminating proxy the gateway speaks plain HTTP: the protocol the client used is
 * in the proxy's `X-Forwarded-Proto`. This sets `req.protocol` (and so `req.secure`, which reads
 * it) from that header when, and only when, the peer is one of the proxies TRUST_PROXY names,
 * with the rule of Express's own `trust proxy` (the header's first entry; proxy-addr decides
 * trust, as for the client's address in common/client-address.ts). It only ever says `https`:
 * a request that came over the gateway's own TLS stays secure whatever a header says. Anyone
 * else's header is ignored, and without TRUST_PROXY nothing changes.
 *
 * Not Express's `app.set('trust proxy')`: that would also move `req.ip` and `req.hostname` onto
 * `X-Forwarded-For` and `X-Forwarded-Host`; the client's address is read in one place
 * (ClientAddress) and nothing else should start reading those headers (decision 0031).
 */
export function forwardedProtocol(trustProxy: readonly string[]): RequestHandler {
  if (trustProxy.length === 0) return (_req, _res, next) => next();
  const trusted = proxyaddr.compile([...trustProxy]);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const peer = req.socket.remoteAddress;
    const header = req.headers['x-forwarded-proto'];
    if (peer !== undefined && typeof header === 'string' && trusted(peer, 0)) {
      // An own property in front of Express's getter (on the request prototype) for this request.
      if (header.split(',')[0].trim().toLowerCase() === 'https')
        Object.defineProperty(req, 'protocol', { value: 'https', configurable: true });
    }
    next();
  };
}
