import type { DeviceInfo } from '@pulse/protocol';

/**
 * The port through which the device registry keeps its records across restarts: a narrow,
 * asynchronous interface so the embedded store (SQLite, `sqlite-device.store.ts`, synchronous
 * underneath) and a PostgreSQL adapter (a network client) can stand behind it alike. Owns the shape of a stored device only; must not hold registry
 * policy (what is restored how: DeviceRegistryService).
 */

/** DI token of the {@link DeviceStore} (absent: the registry lives in memory only). */
export const DEVICE_STORE = Symbol('DEVICE_STORE');

/**
 * A device as the registry shows it, always seen at least once. Its `status` is the last one
 * heard: the registry decides what it means after a restart.
 */
export type StoredDevice = Omit<DeviceInfo, 'lastSeen'> & {
  lastSeen: number;
  /**
   * The pace it reports at, ms between reports, once learned (common/cadence.ts). Null keeps
   * the stored one: a gateway that knows the device only from a peer's share learned none.
   */
  cadenceMs?: number | null;
};

export interface DeviceStore {
  /** Every stored device, least recently seen first (the registry's eviction order). */
  load(): Promise<StoredDevice[]>;
  /** In one transaction: insert or replace each of `changed`, delete each of `removed`. */
  save(changed: readonly StoredDevice[], removed: readonly string[]): Promise<void>;
}
