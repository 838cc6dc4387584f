import { RosterOrder } from './wall-roster';

const d = (deviceId: string, name: string, group: string | null = null) => ({
  deviceId,
  name,
  group,
});

describe('wall roster order', () => {
  it('sorts by name then id, filtered by group or scope', () => {
    const order = new RosterOrder();
    const devices = [d('c', 'Beta', 'x'), d('a', 'Alpha', 'y'), d('b', 'Beta', 'y')];
    expect(order.order(devices, null, null)).toEqual(['a', 'b', 'c']);
    expect(order.order(devices, 'y', null)).toEqual(['a', 'b']);
    expect(order.order(devices, null, ['x'])).toEqual(['c']);
  });

  it('returns the same array until a device joins, leaves or is renamed', () => {
    const order = new RosterOrder();
    const devices = [d('a', 'Alpha'), d('b', 'Beta')];
    const first = order.order(devices, null, null);
    expect(order.order([d('b', 'Beta'), d('a', 'Alpha')], null, null)).toBe(first);
    const renamed = order.order([d('a', 'Zulu'), d('b', 'Beta')], null, null);
    expect(renamed).toEqual(['b', 'a']);
    expect(order.order([...devices, d('c', 'Gamma')], null, null)).toEqual(['a', 'b', 'c']);
  });
});
