import { HISTORY_CHOICES, resolveHistoryDevice } from './history-device';

const DEVICES = [
  { deviceId: 'sim-001', name: 'Env sensor' },
  { deviceId: 'sim-0011', name: 'Hall B' },
  { deviceId: 'sim-003', name: 'Env probe' },
];

describe('resolveHistoryDevice (which one device the History tab reads)', () => {
  it.each([
    ['', { kind: 'all' }],
    ['  ', { kind: 'all' }],
    ['hall b', { kind: 'one', deviceId: 'sim-0011', name: 'Hall B' }],
    // An exact id wins over the longer ids that contain it.
    ['sim-001', { kind: 'one', deviceId: 'sim-001', name: 'Env sensor' }],
    // A valid id nobody here knows may still have a history.
    ['pump-7', { kind: 'one', deviceId: 'pump-7', name: null }],
    ['Boiler room', { kind: 'none' }],
  ])('%j reads %j', (text, expected) => {
    expect(resolveHistoryDevice(text, DEVICES)).toEqual(expected);
  });

  it('offers the first few of several matches, by id, and counts them all', () => {
    expect(resolveHistoryDevice('ENV', DEVICES)).toEqual({
      kind: 'many',
      choices: [DEVICES[0], DEVICES[2]],
      total: 2,
    });
    const many = Array.from({ length: 30 }, (_, i) => ({ deviceId: `d${100 + i}`, name: 'Env' }));
    const target = resolveHistoryDevice('env', many);
    expect(target.kind === 'many' && [target.choices.length, target.total]).toEqual([
      HISTORY_CHOICES,
      30,
    ]);
  });
});
