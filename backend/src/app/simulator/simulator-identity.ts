/**
 * The built-in simulator's identity on the embedded broker: a username no device can have
 * (`:` is not an id character) and the device ids it may publish for — its own fleet,
 * `sim-001`…, numbered and padded as the simulator's models/fleet.ts `deviceId` does. Owns
 * these two facts; must not start anything (SimulatorRepository) or check secrets
 * (DeviceCredentialsService).
 */
export const SIMULATOR_USERNAME = 'pulse:simulator';
/** `--prefix` the built-in simulator is started with. */
export const SIMULATOR_PREFIX = 'sim';

/** Exactly the ids of a built-in fleet of `count` devices. */
export function simulatedFleet(count: number): (deviceId: string) => boolean {
  const width = Math.max(3, String(count).length);
  const pattern = new RegExp(`^${SIMULATOR_PREFIX}-(\\d{${width}})$`);
  return (deviceId) => {
    const match = pattern.exec(deviceId);
    if (!match) return false;
    const n = Number(match[1]);
    return n >= 1 && n <= count;
  };
}
