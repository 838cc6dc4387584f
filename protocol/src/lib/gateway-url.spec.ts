import { urlHost } from './gateway-url';

describe('urlHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['0.0.0.0', '127.0.0.1'],
    ['::', '127.0.0.1'],
    ['', '127.0.0.1'],
    ['::1', '[::1]'],
    ['pulse.example.com', 'pulse.example.com'],
  ])('names a gateway bound to %j as %j in a URL', (host, expected) => {
    expect(urlHost(host)).toBe(expected);
  });
});
