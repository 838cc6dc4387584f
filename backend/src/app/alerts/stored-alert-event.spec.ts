import { AlertEvent, AlertRuleInput } from '@pulse/protocol';
import { StoredAlertEvent, fromStored } from './stored-alert-event';
import { setup, tempAbove } from './testing/alert-engine.harness';

// Real: the engine words the events (alert-describe.ts), so these pin reading back what it
// actually writes; "stored before" is such an event without its `kind`, as an earlier gateway
// wrote it into alert_open / alert_events.

/** The event as a gateway from before AlertEvent.kind stored it. */
function before(event: AlertEvent): StoredAlertEvent {
  const stored: StoredAlertEvent = { ...event };
  delete stored.kind;
  return stored;
}

/** One alert of every kind (and then one of each cleared with a reason), as the engine reports them. */
function everyKind(names: Partial<Record<AlertRuleInput['kind'], string>> = {}): AlertEvent[] {
  const { sut, clock, read, series, events } = setup([
    tempAbove({ name: names.threshold }),
    {
      id: 'spike',
      name: names.rate,
      kind: 'rate',
      metric: 'vibration',
      windowMs: 5000,
      maxDelta: 5,
      severity: 'minor',
    },
    { id: 'quiet', name: names.nodata, kind: 'nodata', silenceMs: 5000, severity: 'minor' },
    {
      id: 'co2-quiet',
      name: names.nodata,
      kind: 'nodata',
      metric: 'co2',
      silenceMs: 5000,
      severity: 'minor',
    },
    { id: 'gone', name: names.offline, kind: 'offline', forMs: 2000, severity: 'critical' },
  ]);
  read({ co2: 400 });
  series('vibration', [1, 20]);
  series('temperature', [35]);
  sut.onStatus('dev-2', 'offline');
  sut.tick(clock.advance(6000));
  sut.setRules([]); // every open alert clears: "… (rule changed or removed)"
  return events;
}

describe('alert events stored before they carried their kind', () => {
  it("get the kind their message was written for, every kind's, cleared or not", () => {
    const events = everyKind();
    expect(new Set(events.map((e) => e.kind))).toEqual(
      new Set(['threshold', 'rate', 'nodata', 'offline']),
    );
    expect(events.filter((e) => e.state === 'cleared')).toHaveLength(5);
    for (const event of events) expect(fromStored(before(event))).toEqual(event);
  });

  it('are read after their rule name, whatever the name says', () => {
    const events = everyKind({
      threshold: 'x: no temperature for 5 s',
      rate: 'device offline',
      nodata: 'co2 changed by 3',
      offline: 'no data for 1 s: temperature 1 above 0',
    });
    for (const event of events) expect(fromStored(before(event))).toEqual(event);
  });

  it('not written by a gateway: by their fields, a threshold alert when those cannot tell', () => {
    const [made] = everyKind().filter((e) => e.kind === 'threshold');
    const written = (patch: Partial<StoredAlertEvent>) =>
      fromStored({ ...before(made), message: 'by hand', ...patch }).kind;
    expect(written({ metric: null, value: null, threshold: null })).toBe('offline');
    expect(written({ metric: null, value: 12_000, threshold: 10_000 })).toBe('nodata');
    expect(written({ metric: 'co2', value: 12_000, threshold: 10_000 })).toBe('threshold');
  });

  it('keep the kind they were stored with', () => {
    const [made] = everyKind().filter((e) => e.kind === 'rate');
    expect(fromStored(made)).toBe(made);
    expect(fromStored({ ...made, kind: 'nodata' }).kind).toBe('nodata');
  });
});
