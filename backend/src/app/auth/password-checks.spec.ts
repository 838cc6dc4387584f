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
  it('runs up to max checks at once, lines up a few more, and refuses the next without running it', async () => {
    const sut = new PasswordChecks(2, 1);
    const ends: (() => void)[] = [];
    const check = () => new Promise<void>((resolve) => ends.push(resolve));
    const first = sut.run(check);
    const second = sut.run(check);
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    const waited = jest.fn(check);
    const third = sut.run(waited);
    expect(third).not.toBeNull();
    expect(waited).not.toHaveBeenCalled();
    const ran = jest.fn(check);
    expect(sut.run(ran)).toBeNull();
    expect(ran).not.toHaveBeenCalled();
    // The first ends: the one in line takes its slot.
    ends[0]();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toHaveBeenCalled();
    expect(sut.inFlight).toBe(2);
    expect(sut.run(check)).not.toBeNull(); // in line again
    ends[1]();
    ends[2]();
    await Promise.all([second, third]);
  });

  it('frees the slot of a check that fails', async () => {
    const sut = new PasswordChecks(1);
    await expect(sut.run(() => Promise.reject(new Error('bad hash')))).rejects.toThrow('bad hash');
    expect(sut.inFlight).toBe(0);
  });
});
