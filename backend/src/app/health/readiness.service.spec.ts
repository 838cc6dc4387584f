import { ReadinessChecks } from './readiness.service';

describe('ReadinessChecks', () => {
  it('is ready when every check passes, and names the ones that do not', async () => {
    const sut = new ReadinessChecks();
    sut.register('returns', () => true);
    sut.register('resolves', async () => undefined);
    sut.register('says-no', () => false);
    sut.register('throws', () => {
      throw new Error('refused');
    });
    sut.register('rejects', () => Promise.reject(new Error('refused')));
    expect(await sut.run()).toEqual({
      ready: false,
      checks: {
        returns: 'ok',
        resolves: 'ok',
        'says-no': 'failed',
        throws: 'failed',
        rejects: 'failed',
      },
    });
  });

  it('counts a check that does not answer in time as failed', async () => {
    const sut = new ReadinessChecks();
    sut.register('hangs', () => new Promise(() => undefined));
    const started = Date.now();
    expect(await sut.run(50)).toEqual({ ready: false, checks: { hangs: 'failed' } });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a second check under one name', () => {
    const sut = new ReadinessChecks();
    sut.register('redis', () => true);
    expect(() => sut.register('redis', () => true)).toThrow(/registered twice/);
  });
});
