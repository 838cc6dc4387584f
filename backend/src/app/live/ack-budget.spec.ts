import { AckBudget } from './ack-budget';

describe('AckBudget', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('serves at once while the budget lasts, then queues in order until tokens come back', () => {
    const sut = new AckBudget(1000); // 1,000 points per second
    const served: string[] = [];
    const ack = (name: string, points: number) => () => {
      served.push(name);
      sut.spend(points);
    };
    sut.run(ack('a', 600));
    sut.run(ack('b', 600)); // 400 left: served, into debt (-200)
    sut.run(ack('c', 100));
    sut.run(ack('d', 100));
    expect(served).toEqual(['a', 'b']);
    jest.advanceTimersByTime(150);
    expect(served).toEqual(['a', 'b']); // still in debt
    jest.advanceTimersByTime(60); // debt paid: c goes (and spends), d waits for its turn
    expect(served).toEqual(['a', 'b', 'c']);
    jest.advanceTimersByTime(200);
    expect(served).toEqual(['a', 'b', 'c', 'd']);
    sut.close();
  });

  it('refuses beyond its queue bound', () => {
    const sut = new AckBudget(1000, Date.now, 1);
    sut.run(() => sut.spend(5000));
    expect(sut.run(() => undefined)).toBe(true);
    expect(sut.run(() => undefined)).toBe(false);
    sut.close();
  });
});
