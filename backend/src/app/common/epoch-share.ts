/*
 * Values made once per epoch and key, shared by every identical ask of that epoch: a store read
 * per wall-clock second (history/shared-reads.ts), a subscribe's encoded history per live-hub
 * generation (live/live-subscription.service.ts). A value is shared from the moment it is
 * made, a promise while it is pending; everything kept is let go when a newer epoch is asked
 * for, and an ask of an older epoch than the newest gets a value of its own.
 * Bounded: at most `maxKeys` values and `maxPoints` points (as `size` counts them) per epoch.
 * Past `maxKeys` a new value is not shared at all; a value that would take the points past
 * `maxPoints` is shared while pending, not kept after; a rejected promise is never kept.
 * Owns the sharing only: callers build keys that hold everything the value depends on, and
 * must not mutate what they get (other askers hold the same object).
 */
export class EpochShare<T> {
  private epoch = -Infinity;
  private values = new Map<string, T | Promise<T>>();
  private points = 0;
  private counts = { made: 0, shared: 0 };

  constructor(
    private readonly maxKeys: number,
    private readonly maxPoints: number,
  ) {}

  /** The value of `key` in `epoch` (epochs only grow), made by `make()` if there is none yet. */
  share<V extends T>(
    epoch: number,
    key: string,
    make: () => V | Promise<V>,
    size: (value: V) => number,
  ): V | Promise<V> {
    if (epoch < this.epoch) {
      this.counts.made++;
      return make();
    }
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.values = new Map();
      this.points = 0;
    }
    const found = this.values.get(key) as V | Promise<V> | undefined;
    if (found !== undefined) {
      this.counts.shared++;
      return found;
    }
    this.counts.made++;
    const value = make();
    if (this.values.size >= this.maxKeys) return value;
    const values = this.values;
    values.set(key, value);
    const admit = (made: V) => {
      if (values !== this.values) return; // its epoch is over: already let go
      this.points += size(made);
      if (this.points <= this.maxPoints) return;
      this.points -= size(made);
      values.delete(key);
    };
    if (value instanceof Promise)
      value.then(admit, () => values.get(key) === value && values.delete(key));
    else admit(value);
    return value;
  }

  /** Values made, and asks answered by one already made, since the start. */
  stats(): { made: number; shared: number } {
    return { ...this.counts };
  }
}
