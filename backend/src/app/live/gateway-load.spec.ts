import {
  CALM_ELU,
  CALM_SAMPLES,
  GatewayLoad,
  OVERLOAD_ELU,
  OVERLOAD_SAMPLES,
} from './gateway-load';

// The conflator is a recorder here (its floor is specified in conflation.spec.ts); the event loop
// utilisation is a scripted sampler, one value per check.

describe('GatewayLoad', () => {
  let calls: string[];
  let floorMs: number;
  let elu: number[];
  let sut: GatewayLoad;

  beforeEach(() => {
    calls = [];
    floorMs = 0;
    elu = [];
    const conflator = {
      raiseFloor: () => {
        calls.push('raise');
        floorMs = floorMs === 0 ? 250 : floorMs * 4;
      },
      lowerFloor: () => {
        calls.push('lower');
        floorMs = floorMs <= 250 ? 0 : floorMs / 4;
      },
      applyFloor: () => void calls.push('apply'),
      stats: () => ({ throttled: 0, floorMs, entered: 0, demoted: 0, recovered: 0, frames: 0 }),
    };
    sut = new GatewayLoad(conflator, () => elu.shift() ?? 0);
  });

  const run = (...values: number[]) => {
    elu.push(...values);
    for (let i = 0; i < values.length; i++) sut.check();
  };
  const raises = () => calls.filter((c) => c === 'raise').length;
  const lowers = () => calls.filter((c) => c === 'lower').length;

  it('throttles everyone one tier slower per overloaded stretch, not on a single busy second', () => {
    run(OVERLOAD_ELU, 0.5, OVERLOAD_ELU);
    expect(raises()).toBe(0);
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.97));
    expect(raises()).toBe(1);
    run(...Array<number>(OVERLOAD_SAMPLES * 2).fill(0.97));
    expect(raises()).toBe(3);
    expect(sut.stats()).toMatchObject({ raised: 3, overloadedSeconds: 2 + OVERLOAD_SAMPLES * 3 });
  });

  it('lets clients faster again one tier per calm stretch, and throttles newcomers while a floor holds', () => {
    run(...Array<number>(OVERLOAD_SAMPLES * 2).fill(0.95));
    expect(floorMs).toBe(1000);
    calls = [];
    // Between calm and overloaded: the floor holds, new connections are held to it.
    run(...Array<number>(CALM_SAMPLES * 2).fill((CALM_ELU + OVERLOAD_ELU) / 2));
    expect(lowers()).toBe(0);
    expect(calls.filter((c) => c === 'apply')).toHaveLength(CALM_SAMPLES * 2);
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(floorMs).toBe(250);
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(floorMs).toBe(0);
    expect(lowers()).toBe(2);
    // No floor: calm seconds change nothing.
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(lowers()).toBe(2);
  });
});
