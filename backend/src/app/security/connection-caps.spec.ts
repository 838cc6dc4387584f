import { ConnectionCaps, normalizeIp } from './connection-caps';

describe('ConnectionCaps', () => {
  const sut = () => new ConnectionCaps({ total: 4, perIp: 2, exempt: ['127.0.0.1'] });

  it('refuses the connection over the per-IP cap, and takes one again once one closes', () => {
    const caps = sut();
    const first = caps.open('10.0.0.1');
    expect(typeof caps.open('10.0.0.1')).toBe('function');
    expect(caps.open('::ffff:10.0.0.1')).toBe('per_ip');
    expect(typeof caps.open('10.0.0.2')).toBe('function');
    (first as () => void)();
    (first as () => void)(); // a second release changes nothing
    expect(caps.count).toBe(2);
    expect(typeof caps.open('10.0.0.1')).toBe('function');
  });

  it('counts admit/release pairs the same way, without a function per connection', () => {
    const caps = sut();
    expect(caps.admit('10.0.0.1')).toBeNull();
    expect(caps.admit('::ffff:10.0.0.1')).toBeNull();
    expect(caps.admit('10.0.0.1')).toBe('per_ip');
    expect(caps.count).toBe(2);
    caps.release('::ffff:10.0.0.1');
    expect(caps.count).toBe(1);
    expect(caps.admit('10.0.0.1')).toBeNull();
    caps.release('10.0.0.1');
    caps.release('10.0.0.1');
    caps.release('10.0.0.1'); // more releases than admits: nothing goes below zero
    caps.release('10.0.0.7'); // nor for an address never admitted
    expect(caps.count).toBe(0);
    expect(caps.admit('10.0.0.1')).toBeNull();
    expect(caps.admit('10.0.0.1')).toBeNull();
    expect(caps.admit('10.0.0.1')).toBe('per_ip');
  });

  it('holds exempt addresses to the total only', () => {
    const caps = sut();
    for (let i = 0; i < 4; i++) expect(typeof caps.open('::ffff:127.0.0.1')).toBe('function');
    expect(caps.open('127.0.0.1')).toBe('total');
    expect(caps.open('10.0.0.9')).toBe('total');
  });

  it('compares IPv4-mapped IPv6 as IPv4', () => {
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp(undefined)).toBe('unknown');
  });
});
