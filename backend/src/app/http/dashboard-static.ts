import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import expressStaticGzip from 'express-static-gzip';
import Negotiator from 'negotiator';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import serveStatic, { type ServeStaticOptions } from 'serve-static';

const NOT_BUILT = (dir: string) =>
  `Pulse backend is running, but the dashboard is not built (looked in ${dir}).\n` +
  'Build it with `npx nx build dashboard` (or `npm start`), or set DASHBOARD_DIR.\n' +
  'The API is at /api/health, /api/devices, /api/stats; live data on Socket.IO namespace /live.\n';

/**
 * A file the dashboard's build names by its content (Angular's output hashing: `main-4RSYYATY.js`,
 * `chunk-2F3T4KI2.js`, `styles-NXAYIHH5.css`, and their precompressed `.br` / `.gz` siblings): its
 * bytes never change under that name, so a browser may keep it for good and a reload asks for
 * `index.html` alone.
 */
const HASHED_ASSET = /-[A-Z0-9]{8}\.(js|css)(\.br|\.gz)?$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The forms a file may be sent in, and the order that breaks ties between equal weights. */
const ENCODINGS = ['br', 'gzip', 'identity'];
const SMALLEST_FIRST = ['br', 'gzip'];

/** negotiator 1.x's `encodings` with its `preferred` option, which @types/negotiator lacks. */
type EncodingNegotiator = {
  encodings(available: readonly string[], options: { preferred: readonly string[] }): string[];
};

/**
 * The forms of a file this request accepts, best first, as a list without weights: the library
 * keeps that order, takes the first form the file has a sibling for and stops at `identity`
 * (the file as it is). Nothing the request refused is in it; `identity` when it accepts nothing.
 */
function acceptedEncodings(req: Request): string {
  const negotiator: EncodingNegotiator = new Negotiator(req);
  const ranked = negotiator.encodings(ENCODINGS, { preferred: SMALLEST_FIRST });
  return ranked.length > 0 ? ranked.join(', ') : 'identity';
}

/** Paths the dashboard never answers: the API (JSON errors from Nest) and Socket.IO. */
const notDashboard = (path: string) =>
  path === '/api' || path.startsWith('/api/') || path.startsWith('/socket.io');

/**
 * Serve the built dashboard at `/` with an SPA fallback: any other GET that
 * asks for HTML gets index.html, so deep links work. Hashed files are cached for good
 * ({@link HASHED_ASSET}), everything else revalidated. A file with a precompressed sibling
 * (`.br`, `.gz`: the dashboard's build writes them, dashboard/scripts/precompress.mjs) is sent
 * compressed to a browser that accepts it, Brotli first, with `Vary: Accept-Encoding`; the
 * siblings are found once, when the gateway starts (decision 0045), and a sibling gone since
 * (a rebuild under a running gateway) means the file is sent as it is. `/api` and `/socket.io`
 * are never touched (unknown API routes stay JSON 404s from Nest).
 * Must be mounted before `app.init()` so it runs ahead of Nest's router.
 */
export function mountDashboard(
  app: NestExpressApplication,
  dir: string,
  logger = new Logger('Dashboard'),
): void {
  // Resolved once: the library keys its siblings by the path after the root (a trailing slash
  // would shift it), and sendFile needs an absolute path.
  const root = resolve(dir);
  const index = join(root, 'index.html');
  const built = existsSync(index);
  if (built) {
    // index.html and unhashed files (favicon) are revalidated on every load (maxAge 0, ETag);
    // hashed ones are cached for good (a new build names them anew).
    const files: ServeStaticOptions = {
      maxAge: 0,
      setHeaders: (res, path) => {
        if (HASHED_ASSET.test(path)) res.setHeader('Cache-Control', IMMUTABLE);
      },
    };
    const compressed = expressStaticGzip(root, {
      enableBrotli: true,
      index: 'index.html',
      serveStatic: files,
    });
    const plain = serveStatic(root, { ...files, index: 'index.html' });
    app.use((req: Request, res: Response, next: NextFunction) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || notDashboard(req.path)) return next();
      // Built names are plain ASCII: an escaped path (or a malformed one, which the library
      // would answer 400 itself) is only looked up as it is, or falls to the SPA below.
      if (req.path.includes('%')) return plain(req, res, next);
      // The library's own negotiation reads `*` as any encoding, even one refused with `q=0`
      // (`br;q=0, *` got Brotli), and its order went before the client's weights. negotiator
      // (Express's own) ranks the forms here, refusals left out, weights first, ties to the
      // smaller form, and the library is handed that ranking alone (restored for what follows).
      const asked = req.headers['accept-encoding'];
      req.headers['accept-encoding'] = acceptedEncodings(req);
      compressed(req, res, (err?: unknown) => {
        if (asked === undefined) delete req.headers['accept-encoding'];
        else req.headers['accept-encoding'] = asked;
        if (err) return next(err);
        // No such file, or its sibling is gone: the library has already labelled the answer
        // (encoding, type) for the sibling it expected, so unlabel it and look up the file.
        res.removeHeader('Content-Encoding');
        res.removeHeader('Content-Type');
        res.removeHeader('Vary');
        plain(req, res, next);
      });
    });
    logger.log(`serving dashboard from ${root}`);
  } else {
    logger.warn(
      `dashboard not found at ${root}: serving a placeholder page (build it with \`npx nx build dashboard\`)`,
    );
  }
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (notDashboard(req.path)) return next();
    if (!req.accepts('html')) return next();
    if (built) return res.sendFile(index, { headers: { 'Cache-Control': 'no-cache' } });
    res.status(200).type('text/plain').send(NOT_BUILT(root));
  });
}
