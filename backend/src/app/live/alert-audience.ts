import { Injectable } from '@nestjs/common';
import type { AlertEvent } from '@pulse/protocol';
import { LiveSessions } from '../auth/live-sessions';
import { groupScope, inScope, Principal } from '../auth/principal';
import { DeviceRegistryService } from '../devices/device-registry.service';

const NONE: readonly string[] = [];

/**
 * Who may see an alert: every socket, except group-scoped ones (wall screens, scoped tokens)
 * when the alert's device is not in one of their groups (a device without a group is outside
 * every scope, as for `subscribe`). Asked once per alert event and once per connect (the
 * `alerts` snapshot), never per reading; it walks only the scoped sockets, which LiveSessions
 * keeps apart. Owns this decision; must not send anything (LiveEmitter does).
 */
@Injectable()
export class AlertAudience {
  constructor(
    private readonly sessions: LiveSessions,
    private readonly registry: DeviceRegistryService,
  ) {}

  /** Ids of the sockets that must not receive an alert of `deviceId`. */
  excluded(deviceId: string): readonly string[] {
    const scoped = this.sessions.scopedSockets();
    if (scoped.size === 0) return NONE;
    const group = this.registry.groupOf(deviceId);
    const out: string[] = [];
    for (const socket of scoped) {
      const principal = socket.data.principal;
      if (principal && !inScope(groupScope(principal), group)) out.push(socket.id);
    }
    return out;
  }

  /** The alerts a principal may see (all of them without a scope). */
  visible(principal: Principal | undefined, alerts: AlertEvent[]): AlertEvent[] {
    const scope = principal ? groupScope(principal) : null;
    if (scope === null) return alerts;
    return alerts.filter((alert) => inScope(scope, this.registry.groupOf(alert.deviceId)));
  }
}
