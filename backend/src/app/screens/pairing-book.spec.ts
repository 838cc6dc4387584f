import { SCREEN_LIMITS } from '@pulse/protocol';
import { PairingBook } from './pairing-book';

describe('PairingBook', () => {
  const limits = { maxPending: 4, maxPendingPerAddress: 2, ttlMs: 60_000 };
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
    expect(sut.find(a.pairingId, 1)).toBe(a);
  });

  it('bounds pending codes per address and in all; expired ones make room', () => {
    expect(typeof sut.start('10.0.0.1', 0)).toBe('object');
    expect(typeof sut.start('10.0.0.1', 0)).toBe('object');
    expect(sut.start('10.0.0.1', 0)).toBe('address_full');
    expect(typeof sut.start('10.0.0.2', 0)).toBe('object');
    expect(typeof sut.start('10.0.0.3', 0)).toBe('object');
    expect(sut.start('10.0.0.4', 0)).toBe('full');
    // 60 s later every code has expired: room again.
    expect(typeof sut.start('10.0.0.1', 60_000)).toBe('object');
    expect(sut.size).toBe(1);
  });

  it('forgets an expired code and one already paired', () => {
    const pending = sut.start('10.0.0.1', 0);
    if (typeof pending === 'string') throw new Error('refused');
    expect(sut.waiting(pending.code, 60_000)).toBeUndefined();
    expect(sut.find(pending.pairingId, 60_000)).toBeUndefined();
    pending.screenId = 'screen-1';
    expect(sut.waiting(pending.code, 1)).toBeUndefined();
    expect(sut.find(pending.pairingId, 1)).toBe(pending);
    sut.removeScreen('screen-1');
    expect(sut.find(pending.pairingId, 1)).toBeUndefined();
  });
});
