import { PasswordChecks, passwordChecksMax } from './password-checks';

describe('passwordChecksMax', () => {
  it('leaves a core and a threadpool thread for the rest, 1 to 4', () => {
    expect(passwordChecksMax(1, 4)).toBe(1);
    expect(passwordChecksMax(2, 4)).toBe(1);
    expect(passwordChecksMax(4, 4)).toBe(3);
    expect(passwordChecksMax(16, 4)).toBe(3);
    expect(passwordChecksMax(16, 64)).toBe(4);
  });
});

describe('PasswordChecks', () => {
  it('runs up to max checks at once and refuses the next without running it, until one ends', async () => {
    const sut = new PasswordChecks(2);
    const ends: (() => void)[] = [];
    const check = () => new Promise<void>((resolve) => ends.push(resolve));
    const first = sut.run(check);
    const second = sut.run(check);
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    const ran = jest.fn(check);
    expect(sut.run(ran)).toBeNull();
    expect(ran).not.toHaveBeenCalled();
    ends[0]();
    await first;
    expect(sut.inFlight).toBe(1);
    expect(sut.run(check)).not.toBeNull();
  });

  it('frees the slot of a check that fails', async () => {
    const sut = new PasswordChecks(1);
    await expect(sut.run(() => Promise.reject(new Error('bad hash')))).rejects.toThrow('bad hash');
    expect(sut.inFlight).toBe(0);
  });
});
