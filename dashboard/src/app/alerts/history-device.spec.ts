import { resolveHistoryDevice } from './history-device';

const NAMES = new Map([
  ['sim-001', 'Env sensor'],
  ['sim-0011', 'Hall B'],
  ['sim-003', 'Env probe'],
]);
const nameOf = (id: string) => NAMES.get(id);

describe('resolveHistoryDevice (what the History tab says it reads)', () => {
  it.each([
    ['', { kind: 'all' }],
    ['  ', { kind: 'all' }],
    // The exact id of a known device is named: that device alone (the gateway reads it so).
    ['sim-001', { kind: 'one', deviceId: 'sim-001', name: 'Env sensor' }],
    [' sim-003 ', { kind: 'one', deviceId: 'sim-003', name: 'Env probe' }],
    // Anything else is the text the gateway matches: part of a name or an id.
    ['env', { kind: 'text', text: 'env' }],
    ['hall b', { kind: 'text', text: 'hall b' }],
    ['pump-7', { kind: 'text', text: 'pump-7' }],
    ['SIM-001', { kind: 'text', text: 'SIM-001' }],
  ])('%j reads %j', (text, expected) => {
    expect(resolveHistoryDevice(text, nameOf)).toEqual(expected);
  });
});
