import express from 'express';
import type { AddressInfo } from 'node:net';
import { request, Server } from 'node:http';
import { forwardedProtocol } from './forwarded-proto';

/** GET / from `from` with `headers` on a real Express app with `sut` mounted first. */
async function seen(
  sut: express.RequestHandler,
  from: string,
  headers: Record<string, string>,
): Promise<{ protocol: string; secure: boolean; ip: string; hostname: string }> {
  const app = express();
  app.use(sut);
  app.get('/', (req, res) => {
    res.json({ protocol: req.protocol, secure: req.secure, ip: req.ip, hostname: req.hostname });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', localAddress: from, headers },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(JSON.parse(body)));
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

// Real: Express and proxy-addr on a loopback port; 127.0.0.1 is the trusted proxy, 127.0.0.2 not.
describe('forwardedProtocol', () => {
  const forwarded = {
    'x-forwarded-proto': 'https',
    'x-forwarded-for': '203.0.113.9',
    'x-forwarded-host': 'evil.example',
    host: 'pulse.lan:3000',
  };
  const sut = forwardedProtocol(['127.0.0.1']);

  it('takes the protocol from a trusted proxy, and nothing else: req.ip and req.hostname stay', async () => {
    expect(await seen(sut, '127.0.0.1', forwarded)).toEqual({
      protocol: 'https',
      secure: true,
      ip: '127.0.0.1',
      hostname: 'pulse.lan',
    });
    // The first entry: the one the proxy facing the client wrote (Express's rule).
    expect(
      await seen(sut, '127.0.0.1', { ...forwarded, 'x-forwarded-proto': 'https, http' }),
    ).toMatchObject({ protocol: 'https', secure: true });
    expect(
      await seen(sut, '127.0.0.1', { ...forwarded, 'x-forwarded-proto': 'gopher' }),
    ).toMatchObject({ protocol: 'http', secure: false });
  });

  it('ignores the header from any other peer, and without TRUST_PROXY from everyone', async () => {
    expect(await seen(sut, '127.0.0.2', forwarded)).toEqual({
      protocol: 'http',
      secure: false,
      ip: '127.0.0.2',
      hostname: 'pulse.lan',
    });
    expect(await seen(forwardedProtocol([]), '127.0.0.1', forwarded)).toMatchObject({
      protocol: 'http',
      secure: false,
      ip: '127.0.0.1',
    });
  });
});
