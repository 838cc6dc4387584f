import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import type { NextFunction, Request, Response } from 'express';

/** Responses smaller than this go as they are: under a packet, compressing saves nothing. */
export const API_COMPRESSION_THRESHOLD_BYTES = 1024;

/** A read of the API: the only requests whose answers may be compressed. */
const apiRead = (req: Request) =>
  (req.method === 'GET' || req.method === 'HEAD') && req.path.startsWith('/api/');

/**
 * Whether an API response may be compressed: reads only (GET; the library answers HEAD with
 * the uncompressed length) under `/api/`, of a compressible type (the library's own check: JSON
 * and Prometheus text are, images are not), and not marked `Cache-Control: no-store`. Answers to
 * writes are never compressed: a new bearer token, a device's secret or a screen's display token
 * is returned once, in the answer to a POST, and a compressed body holding a secret beside input
 * an attacker chose leaks the secret through its length (BREACH). No read answers with a secret
 * today; one that ever does must say `no-store`, which keeps it out of here too.
 */
export function compressible(req: Request, res: Response): boolean {
  if (!apiRead(req)) return false;
  if (/\bno-store\b/i.test(String(res.getHeader('Cache-Control') ?? ''))) return false;
  return compression.filter(req, res);
}

/**
 * Compresses the API's reads for clients that accept it (decision 0047): Brotli (quality 4, the
 * library's default for dynamic content), gzip or deflate, chosen from `Accept-Encoding`. An
 * open overview asks for its page of the fleet summary once a second (at 1,000 devices ~10 kB a
 * second on the wire as it is, ~3 kB compressed) and the device list is 287 kB (12 kB): on a wall
 * screen's Wi-Fi or a phone, bytes a screen waits for. zlib runs on libuv's thread pool, not on
 * the event loop. Every read says `Vary: Accept-Encoding`, a 304 too (the library adds it only
 * to what it compresses, and Express keeps it on a 304, as HTTP asks). The dashboard's files are
 * precompressed by its build (dashboard-static.ts, untouched here: not under `/api/`); Socket.IO
 * is not behind Express. Mount after the security headers and before the dashboard and Nest's
 * router.
 */
export function mountApiCompression(app: NestExpressApplication): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (apiRead(req)) res.vary('Accept-Encoding');
    next();
  });
  app.use(compression({ filter: compressible, threshold: API_COMPRESSION_THRESHOLD_BYTES }));
}
