import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { FanOutMeter } from './fan-out-meter';
import {
  CALM_ELU,
  CALM_SAMPLES,
  GatewayLoad,
  LoadSample,
  OVERLOAD_ELU,
  OVERLOAD_MIN_CLIENTS,
  OVERLOAD_SAMPLES,
  PROBE_MAX_SAMPLES,
  PROBE_SAMPLES,
  PROBE_TRIAL_SAMPLES,
} from './gateway-load';

// The conflator is a recorder here (its floor is specified in conflation.spec.ts); the load is a
// scripted sampler, one value per check (the event loop's utilisation, all of it spent sending
// readings, with an audience of OVERLOAD_MIN_CLIENTS unless a test says otherwise). What
// GatewayLoad tells the operator (Nest's Logger: a warning per throttle, a line per step back) is
// recorded, not printed.

describe('GatewayLoad', () => {
  let calls: string[];
  let floorMs: number;
  let elu: LoadSample[];
  let sut: GatewayLoad;
  let warnings: jest.SpyInstance;
  let lines: jest.SpyInstance;

  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    lines = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
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
    sut = new GatewayLoad(conflator, () => elu.shift() ?? { elu: 0, fanOut: 0, clients: 0 });
  });

  afterEach(() => jest.restoreAllMocks());

  let clients = OVERLOAD_MIN_CLIENTS;
  beforeEach(() => (clients = OVERLOAD_MIN_CLIENTS));
  const run = (...values: number[]) => {
    elu.push(...values.map((v) => ({ elu: v, fanOut: 1, clients })));
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
    // One warning per tier, with the load that caused it and the floor every client now has.
    expect(warnings.mock.calls).toEqual([
      ['event loop 97 % busy (100 % of it flushing readings): every client throttled to 250 ms'],
      ['event loop 97 % busy (100 % of it flushing readings): every client throttled to 1000 ms'],
      ['event loop 97 % busy (100 % of it flushing readings): every client throttled to 4000 ms'],
    ]);
  });

  it('never throttles an audience too small to be the load: counts those seconds and says so once per stretch', () => {
    clients = OVERLOAD_MIN_CLIENTS - 1;
    run(...Array<number>(OVERLOAD_SAMPLES * 3).fill(1));
    run(0.5);
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95));
    expect(raises()).toBe(0);
    expect(floorMs).toBe(0);
    const saturated = OVERLOAD_SAMPLES * 4;
    expect(sut.stats()).toMatchObject({
      overloadedSeconds: saturated,
      fewClientsSeconds: saturated,
      raised: 0,
    });
    expect(warnings.mock.calls).toEqual([
      [
        `event loop 100 % busy with ${OVERLOAD_MIN_CLIENTS - 1} clients (under ${OVERLOAD_MIN_CLIENTS}): not raising the floor, sending to so few is not what loads it`,
      ],
      [
        `event loop 95 % busy with ${OVERLOAD_MIN_CLIENTS - 1} clients (under ${OVERLOAD_MIN_CLIENTS}): not raising the floor, sending to so few is not what loads it`,
      ],
    ]);
    // The audience grows while the loop stays saturated: now the floor rises.
    clients = OVERLOAD_MIN_CLIENTS;
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95));
    expect(floorMs).toBe(250);
  });

  it('says it once per saturated stretch even when the audience hovers about the least', () => {
    for (let i = 0; i < 6; i++) {
      clients = OVERLOAD_MIN_CLIENTS - 1 + (i % 2);
      run(1);
    }
    expect(warnings.mock.calls).toHaveLength(1);
    run(0.5);
    clients = 3;
    run(1);
    expect(warnings.mock.calls).toHaveLength(2);
  });

  it('tries a floor lower when its audience has gone, even on a saturated loop', () => {
    run(...Array<number>(OVERLOAD_SAMPLES * 2).fill(0.95));
    expect(floorMs).toBe(1000);
    warnings.mockClear();
    // The storm's screens are gone; what saturates the loop now is not theirs to give back.
    clients = 10;
    run(...Array<number>(PROBE_SAMPLES).fill(1));
    expect(warnings.mock.calls).toEqual([
      [
        `event loop 100 % busy with 10 clients (under ${OVERLOAD_MIN_CLIENTS}): not raising the floor, sending to so few is not what loads it (the 1000 ms floor is tried lower on the busy schedule)`,
      ],
    ]);
    expect(floorMs).toBe(250);
    run(...Array<number>(PROBE_SAMPLES).fill(1));
    expect(floorMs).toBe(0);
    expect(raises()).toBe(2);
  });

  it('lets clients faster again one tier per calm stretch, and throttles newcomers while a floor holds', () => {
    run(...Array<number>(OVERLOAD_SAMPLES * 2).fill(0.95));
    expect(floorMs).toBe(1000);
    calls = [];
    // Between calm and overloaded: the floor holds for a while, new connections are held to it.
    run(...Array<number>(PROBE_SAMPLES - 1).fill((CALM_ELU + OVERLOAD_ELU) / 2));
    expect(lowers()).toBe(0);
    expect(calls.filter((c) => c === 'apply')).toHaveLength(PROBE_SAMPLES - 1);
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(floorMs).toBe(250);
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(floorMs).toBe(0);
    expect(lowers()).toBe(2);
    // No floor: calm seconds change nothing.
    run(...Array<number>(CALM_SAMPLES).fill(0.2));
    expect(lowers()).toBe(2);
    expect(lines.mock.calls).toEqual([
      ['event loop 20 % busy: clients may go faster again (floor 250 ms)'],
      ['event loop 20 % busy: clients may go faster again (floor 0 ms)'],
    ]);
  });

  const busy = (CALM_ELU + OVERLOAD_ELU) / 2;
  const busyFor = (n: number) => run(...Array<number>(n).fill(busy));

  it('tries a floor one tier lower after a busy stretch, so a passing storm on a shared machine does not throttle for good', () => {
    run(...Array<number>(OVERLOAD_SAMPLES * 2).fill(0.95));
    expect(floorMs).toBe(1000);
    // Busy (a machine shared with other work) but never overloaded again: the floor is tried
    // lower, and lower again, until every client is back to every reading.
    busyFor(PROBE_SAMPLES);
    expect(floorMs).toBe(250);
    busyFor(PROBE_SAMPLES);
    expect(floorMs).toBe(0);
    expect(sut.stats()).toMatchObject({ probes: 2, lowered: 2, raised: 2 });
    // No floor: busy seconds change nothing.
    busyFor(PROBE_SAMPLES * 3);
    expect(lowers()).toBe(2);
  });

  it('waits twice as long before the next probe when one brings the overload back, and resets once one holds', () => {
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95));
    expect(floorMs).toBe(250);
    busyFor(PROBE_SAMPLES);
    expect(floorMs).toBe(0); // the probe
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95)); // ... failed at once
    expect(floorMs).toBe(250);
    busyFor(PROBE_SAMPLES * 2 - 1);
    expect(floorMs).toBe(250);
    busyFor(1);
    expect(floorMs).toBe(0); // the second probe, after twice the wait
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95)); // failed again
    for (let i = 0; i < 6; i++) {
      busyFor(PROBE_MAX_SAMPLES);
      run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95));
    }
    expect(sut.stats().probes).toBeGreaterThan(2);
    // The wait never exceeds its bound: a floor is always tried again within PROBE_MAX_SAMPLES.
    busyFor(PROBE_MAX_SAMPLES);
    expect(floorMs).toBe(0);
    // This probe holds past its trial: the next overload's probe comes after the base wait again.
    busyFor(PROBE_TRIAL_SAMPLES + 1);
    run(...Array<number>(OVERLOAD_SAMPLES).fill(0.95));
    expect(floorMs).toBe(250);
    busyFor(PROBE_SAMPLES);
    expect(floorMs).toBe(0);
  });

  it('measures the fan-out share from what the meter was told against the busy time of the loop', () => {
    const meter = new FanOutMeter();
    const real = new GatewayLoad(
      {
        raiseFloor: jest.fn(),
        lowerFloor: jest.fn(),
        applyFloor: jest.fn(),
        stats: () => ({ floorMs: 0 }) as never,
      },
      undefined,
      { OVERLOAD_ELU: 0.9 },
      meter,
    );
    // 200 ms of busy loop, of which the meter is told 20 ms went to sending readings.
    const until = performance.now() + 200;
    while (performance.now() < until) {
      /* busy */
    }
    meter.add(20);
    real.check();
    const { elu, fanOut } = real.stats();
    expect(elu).toBeGreaterThan(0.5);
    expect(fanOut).toBeGreaterThan(0.02);
    expect(fanOut).toBeLessThanOrEqual(0.1);
  });
});
