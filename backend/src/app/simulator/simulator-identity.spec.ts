import { simulatedFleet } from './simulator-identity';

describe('simulatedFleet', () => {
  it('allows exactly the ids the simulator gives its fleet (padded to 3 digits or more)', () => {
    const twelve = simulatedFleet(12);
    expect(['sim-001', 'sim-012'].map(twelve)).toEqual([true, true]);
    expect(
      ['sim-000', 'sim-013', 'sim-1', 'sim-0001', 'other-001', 'sim-001x'].map(twelve),
    ).toEqual([false, false, false, false, false, false]);
    const big = simulatedFleet(12_345);
    expect(['sim-00001', 'sim-12345', 'sim-001', 'sim-12346'].map(big)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
