import { HostPolicy, OriginPolicy, requestOrigin } from './origin-policy';

describe('OriginPolicy', () => {
  it('by default allows the origin of the Host the request was sent to, and localhost on PORT', () => {
    const sut = new OriginPolicy(undefined, 3000);
    expect(sut.allows('http://pulse.lan:3000', 'pulse.lan:3000')).toBe(true);
    expect(sut.allows('https://pulse.example.com', 'pulse.example.com')).toBe(true);
    expect(sut.allows('http://pulse.example.com', 'pulse.example.com:80')).toBe(true);
    expect(sut.allows('http://localhost:3000', 'proxy:8080')).toBe(true);
    expect(sut.allows('http://127.0.0.1:3000', undefined)).toBe(true);
    expect(sut.allows('http://evil.example', 'pulse.lan:3000')).toBe(false);
    expect(sut.allows('http://pulse.lan:3001', 'pulse.lan:3000')).toBe(false);
    expect(sut.allows('null', 'pulse.lan:3000')).toBe(false);
    expect(sut.allows('file://', 'pulse.lan:3000')).toBe(false);
  });

  it('with ALLOWED_ORIGINS allows exactly those origins, whatever the Host', () => {
    const sut = new OriginPolicy(['https://pulse.example.com'], 3000);
    expect(sut.allows('https://pulse.example.com', 'internal:3000')).toBe(true);
    expect(sut.allows('http://internal:3000', 'internal:3000')).toBe(false);
    expect(sut.allows('http://localhost:3000', 'localhost:3000')).toBe(false);
  });
});

describe('HostPolicy', () => {
  it("on a loopback gateway serves this machine's own names and ALLOWED_ORIGINS' hosts only", () => {
    const sut = new HostPolicy(true, ['https://pulse.example.com']);
    for (const host of [
      'localhost:3000',
      'LOCALHOST',
      'pulse.localhost:3000',
      '127.0.0.1:3000',
      '127.1.2.3',
      '[::1]:3000',
      '[::1]',
      'pulse.example.com',
    ])
      expect([host, sut.allows(host)]).toEqual([host, true]);
    for (const host of [
      'evil.example:3000',
      '127.evil.example',
      'localhost.evil.example',
      '10.0.0.5:3000',
      '[::2]:3000',
      'pulse.example.com:8443',
      '',
      undefined,
    ])
      expect([host, sut.allows(host)]).toEqual([host, false]);
  });

  it('beyond loopback or behind a proxy lets every name through (they are the deployment’s)', () => {
    const sut = new HostPolicy(false, undefined);
    expect(sut.allows('pulse.lan:3000')).toBe(true);
    expect(sut.allows(undefined)).toBe(true);
  });
});

describe('requestOrigin', () => {
  it('reads Origin, else the origin of Referer, else nothing', () => {
    expect(requestOrigin({ origin: 'http://a', referer: 'http://b/x' })).toBe('http://a');
    expect(requestOrigin({ referer: 'http://b:8080/page?q=1' })).toBe('http://b:8080');
    expect(requestOrigin({ referer: 'not a url' })).toBe('not a url');
    expect(requestOrigin({})).toBeUndefined();
  });
});
