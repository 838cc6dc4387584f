import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import expressStaticGzip from 'express-static-gzip';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

/**
 * Serve the built dashboard at `/` with an SPA fallback: any other GET that
 * asks for HTML gets index.html, so deep links work. Hashed files are cached for good
 * ({@link HASHED_ASSET}), everything else revalidated. A file with a precompressed sibling
 * (`.br`, `.gz`: the dashboard's build writes them, dashboard/scripts/precompress.mjs) is sent
 * compressed to a browser that accepts it, Brotli first, with `Vary: Accept-Encoding`; the
 * siblings are found once, when the gateway starts (decision 0045). `/api` and `/socket.io`
 * are never touched (unknown API routes stay JSON 404s from Nest).
 * Must be mounted before `app.init()` so it runs ahead of Nest's router.
 */
export function mountDashboard(
  app: NestExpressApplication,
  dir: string,
  logger = new Logger('Dashboard'),
): void {
  const index = join(dir, 'index.html');
  const built = existsSync(index);
  if (built) {
    // index.html and unhashed files (favicon) are revalidated on every load (maxAge 0, ETag);
    // hashed ones are cached for good (a new build names them anew). The root is resolved: the
    // library keys its siblings by the path after `dir`, which a trailing slash would shift.
    app.use(
      expressStaticGzip(resolve(dir), {
        enableBrotli: true,
        orderPreference: ['br', 'gzip'],
        index: 'index.html',
        serveStatic: {
          maxAge: 0,
          setHeaders: (res, path) => {
            if (HASHED_ASSET.test(path)) res.setHeader('Cache-Control', IMMUTABLE);
          },
        },
      }),
    );
    logger.log(`serving dashboard from ${dir}`);
  } else {
    logger.warn(
      `dashboard not found at ${dir}: serving a placeholder page (build it with \`npx nx build dashboard\`)`,
    );
  }
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/api' || req.path.startsWith('/api/') || req.path.startsWith('/socket.io'))
      return next();
    if (!req.accepts('html')) return next();
    if (built) return res.sendFile(index, { headers: { 'Cache-Control': 'no-cache' } });
    res.status(200).type('text/plain').send(NOT_BUILT(dir));
  });
}
