import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import helmet from 'helmet';
import { EntryGuard } from './entry-guard.service';
import { forwardedProtocol } from './forwarded-proto';
import { SecurityCounters } from './security-counters.service';

/**
 * Largest JSON request body: body-parser's default, which Nest used before its parsers were
 * replaced here (a rule or an ack is well under 10 KB).
 */
export const JSON_BODY_LIMIT = '100kb';

/** HSTS: a year; no includeSubDomains (Pulse does not own its parent domain's other hosts). */
const HSTS = { maxAge: 31_536_000, includeSubDomains: false };

/** A Host header safe to echo into a CSP source (the header is outside input). */
const HOST_PATTERN = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `connect-src` for the dashboard's Socket.IO connection: 'self' plus ws/wss of the host the
 * page was loaded from (older browsers do not count ws: as 'self').
 */
function connectSources(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && HOST_PATTERN.test(host) ? `'self' ws://${host} wss://${host}` : "'self'";
}

/**
 * Hardens Nest's Express app before anything is routed: security headers (helmet), the
 * origin and content-type checks of {@link EntryGuard}, and a JSON-only body parser. The app
 * must be created with `bodyParser: false` (Nest's urlencoded and text parsers stay off) and
 * this called before `listen()`/`init()` and before any other middleware; `tls` when it serves
 * HTTPS (adds HSTS); `trustProxy` the TRUST_PROXY list: a request a trusted proxy says came over
 * HTTPS (`X-Forwarded-Proto`) is secure (`req.secure`: the session cookie is Secure) and gets
 * HSTS too. Owns the headers
 * and the parser; the Socket.IO server (not behind Express) is guarded by
 * `EntryGuard.allowSocketRequest` where it is built.
 */
export function hardenHttp(
  app: NestExpressApplication,
  { tls, trustProxy }: { tls: boolean; trustProxy: readonly string[] },
): void {
  // First: everything after it (the cookie's Secure, HSTS) reads the protocol the client used.
  app.use(forwardedProtocol(trustProxy));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'base-uri': ["'self'"],
          'connect-src': [connectSources],
          'font-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'img-src': ["'self'", 'data:'],
          'object-src': ["'none'"],
          'script-src': ["'self'"],
          'script-src-attr': ["'none'"],
          // No inline styles either: the dashboard has no component styles (no <style> injected)
          // and sets styles through the CSSOM only, which CSP does not govern. Every browser
          // test fails on a CSP violation (dashboard/e2e/support/browser.ts).
          'style-src': ["'self'"],
        },
      },
      frameguard: { action: 'deny' },
      // `no-referrer` would make browsers send `Origin: null` on the dashboard's own POSTs
      // (Fetch spec, "append a request Origin header"); `same-origin` leaks nothing elsewhere.
      referrerPolicy: { policy: 'same-origin' },
      // Over TLS the browser is told to stay on HTTPS. Over plain HTTP the header is ignored by
      // browsers anyway and would only confuse.
      strictTransportSecurity: tls ? HSTS : false,
    }),
  );
  // Behind a TLS-terminating proxy: HSTS on the answers to requests that were HTTPS at the proxy
  // (req.secure, from a trusted X-Forwarded-Proto), never to plain HTTP ones.
  if (!tls && trustProxy.length > 0) {
    const hsts = helmet.strictTransportSecurity(HSTS);
    app.use((req: Request, res: Response, next: NextFunction) =>
      req.secure ? hsts(req, res, next) : next(),
    );
  }
  app.use(app.get(EntryGuard).checkHost);
  app.use(app.get(EntryGuard).checkWrite);
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(refuseUnreadableBodies(app.get(SecurityCounters)));
}

/** What a client is told when body-parser refuses its body, by status (never the parser's own words). */
const BODY_REFUSALS: Record<number, { error: string; message: string }> = {
  400: { error: 'Bad Request', message: 'the request body is not JSON this gateway can read' },
  413: { error: 'Payload Too Large', message: `request bodies are at most ${JSON_BODY_LIMIT}` },
  415: {
    error: 'Unsupported Media Type',
    message: 'the request body is in a content encoding or charset this gateway does not read',
  },
};

/**
 * Express error middleware after the body parser: a body it refused (too large, not JSON, a
 * content encoding it cannot read or a gzip stream that is not one) is answered with its 4xx
 * and a message of ours, and counted (`http_body`, logged at most once per 10 s). Without it
 * the refusal reached Nest's exception handler, which logged every one at error level with a
 * stack (anyone could fill the log) and told the client zlib's own message. Any other error
 * goes on to Nest.
 */
export function refuseUnreadableBodies(counters: SecurityCounters) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    const status = (error as { status?: unknown } | null)?.status;
    const refusal = typeof status === 'number' ? BODY_REFUSALS[status] : undefined;
    if (!refusal || typeof status !== 'number') return next(error);
    const type = (error as { type?: unknown }).type;
    counters.refuse(
      'http_body',
      `${req.method} ${req.path}: ${status} ${typeof type === 'string' ? type : 'unreadable body'}`,
    );
    // A body cut short or longer than announced is not a JSON problem: say which.
    const cut = type === 'request.size.invalid' || type === 'request.aborted';
    res.status(status).json({
      statusCode: status,
      error: refusal.error,
      message: cut ? 'the request body did not match its Content-Length' : refusal.message,
    });
  };
}
