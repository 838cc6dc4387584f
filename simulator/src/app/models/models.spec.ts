import { DeviceModel, DEVICE_KINDS } from './device-model';
import { createFleet, deviceId } from './fleet';
import { deriveSeed, gaussian, mulberry32 } from './random';

/** A fake clock: 1 reading per second from a fixed start. */
const START = Date.UTC(2026, 0, 15, 8, 0, 0);
const times = (n: number, stepMs = 1000): number[] =>
  Array.from({ length: n }, (_, i) => START + i * stepMs);

function run(device: DeviceModel, n: number, stepMs = 1000): Array<Record<string, number>> {
  return times(n, stepMs).map((t) => device.sample(t));
}

/** Every value of `metric` across the fleet's devices over `n` samples. */
function series(devices: DeviceModel[], metric: string, n: number): number[] {
  const out: number[] = [];
  for (const d of devices) {
    if (!d.generators.some((g) => g.name === metric)) continue;
    for (const values of run(d, n)) out.push(values[metric]);
  }
  return out;
}

describe('seeded random source', () => {
  it('replays the same sequence for the same seed and differs for another', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('is roughly uniform and its gaussian roughly standard', () => {
    const r = mulberry32(1);
    const u = Array.from({ length: 20_000 }, () => r.next());
    expect(u.reduce((s, x) => s + x, 0) / u.length).toBeCloseTo(0.5, 1);
    const g = Array.from({ length: 20_000 }, () => gaussian(r));
    const mean = g.reduce((s, x) => s + x, 0) / g.length;
    const sd = Math.sqrt(g.reduce((s, x) => s + (x - mean) ** 2, 0) / g.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(0.95);
    expect(sd).toBeLessThan(1.05);
    expect(g.every(Number.isFinite)).toBe(true);
  });

  it('derives distinct streams per device', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(42, i)));
    expect(seeds.size).toBe(1000);
  });
});

describe('fleet', () => {
  it('the same seed gives the same devices and the same readings', () => {
    const a = createFleet({ count: 12, prefix: 'sim', seed: 42 });
    const b = createFleet({ count: 12, prefix: 'sim', seed: 42 });
    expect(a.map((d) => [d.id, d.kind, d.group, d.name])).toEqual(
      b.map((d) => [d.id, d.kind, d.group, d.name]),
    );
    expect(a.map((d) => run(d, 50))).toEqual(b.map((d) => run(d, 50)));
  });

  it('another seed gives other readings', () => {
    const a = createFleet({ count: 12, prefix: 'sim', seed: 42 });
    const b = createFleet({ count: 12, prefix: 'sim', seed: 7 });
    expect(a.map((d) => run(d, 5))).not.toEqual(b.map((d) => run(d, 5)));
  });

  it('a device reads the same whatever the fleet size', () => {
    const small = createFleet({ count: 5, prefix: 'sim', seed: 42 });
    const large = createFleet({ count: 500, prefix: 'sim', seed: 42 });
    for (let i = 0; i < 5; i++) {
      expect(large[i].kind).toBe(small[i].kind);
      expect(run(large[i], 20)).toEqual(run(small[i], 20));
    }
  });

  it('names devices <prefix>-nnn, zero-padded', () => {
    expect(
      createFleet({ count: 12, prefix: 'sim', seed: 1 })
        .map((d) => d.id)
        .slice(0, 2),
    ).toEqual(['sim-001', 'sim-002']);
    expect(deviceId('sim', 0, 12)).toBe('sim-001');
    expect(deviceId('bench', 41, 1000)).toBe('bench-0042');
    expect(deviceId('x', 99_999, 100_000)).toBe('x-100000');
  });

  it('names another prefix’s devices by their whole id, apart from the built-in fleet’s', () => {
    const sim = createFleet({ count: 3, prefix: 'sim', seed: 42 });
    const lab = createFleet({ count: 3, prefix: 'lab', seed: 42 });
    // Same seed, same kinds: the names must still tell lab-001 from sim-001 on one screen.
    expect(lab.map((d) => d.kind)).toEqual(sim.map((d) => d.kind));
    expect(sim[0].name).toMatch(/ 001 · /);
    expect(lab[0].name).toMatch(/ lab-001 · /);
    for (let i = 0; i < 3; i++) expect(lab[i].name).not.toBe(sim[i].name);
  });

  it('mixes kinds and groups, with a display name, group and units in the meta', () => {
    const fleet = createFleet({ count: 200, prefix: 'sim', seed: 42 });
    const kinds = new Set(fleet.map((d) => d.kind));
    expect([...kinds].sort()).toEqual([...DEVICE_KINDS].sort());
    expect(new Set(fleet.map((d) => d.group)).size).toBeGreaterThanOrEqual(3);
    for (const d of fleet) {
      const meta = d.meta(1000);
      expect(meta.name).toContain(d.id.slice(4));
      expect(meta.group).toBe(d.group);
      expect(Object.keys(meta.units ?? {})).toEqual(d.generators.map((g) => g.name));
      expect(meta.intervalMs).toBe(1000);
    }
    const env = fleet.find((d) => d.kind === 'env-sensor');
    expect(env?.units()).toEqual({ temperature: '°C', humidity: '%', pressure: 'hPa', co2: 'ppm' });
    expect(fleet.find((d) => d.kind === 'power-meter')?.units()).toEqual({
      power: 'W',
      voltage: 'V',
      current: 'A',
      energy: 'kWh',
    });
    expect(fleet.find((d) => d.kind === 'machine')?.units()).toEqual({
      vibration: 'mm/s',
      temperature: '°C',
      power: 'W',
    });
  });
});

describe('metric models stay realistic', () => {
  const fleet = createFleet({ count: 60, prefix: 'sim', seed: 42 });
  const env = fleet.filter((d) => d.kind === 'env-sensor');

  it.each<[string, number, number]>([
    ['humidity', 5, 98],
    ['pressure', 985, 1040],
    ['co2', 380, 2000],
    ['voltage', 215, 240],
    ['vibration', 0, 40],
  ])('%s stays within %d..%d', (metric, min, max) => {
    const values = series(fleet, metric, 600);
    expect(values.length).toBeGreaterThan(0);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(min);
    expect(Math.max(...values)).toBeLessThanOrEqual(max);
  });

  it('every value is a finite number, ready for the decoder', () => {
    const bad = fleet.flatMap((d) =>
      run(d, 100).flatMap((values) => Object.values(values).filter((v) => !Number.isFinite(v))),
    );
    expect(bad).toEqual([]);
  });

  it('room temperature follows a compressed day: one sinusoid per period', () => {
    const d = new DeviceModel(
      { id: 'd', kind: 'env-sensor', group: 'lab', name: 'd' },
      mulberry32(3),
      {
        periodMs: 60_000,
        dropout: 0,
        offlinePerSecond: 0,
        offlineMs: [1, 2],
        spikeProbability: 0,
      },
    );
    const t = run(d, 120).map((v) => v['temperature']);
    expect(Math.min(...t)).toBeGreaterThan(10);
    expect(Math.max(...t)).toBeLessThan(32);
    expect(Math.max(...t) - Math.min(...t)).toBeGreaterThan(2); // it swings
    // One period later the value is back close to where it was.
    expect(Math.abs(t[90] - t[30])).toBeLessThan(1.5);
  });

  it('humidity is anti-correlated with temperature', () => {
    for (const d of env.slice(0, 5)) {
      const readings = run(d, 600);
      const t = readings.map((v) => v['temperature']);
      const h = readings.map((v) => v['humidity']);
      expect(correlation(t, h)).toBeLessThan(-0.5);
    }
  });

  it('pressure is a random walk: small steps, not white noise', () => {
    const p = run(env[0], 600).map((v) => v['pressure']);
    const steps = p.slice(1).map((v, i) => Math.abs(v - p[i]));
    expect(Math.max(...steps)).toBeLessThan(1);
    expect(new Set(p).size).toBeGreaterThan(100);
  });

  it('co2 moves in occupancy steps with a slow drift', () => {
    const c = run(env[0], 1800).map((v) => v['co2']);
    expect(Math.max(...c) - Math.min(...c)).toBeGreaterThan(100);
  });

  it('power steps between load levels and current follows it', () => {
    const meter = fleet.find((d) => d.kind === 'power-meter');
    if (!meter) throw new Error('no power meter in the fleet');
    const readings = run(meter, 1200);
    const power = readings.map((v) => v['power']);
    expect(Math.min(...power)).toBeGreaterThanOrEqual(0);
    const levels = new Set(power.map((w) => Math.round(Math.log2(w + 1))));
    expect(levels.size).toBeGreaterThanOrEqual(3);
    for (const v of readings) expect(v['current']).toBeCloseTo(v['power'] / v['voltage'], 2);
    const energy = readings.map((v) => v['energy']);
    expect(energy.every((e, i) => i === 0 || e >= energy[i - 1])).toBe(true);
  });

  it('vibration has spikes and anomalies above its normal band', () => {
    const machines = fleet.filter((d) => d.kind === 'machine');
    const v = series(machines, 'vibration', 1000);
    const sorted = [...v].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const spikes = v.filter((x) => x > median * 4).length;
    expect(spikes).toBeGreaterThan(0);
    expect(spikes / v.length).toBeLessThan(0.1);
  });
});

describe('a restart with the same seed continues where the previous run would be', () => {
  const fleet = (): DeviceModel[] => createFleet({ count: 60, prefix: 'sim', seed: 42 });
  const meters = fleet()
    .map((d, i) => (d.kind === 'power-meter' ? i : -1))
    .filter((i) => i >= 0);

  it('the energy register never goes back: it reads what an uninterrupted run reads', () => {
    expect(meters.length).toBeGreaterThan(5);
    const uninterrupted = fleet();
    const firstRun = fleet();
    const restarted = fleet(); // a new process, 10 minutes and 10 s after the first one started
    const restartAt = START + 610_000;
    for (const i of meters) {
      const before = run(firstRun[i], 600).map((v) => v['energy']);
      const after = restarted[i].sample(restartAt)['energy'];
      expect(after).toBeGreaterThanOrEqual(before[599]);
      run(uninterrupted[i], 600);
      expect(after).toBeCloseTo(uninterrupted[i].sample(restartAt)['energy'], 3);
    }
  });
});

describe('connectivity: dropouts and outages', () => {
  const spec = { id: 'd', kind: 'machine' as const, group: 'hall-a', name: 'd' };

  it('drops about the configured share of readings', () => {
    const d = new DeviceModel(spec, mulberry32(9), {
      periodMs: 60_000,
      dropout: 0.2,
      offlinePerSecond: 0,
      offlineMs: [1, 2],
      spikeProbability: 0,
    });
    const steps = times(5000).map((t) => d.step(t).type);
    const dropped = steps.filter((s) => s === 'dropout').length / steps.length;
    expect(dropped).toBeGreaterThan(0.17);
    expect(dropped).toBeLessThan(0.23);
    expect(
      steps.filter((s) => s === 'reading').length + steps.filter((s) => s === 'dropout').length,
    ).toBe(5000);
  });

  it('goes offline, stays silent for the outage, then comes back', () => {
    const d = new DeviceModel(spec, mulberry32(5), {
      periodMs: 60_000,
      dropout: 0,
      offlinePerSecond: 0.01,
      offlineMs: [5000, 10_000],
      spikeProbability: 0,
    });
    const steps = times(3000).map((t) => ({ t, step: d.step(t) }));
    const offline = steps.filter((s) => s.step.type === 'offline');
    expect(offline.length).toBeGreaterThan(5);
    expect(offline.length).toBeLessThan(60);
    // Between an 'offline' and the next 'online' there is only silence, for 5 to 10 s.
    for (const start of offline) {
      const i = steps.indexOf(start);
      const back = steps.findIndex((s, j) => j > i && s.step.type !== 'silent');
      if (back < 0) continue; // the outage runs past the end of the test
      expect(steps[back].step.type).toBe('online');
      const outage = steps[back].t - start.t;
      expect(outage).toBeGreaterThanOrEqual(5000);
      expect(outage).toBeLessThanOrEqual(11_000);
      expect(start.step.type === 'offline' && start.step.until).toBeLessThanOrEqual(steps[back].t);
    }
  });

  it('never goes offline or drops with probability 0', () => {
    const d = new DeviceModel(spec, mulberry32(5));
    expect(times(2000).every((t) => d.step(t).type === 'reading')).toBe(true);
  });
});

function correlation(x: number[], y: number[]): number {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
