import { setup, T0 } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the no-data evaluator's part
// (silence on the server clock, learned cadence).

describe('no-data rules', () => {
  it('raises after silenceMs of server time and clears on the next reading', () => {
    const { sut, clock, read, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 5000, severity: 'minor' },
    ]);
    read({ a: 1 });
    sut.tick(clock.advance(4999));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events).toMatchObject([
      {
        kind: 'nodata',
        state: 'raised',
        metric: null,
        value: 5000,
        threshold: 5000,
        message: 'quiet: no data for 5 s',
      },
    ]);
    sut.tick(clock.advance(10_000));
    expect(events).toHaveLength(1);
    clock.advance(500);
    read({ b: 2 });
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(events[1]).toMatchObject({ clearedAt: clock.now(), value: 15_500 });
  });

  it('learns the cadence of each device and metric (K times the interval)', () => {
    const { sut, clock, series, events } = setup([
      {
        id: 'stale',
        kind: 'nodata',
        metric: 'co2',
        cadenceMultiple: 3,
        severity: 'minor',
      },
    ]);
    series('co2', [500, 501, 502, 503, 504], 1000, 'fast');
    series('co2', [500, 501, 502, 503, 504], 10_000, 'slow');
    const fastLast = T0 + 5000;
    clock.t = fastLast + 2900;
    sut.tick();
    expect(events).toEqual([]);
    clock.t = fastLast + 3000;
    sut.tick();
    expect(events.map((e) => [e.deviceId, e.metric, e.threshold])).toEqual([['fast', 'co2', 3000]]);
    clock.t = T0 + 55_000 + 29_000;
    sut.tick();
    expect(events).toHaveLength(1);
    clock.t = T0 + 55_000 + 30_000;
    sut.tick();
    expect(events.map((e) => e.deviceId)).toEqual(['fast', 'slow']);
  });

  // The built-in rule (3 × cadence, at least 10 s) on real firmware: Tasmota reports every
  // 300 s, a battery sensor every hour. Until a device's pace is known, silence says nothing.
  it('waits for a pace before judging silence: no alert 10 s after a slow device first speaks', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    read({ power: 20 }, 'tasmota-1');
    sut.tick(clock.advance(299_000));
    expect(events).toEqual([]);
    clock.advance(1000);
    read({ power: 21 }, 'tasmota-1'); // one interval: 300 s
    sut.tick(clock.advance(899_000));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1000));
    expect(events.map((e) => [e.deviceId, e.state, e.threshold])).toEqual([
      ['tasmota-1', 'raised', 900_000],
    ]);
  });

  // A sensor installed, heard once, then dead (battery, crash loop, radio): its pace is never
  // learned, so the wait for one is bounded: 2 h by default, beyond an hourly battery sensor's
  // second report (an Aqara heartbeat every 50-60 min) and short of the next morning.
  it('finds a device heard once and never again 2 h after it spoke, and leaves an hourly one alone', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    const t0 = clock.now();
    read({ temperature: 21 }, 'dead-1');
    read({ battery: 97 }, 'aqara-1');
    for (let minute = 1; minute < 120; minute++) {
      clock.t = t0 + minute * 60_000;
      if (minute === 55) read({ battery: 97 }, 'aqara-1'); // its second report: a pace of 55 min
      sut.tick();
    }
    sut.tick((clock.t = t0 + 7_200_000 - 1));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events).toMatchObject([
      {
        ruleId: 'no-data',
        deviceId: 'dead-1',
        state: 'raised',
        value: 7_200_000,
        threshold: 7_200_000,
        message: 'no-data: no data for 2 h',
      },
    ]);
    // The hourly one, now with its pace, at 3 × 55 min as before.
    sut.tick((clock.t = t0 + 55 * 60_000 + 3 * 55 * 60_000));
    expect(events.map((e) => [e.deviceId, e.threshold])).toEqual([
      ['dead-1', 7_200_000],
      ['aqara-1', 9_900_000],
    ]);
  });

  it("waits a rule's unknownPaceMs for a device heard once, never less than its silenceMs", () => {
    const { sut, clock, read, events } = setup([
      {
        id: 'soon',
        kind: 'nodata',
        cadenceMultiple: 3,
        silenceMs: 10_000,
        unknownPaceMs: 600_000,
        severity: 'minor',
      },
      { id: 'slow', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_800_000, severity: 'minor' },
    ]);
    read({ t: 1 });
    sut.tick(clock.advance(599_999));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events.map((e) => [e.ruleId, e.threshold])).toEqual([['soon', 600_000]]);
    sut.tick(clock.advance(10_800_000 - 600_000 - 1));
    expect(events).toHaveLength(1);
    sut.tick(clock.advance(1));
    expect(events.map((e) => [e.ruleId, e.threshold])).toEqual([
      ['soon', 600_000],
      ['slow', 10_800_000],
    ]);
  });

  it('finds a device restored at boot without a pace and heard once since, 2 h after it spoke', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    sut.watchRestored('dead-1', ['temperature'], null); // kept by the registry, no pace stored
    clock.advance(5000);
    read({ temperature: 21 }, 'dead-1');
    sut.tick(clock.advance(7_200_000 - 1));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events.map((e) => [e.deviceId, e.state, e.threshold])).toEqual([
      ['dead-1', 'raised', 7_200_000],
    ]);
  });

  it('learns the pace between reports, not within one: Tasmota STATE then SENSOR, ESPHome per sensor', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    /** One report: its messages a few ms apart, the clock left at the last. */
    const report = (deviceId: string, messages: number) => {
      for (let i = 0; i < messages; i++) {
        if (i > 0) clock.advance(3);
        read({ [`m${i}`]: i }, deviceId);
      }
    };
    const t0 = clock.now();
    // Tasmota every 300 s (2 messages), an ESPHome node every 60 s (5), for 30 minutes.
    for (let t = 0; t <= 1_800_000; t += 60_000) {
      clock.t = t0 + t;
      if (t % 300_000 === 0) report('tasmota-1', 2);
      clock.t = t0 + t + 10;
      report('esphome-1', 5);
      // The engine's timer, every 5 s until the next minute.
      while (clock.now() + 5_000 < t0 + t + 60_000) sut.tick(clock.advance(5_000));
    }
    expect(events).toEqual([]);
    // And each is still watched at its own pace: silent after its last report.
    sut.tick((clock.t = t0 + 1_800_000 + 3 * 60_000 + 1_000));
    expect(events.map((e) => e.deviceId)).toEqual(['esphome-1']);
    sut.tick((clock.t = t0 + 1_800_000 + 3 * 300_000 + 1_000));
    expect(events.map((e) => e.deviceId)).toEqual(['esphome-1', 'tasmota-1']);
  });

  it('learns a device faster than once a second once it keeps it up', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    for (let i = 0; i < 40; i++) {
      read({ v: i }, 'fast-1');
      clock.advance(100);
    }
    sut.tick(clock.advance(9_800)); // 9.9 s after its last reading
    expect(events).toEqual([]);
    sut.tick(clock.advance(100));
    expect(events.map((e) => [e.deviceId, e.threshold])).toEqual([['fast-1', 10_000]]);
  });

  it('judges a fast device by its floor from its second reading on', () => {
    const { sut, clock, read, events } = setup([
      { id: 'no-data', kind: 'nodata', cadenceMultiple: 3, silenceMs: 10_000, severity: 'minor' },
    ]);
    read({ t: 1 }, 'boiler-1');
    clock.advance(1000);
    read({ t: 2 }, 'boiler-1');
    sut.tick(clock.advance(9999));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events.map((e) => [e.deviceId, e.threshold])).toEqual([['boiler-1', 10_000]]);
  });

  it('leaves an offline device to the offline rule, and counts silence again from its return', () => {
    const { sut, clock, read, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 5000, severity: 'minor' },
    ]);
    read({ a: 1 });
    sut.onStatus('dev-1', 'offline');
    sut.tick(clock.advance(60_000));
    expect(events).toEqual([]);
    sut.onStatus('dev-1', 'online');
    sut.tick(clock.advance(4000));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1000));
    expect(events.map((e) => e.state)).toEqual(['raised']);
  });

  it('does not watch devices it has never heard from', () => {
    const { sut, clock, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 1000, severity: 'minor' },
    ]);
    sut.tick(clock.advance(60_000));
    expect(events).toEqual([]);
  });

  it('stops watching an evicted device: its alerts are cleared off the list and nothing fires for it again', () => {
    const { sut, clock, read, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 5000, severity: 'minor' },
      { id: 'gone', kind: 'offline', forMs: 1000, severity: 'major' },
    ]);
    read({ a: 1 }, 'flood-1');
    read({ a: 1 }, 'real-1');
    sut.onStatus('flood-2', 'offline');
    sut.tick(clock.advance(6000));
    expect(events.map((e) => [e.deviceId, e.ruleId, e.state]).sort()).toEqual([
      ['flood-1', 'quiet', 'raised'],
      ['flood-2', 'gone', 'raised'],
      ['real-1', 'quiet', 'raised'],
    ]);
    sut.forgetDevice('flood-1');
    sut.forgetDevice('flood-2');
    expect(events.slice(3).map((e) => [e.deviceId, e.state, e.active, e.message])).toEqual([
      ['flood-1', 'cleared', false, expect.stringContaining('device evicted')],
      ['flood-2', 'cleared', false, expect.stringContaining('device evicted')],
    ]);
    // Off the active list at once: evicted devices cannot pile up cleared alerts there.
    expect(sut.active().map((a) => a.deviceId)).toEqual(['real-1']);
    expect(sut.stats().states).toBe(1);
    sut.tick(clock.advance(60_000));
    expect(events.slice(5)).toEqual([]);
  });
});
