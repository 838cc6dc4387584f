/*
 * The wall's device order: the roster filtered (group, scope) and sorted by name then id, the
 * order boards are paged in and heat-map cells are laid out in. Re-sorts only when a device
 * joins, leaves or changes name or group, so a store that revises four times a second on
 * readings costs one O(n) check, not a sort. Owns that memo; it must not read the store (the
 * wall page passes the records) nor page or subscribe.
 */

/** What the order needs of a device record (a DeviceState fits). */
export interface RosterDevice {
  deviceId: string;
  name: string;
  group: string | null;
}

const collator = new Intl.Collator(undefined, { numeric: false });

export class RosterOrder {
  private ids: string[] = [];
  /** Name and group per device id, as last sorted. */
  private seen = new Map<string, RosterDevice>();
  private filterKey = '';

  /**
   * The ids of `devices` in `group` (or, without one, in one of `scope`'s groups, or all),
   * by name then id. Returns the previous array when nothing that matters changed.
   */
  order(
    devices: readonly RosterDevice[],
    group: string | null,
    scope: readonly string[] | null,
  ): string[] {
    const filterKey = `${group ?? ''}|${scope?.join(',') ?? '*'}`;
    if (filterKey === this.filterKey && this.unchanged(devices)) return this.ids;
    this.filterKey = filterKey;
    this.seen = new Map(
      devices.map((d) => [d.deviceId, { deviceId: d.deviceId, name: d.name, group: d.group }]),
    );
    this.ids = devices
      .filter((d) => (group ? d.group === group : !scope || scope.includes(d.group ?? '')))
      .sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.deviceId, b.deviceId))
      .map((d) => d.deviceId);
    return this.ids;
  }

  private unchanged(devices: readonly RosterDevice[]): boolean {
    if (devices.length !== this.seen.size) return false;
    for (const d of devices) {
      const seen = this.seen.get(d.deviceId);
      if (!seen || seen.name !== d.name || seen.group !== d.group) return false;
    }
    return true;
  }
}
