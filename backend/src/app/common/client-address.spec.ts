import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ClientAddress } from './client-address';

// Real requests to a real HTTP server on loopback, sent from chosen loopback addresses (Linux
// routes all of 127/8 to loopback), with and without the headers a proxy adds.
describe('ClientAddress', () => {
  let server: Server;
  let port: number;
  let handle: (req: IncomingMessage) => unknown;

  beforeAll(async () => {
    server = createServer((req, res) => res.end(JSON.stringify(handle(req))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** What `check` says of a request from `from` carrying `headers`. */
  function seen<T>(
    check: (req: IncomingMessage) => T,
    from: string,
    headers: Record<string, string> = {},
  ): Promise<T> {
    handle = check;
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, localAddress: from, headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as T));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('without TRUST_PROXY: the peer, whatever the headers say', async () => {
    const addresses = new ClientAddress([]);
    const of = (req: IncomingMessage) => addresses.of(req);
    expect(await seen(of, '127.0.0.2')).toBe('127.0.0.2');
    expect(await seen(of, '127.0.0.2', { 'x-forwarded-for': '203.0.113.9' })).toBe('127.0.0.2');
  });

  it('behind trusted proxies: the right-most forwarded address that is not one of them', async () => {
    const addresses = new ClientAddress(['127.0.0.2', '10.0.0.0/8']);
    const of = (req: IncomingMessage) => addresses.of(req);
    // The proxy appended the client it saw (203.0.113.9); what the client wrote before it is not believed.
    expect(
      await seen(of, '127.0.0.2', { 'x-forwarded-for': '198.51.100.1, 203.0.113.9, 10.1.2.3' }),
    ).toBe('203.0.113.9');
    // Not from a trusted proxy: the header is ignored.
    expect(await seen(of, '127.0.0.3', { 'x-forwarded-for': '203.0.113.9' })).toBe('127.0.0.3');
  });

  it('is "from this machine" only for a loopback client that no unknown proxy forwarded', async () => {
    const plain = new ClientAddress([]);
    const local = (req: IncomingMessage) => plain.isLocal(req);
    expect(await seen(local, '127.0.0.1')).toBe(true);
    // A proxy on this machine that the gateway was not told of: every client would look local.
    expect(await seen(local, '127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).toBe(false);
    expect(await seen(local, '127.0.0.1', { forwarded: 'for=203.0.113.9' })).toBe(false);
    expect(await seen(local, '127.0.0.1', { 'x-real-ip': '203.0.113.9' })).toBe(false);
    // A trusted proxy on this machine: the client it forwarded decides.
    const proxied = new ClientAddress(['loopback']);
    const behind = (req: IncomingMessage) => proxied.isLocal(req);
    expect(await seen(behind, '127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).toBe(false);
    expect(await seen(behind, '127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).toBe(true);
  });

  it('refuses a TRUST_PROXY entry that is not an address, a range or a known name', () => {
    expect(() => new ClientAddress(['nginx.local'])).toThrow();
  });
});
