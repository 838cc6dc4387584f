import { ownerOf } from './rendezvous';

const devices = Array.from({ length: 3000 }, (_, i) => `sensor-${i}`);

describe('rendezvous hashing', () => {
  it('gives every device one owner, the same whatever the order of the member list', () => {
    const members = ['gw-a', 'gw-b', 'gw-c'];
    for (const device of devices.slice(0, 200)) {
      expect(ownerOf(device, members)).toBe(ownerOf(device, [...members].reverse()));
    }
    expect(ownerOf('x', [])).toBeNull();
  });

  it('spreads devices about evenly', () => {
    const counts = new Map<string, number>();
    for (const device of devices) {
      const owner = ownerOf(device, ['gw-a', 'gw-b', 'gw-c']) as string;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(120);
  });

  it("moves only the leaving member's devices, and only to a joining member", () => {
    const before = devices.map((d) => ownerOf(d, ['gw-a', 'gw-b', 'gw-c']));
    const afterLeave = devices.map((d) => ownerOf(d, ['gw-a', 'gw-c']));
    devices.forEach((_, i) => {
      if (before[i] !== 'gw-b') expect(afterLeave[i]).toBe(before[i]);
    });
    const afterJoin = devices.map((d) => ownerOf(d, ['gw-a', 'gw-b', 'gw-c', 'gw-d']));
    const moved = afterJoin.filter((owner, i) => owner !== before[i]);
    expect(moved.every((owner) => owner === 'gw-d')).toBe(true);
    expect(Math.abs(moved.length - 750)).toBeLessThan(120);
  });
});
