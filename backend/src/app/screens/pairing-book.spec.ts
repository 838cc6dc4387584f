import { SCREEN_LIMITS } from '@pulse/protocol';
import { networkOf, PairingBook, siteOf } from './pairing-book';

describe('PairingBook', () => {
  const limits = {
    maxPending: 4,
    maxPendingPerAddress: 2,
    maxPendingPerPrefix: 3,
    maxPendingPerSite: 5,
    ttlMs: 60_000,
    idleMs: 60_000,
  };
  let sut: PairingBook;
  beforeEach(() => (sut = new PairingBook(limits)));

  it('hands out distinct readable codes and unguessable pairing ids', () => {
    const a = sut.start('10.0.0.1', 0);
    const b = sut.start('10.0.0.2', 0);
    if (typeof a === 'string' || typeof b === 'string') throw new Error('refused');
    expect(a.code).toMatch(new RegExp(`^[${SCREEN_LIMITS.codeAlphabet}]{6}$`));
    expect(a.code).not.toMatch(/[01OI]/);
    expect(a.code).not.toBe(b.code);
    expect(Buffer.from(a.pairingId, 'base64url')).toHaveLength(16);
    expect(sut.waiting(a.code, 1)).toBe(a);
    expect(sut.poll(a.pairingId, 1)).toBe(a);
  });

  it('bounds pending codes per address and in all; expired ones make room', () => {
    expect(typeof sut.start('10.0.0.1', 0)).toBe('object');
    expect(typeof sut.start('10.0.0.1', 0)).toBe('object');
    expect(sut.start('10.0.0.1', 0)).toBe('address_full');
    expect(typeof sut.start('10.0.1.2', 0)).toBe('object');
    expect(typeof sut.start('10.0.2.3', 0)).toBe('object');
    expect(sut.start('10.0.3.4', 0)).toBe('full');
    // 60 s later every code has expired: room again.
    expect(typeof sut.start('10.0.0.1', 60_000)).toBe('object');
    expect(sut.size).toBe(1);
  });

  it('bounds pending codes per network (IPv4 /24, IPv6 /64), whatever its number of addresses', () => {
    expect(typeof sut.start('192.0.2.1', 0)).toBe('object');
    expect(typeof sut.start('192.0.2.2', 0)).toBe('object');
    expect(typeof sut.start('::ffff:192.0.2.3', 0)).toBe('object');
    expect(sut.start('192.0.2.4', 0)).toBe('network_full');
    expect(typeof sut.start('2001:db8:0:1::1', 0)).toBe('object');
    expect(sut.size).toBe(4);
    const wide = new PairingBook({ ...limits, maxPending: 100 });
    for (let i = 1; i <= 3; i++) expect(typeof wide.start(`2001:db8::${i}:1`, 0)).toBe('object');
    expect(wide.start('2001:0db8:0000:0000:ffff::9', 0)).toBe('network_full');
    expect(typeof wide.start('2001:db8:0:1::9', 0)).toBe('object');
  });

  it('bounds pending codes per IPv6 /48, however many /64s it holds (a home /56 has 256)', () => {
    const wide = new PairingBook({ ...limits, maxPending: 100 });
    // Two codes from each of three /64s of one /48 (and an IPv4 /24 beside: not a site).
    for (const net of ['2001:db8:7:1', '2001:db8:7:2'])
      for (const host of [1, 2]) expect(typeof wide.start(`${net}::${host}`, 0)).toBe('object');
    expect(typeof wide.start('2001:db8:7:3::1', 0)).toBe('object');
    expect(wide.start('2001:db8:7:4::1', 0)).toBe('site_full');
    expect(wide.start('2001:db8:7:ff00::1', 0)).toBe('site_full');
    // Another /48, and IPv4, still get codes.
    expect(typeof wide.start('2001:db8:8:1::1', 0)).toBe('object');
    for (let i = 1; i <= 3; i++) expect(typeof wide.start(`10.9.${i}.1`, 0)).toBe('object');
    expect(siteOf('2001:db8:7:4::1')).toBe('2001:db8:7::/48');
    expect(siteOf('2001:DB8:7::')).toBe('2001:db8:7::/48');
    expect(siteOf('10.9.1.1')).toBeNull();
  });

  it('names each address by its network', () => {
    expect(networkOf('192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('::ffff:192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(networkOf('2001:0DB8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(networkOf('2001:db8:1:2:3::')).toBe('2001:db8:1:2::/64');
    expect(networkOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(networkOf('::1')).toBe('0:0:0:0::/64');
    expect(networkOf('unknown')).toBe('unknown');
  });

  it('drops a code its wall stopped polling for, making room; one that is polled stays', () => {
    sut = new PairingBook({ ...limits, ttlMs: 600_000 });
    const polled = sut.start('10.0.0.1', 0);
    const forgotten = sut.start('10.0.1.1', 0);
    if (typeof polled === 'string' || typeof forgotten === 'string') throw new Error('refused');
    for (let t = 2_000; t < 59_000; t += 2_000) expect(sut.poll(polled.pairingId, t)).toBe(polled);
    expect(sut.waiting(forgotten.code, 59_999)).toBe(forgotten);
    expect(sut.waiting(forgotten.code, 60_000)).toBeUndefined();
    expect(sut.poll(forgotten.pairingId, 60_000)).toBeUndefined();
    expect(sut.poll(polled.pairingId, 60_000)).toBe(polled);
    expect(typeof sut.start('10.0.2.1', 60_000)).toBe('object');
    expect(sut.size).toBe(2);
  });

  it('forgets an expired code and one already paired', () => {
    const pending = sut.start('10.0.0.1', 0);
    if (typeof pending === 'string') throw new Error('refused');
    expect(sut.waiting(pending.code, 60_000)).toBeUndefined();
    expect(sut.poll(pending.pairingId, 60_000)).toBeUndefined();
    pending.screenId = 'screen-1';
    expect(sut.waiting(pending.code, 1)).toBeUndefined();
    expect(sut.poll(pending.pairingId, 1)).toBe(pending);
    sut.removeScreen('screen-1');
    expect(sut.poll(pending.pairingId, 1)).toBeUndefined();
  });
});
