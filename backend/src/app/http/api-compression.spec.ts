import type { Request, Response } from 'express';
import { compressible } from './api-compression';

/** What the filter reads of a request and a response: the method, the path, the type and caching. */
const req = (method: string, path: string) => ({ method, path, headers: {} }) as Request;
const res = (type?: string, cacheControl?: string) =>
  ({
    getHeader: (name: string) =>
      ({ 'content-type': type, 'cache-control': cacheControl })[name.toLowerCase()],
  }) as Response;

describe('compressible', () => {
  const jsonType = 'application/json; charset=utf-8';

  it('lets the API reads through: JSON and Prometheus text (HEAD too: the library sends its length as is)', () => {
    expect(compressible(req('GET', '/api/fleet/summary'), res(jsonType))).toBe(true);
    expect(compressible(req('HEAD', '/api/devices'), res(jsonType))).toBe(true);
    expect(
      compressible(req('GET', '/api/metrics'), res('text/plain; version=0.0.4; charset=utf-8')),
    ).toBe(true);
  });

  it('never compresses the answer to a write: a token or a device secret is returned once there (BREACH)', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect(compressible(req(method, '/api/devices/d-1/credentials'), res(jsonType))).toBe(false);
  });

  it('never compresses a read marked no-store (where a secret would have to be)', () => {
    expect(compressible(req('GET', '/api/devices'), res(jsonType, 'no-store'))).toBe(false);
    expect(compressible(req('GET', '/api/devices'), res(jsonType, 'private, No-Store'))).toBe(
      false,
    );
    expect(compressible(req('GET', '/api/devices'), res(jsonType, 'no-cache'))).toBe(true);
  });

  it('leaves everything outside /api/ alone (the dashboard files are precompressed) and what does not compress', () => {
    expect(compressible(req('GET', '/main-4RSYYATY.js'), res('text/javascript'))).toBe(false);
    expect(compressible(req('GET', '/apix/devices'), res(jsonType))).toBe(false);
    expect(compressible(req('GET', '/api/devices'), res('image/png'))).toBe(false);
    expect(compressible(req('GET', '/api/devices'), res())).toBe(false);
  });
});
