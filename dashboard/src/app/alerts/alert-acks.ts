import { Injectable, inject, signal } from '@angular/core';
import type { AlertEvent } from '@pulse/protocol/core';
import { LiveService } from '../core/live/live.service';

/*
 * Acknowledgements in flight and their refusals, per alert id. Kept here rather than in a row
 * component because the virtual list recycles its rows while the user scrolls: a pending or
 * refused acknowledgement must stay with its alert, not with a DOM node. Sends through
 * LiveService (one `ack` per alert, the gateway's own API); it must not change the alert store.
 */
@Injectable({ providedIn: 'root' })
export class AlertAcks {
  private readonly live = inject(LiveService);
  private readonly _pending = signal<Readonly<Record<string, boolean>>>({});
  private readonly _errors = signal<Readonly<Record<string, string>>>({});
  /** Alert ids with an acknowledgement on its way. */
  readonly pending = this._pending.asReadonly();
  /** Why the last acknowledgement of an alert was refused (cleared on the next try). */
  readonly errors = this._errors.asReadonly();

  async acknowledge(alert: AlertEvent): Promise<void> {
    const id = alert.id;
    if (this._pending()[id]) return;
    this._pending.update((p) => ({ ...p, [id]: true }));
    this._errors.update((e) => without(e, id));
    const outcome = await this.live.acknowledge(id);
    this._pending.update((p) => without(p, id));
    if (!outcome.ok)
      this._errors.update((e) => ({ ...e, [id]: `Not acknowledged: ${outcome.message}` }));
  }
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}
